/**
 * HTTP client for the agent API (`/api/v1/agent/*`, lib/api/contract.ts), authenticated with
 * the device credential (Bearer). Network failures, 5xx and 429 answers are retried with
 * exponential backoff and jitter; other 4xx answers fail at once. Request bodies (which may
 * hold keys) never appear in an error message.
 */
import type { z } from 'zod';
import {
  CheckinResponse, EnrollResponse, EscrowPendingResponse,
  type AgentVolumeReport, type AgentTask,
} from '../lib/api/contract.ts';
import type { CompleteOperationRequest, EnrollRequest, EscrowPendingRequest, UploadProtectorsRequest } from '../lib/api/contract.ts';

export type Checkin = { tasks: AgentTask[]; nextCheckinSeconds: number };

/** What the agent needs from the escrow service (the HTTP client below; a fake in tests). */
export type AgentApi = {
  checkin(volumes: AgentVolumeReport[]): Promise<Checkin>;
  escrowPending(operationId: string, body: z.input<typeof EscrowPendingRequest>): Promise<{ keyVersionId: string }>;
  complete(operationId: string, body: z.input<typeof CompleteOperationRequest>): Promise<void>;
  uploadProtectors(body: z.input<typeof UploadProtectorsRequest>): Promise<void>;
};

export type RetryPolicy = { attempts: number; baseDelayMs: number; maxDelayMs: number };
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 250, maxDelayMs: 8_000 };

/** The service answered with an error (`{error:{code,message}}`) that retrying will not fix. */
export class AgentApiError extends Error {
  override name = 'AgentApiError';
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The service could not be reached (or kept failing) after every retry. */
export class AgentNetworkError extends Error {
  override name = 'AgentNetworkError';
}

type Call = { serverUrl: string; path: string; body: unknown; credential?: string; retry?: RetryPolicy };

async function postJson(call: Call): Promise<unknown> {
  const retry = call.retry ?? DEFAULT_RETRY;
  const url = new URL(`/api/v1/agent/${call.path}`, call.serverUrl).toString();
  let lastProblem = '';
  for (let attempt = 0; attempt < retry.attempts; attempt++) {
    if (attempt > 0) await sleep(backoffMs(retry, attempt));
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(call.credential ? { authorization: `Bearer ${call.credential}` } : {}),
        },
        body: JSON.stringify(call.body),
      });
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : 'network error';
      continue;
    }
    const text = await response.text();
    if (response.ok) return text === '' ? null : (JSON.parse(text) as unknown);
    if (response.status >= 500 || response.status === 429) {
      lastProblem = `HTTP ${response.status}`;
      continue;
    }
    const { code, message } = errorOf(text);
    throw new AgentApiError(response.status, code, `POST ${call.path}: ${response.status} ${code}: ${message}`);
  }
  throw new AgentNetworkError(`POST ${call.path}: service unreachable after ${retry.attempts} attempts (${lastProblem})`);
}

function errorOf(text: string): { code: string; message: string } {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    return { code: String(body.error?.code ?? 'unknown'), message: String(body.error?.message ?? '') };
  } catch {
    return { code: 'unknown', message: '' };
  }
}

export function backoffMs(retry: RetryPolicy, attempt: number): number {
  const exp = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  return exp / 2 + Math.random() * (exp / 2);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function enrollDevice(serverUrl: string, request: z.input<typeof EnrollRequest>, retry?: RetryPolicy): Promise<{ deviceId: string; credential: string }> {
  return EnrollResponse.parse(await postJson({ serverUrl, path: 'enroll', body: request, retry }));
}

export function httpAgentApi(options: { serverUrl: string; credential: string; retry?: RetryPolicy }): AgentApi {
  const call = (path: string, body: unknown) => postJson({ ...options, path, body });
  return {
    async checkin(volumes) {
      return CheckinResponse.parse(await call('checkin', { volumes }));
    },
    async escrowPending(operationId, body) {
      return EscrowPendingResponse.parse(await call(`operations/${encodeURIComponent(operationId)}/escrow`, body));
    },
    async complete(operationId, body) {
      await call(`operations/${encodeURIComponent(operationId)}/complete`, body);
    },
    async uploadProtectors(body) {
      await call('protectors', body);
    },
  };
}
