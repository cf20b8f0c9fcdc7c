/**
 * HTTP client for the agent API (`/api/v1/agent/*`), calling the endpoints as the table
 * describes them (lib/api/endpoints.ts) and checking every answer against it; authenticated
 * with the device credential (Bearer). Network failures, 5xx and 429 answers are retried with
 * exponential backoff and jitter; other 4xx answers fail at once with the service's own
 * (localized) message. Errors name the service's address and what went wrong, never a request
 * body (which may hold keys) or the credential. A new credential the service hands out at
 * check-in (automatic rotation) is stored through `onNewCredential` and used from then on.
 */
import { safeParse, type z } from 'zod/mini';
import type { AgentVolumeReport, AgentTask } from '../lib/api/contract.ts';
import type {
  CompleteOperationRequest, EnrollRequest, EscrowPendingRequest, StartEscrowRequest, UploadProtectorsRequest, VerificationResultRequest,
} from '../lib/api/contract.ts';
import { agentEndpoints, type EndpointAnswer, type EndpointRequest, type EndpointSpec } from '../lib/api/endpoints.ts';
import { prepareRequest, type AnyEndpointRequest } from '../lib/api/request.ts';

export type Checkin = { tasks: AgentTask[]; nextCheckinSeconds: number; verifyVolumes: string[] };

/** What the agent needs from the escrow service (the HTTP client below; a fake in tests). */
export type AgentApi = {
  /**
   * `inHand`: operations this agent is still working on (the others handed to it are lost).
   * `serialNumber`: the machine's hardware serial, when it could be read.
   */
  checkin(volumes: AgentVolumeReport[], inHand?: string[], serialNumber?: string): Promise<Checkin>;
  escrowPending(operationId: string, body: z.input<typeof EscrowPendingRequest>): Promise<{ keyVersionId: string }>;
  complete(operationId: string, body: z.input<typeof CompleteOperationRequest>): Promise<void>;
  uploadProtectors(body: z.input<typeof UploadProtectorsRequest>): Promise<void>;
  /** An operation of the agent's own: escrow a new key for a volume (enrollment, repair). */
  startEscrow(body: z.input<typeof StartEscrowRequest>): Promise<AgentTask>;
  /** The active escrowed key of a volume, for the full check (audited by the service). */
  verificationKey(volumeRef: string): Promise<{ keyVersionId: string; key: string }>;
  reportVerification(body: z.input<typeof VerificationResultRequest>): Promise<void>;
};

export type RetryPolicy = { attempts: number; baseDelayMs: number; maxDelayMs: number };
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 250, maxDelayMs: 8_000 };

/** The service answered with an error (`{error:{code,message}}`) that retrying will not fix. */
export class AgentApiError extends Error {
  override name = 'AgentApiError';
  readonly status: number;
  readonly code: string;
  /** The service's own words (in the language asked for), without the request details. */
  readonly serviceMessage: string;
  constructor(status: number, code: string, message: string, serviceMessage = '') {
    super(message);
    this.status = status;
    this.code = code;
    this.serviceMessage = serviceMessage;
  }

  /** The device credential is no longer accepted (revoked, expired, device retired): retrying cannot help. */
  get credentialRefused(): boolean {
    return this.status === 401;
  }
}

/** The service could not be reached (or kept failing) after every retry. */
export class AgentNetworkError extends Error {
  override name = 'AgentNetworkError';
}

/** The service answered success with something the contract does not allow. */
export class AgentAnswerError extends Error {
  override name = 'AgentAnswerError';
}

type Connection = { serverUrl: string; credential?: string; retry?: RetryPolicy };

/** How errors name a request: its path under the agent API (`POST checkin`), never its body. */
function requestLabel(method: string, path: string): string {
  const agentPrefix = '/api/v1/agent/';
  return `${method} ${path.startsWith(agentPrefix) ? path.slice(agentPrefix.length) : path}`;
}

/** Calls one endpoint of the table; network failures, 5xx and 429 are retried, other refusals thrown as `AgentApiError`. */
async function callEndpoint<E extends EndpointSpec>(connection: Connection, endpoint: E, request: EndpointRequest<E>): Promise<EndpointAnswer<E>>;
async function callEndpoint(connection: Connection, endpoint: EndpointSpec, request: AnyEndpointRequest): Promise<unknown> {
  const retry = connection.retry ?? DEFAULT_RETRY;
  const prepared = prepareRequest(endpoint, request);
  const url = new URL(prepared.path, connection.serverUrl);
  const where = url.origin;
  const label = requestLabel(prepared.method, url.pathname);
  let lastProblem = '';
  let serverErrors = 0;
  for (let attempt = 0; attempt < retry.attempts; attempt++) {
    if (attempt > 0) await sleep(backoffMs(retry, attempt));
    let response: Response;
    try {
      response = await fetch(url, {
        method: prepared.method,
        headers: {
          ...(prepared.body === undefined ? {} : { 'content-type': 'application/json' }),
          accept: 'application/json',
          ...(connection.credential ? { authorization: `Bearer ${connection.credential}` } : {}),
        },
        body: prepared.body,
      });
    } catch (error) {
      lastProblem = networkProblem(error);
      continue;
    }
    const text = await response.text();
    if (response.ok) return answerOf(endpoint, response.status, text, where, label);
    if (response.status >= 500 || response.status === 429) {
      serverErrors += 1;
      lastProblem = response.status === 429 ? 'HTTP 429 (too many requests)' : `HTTP ${response.status} (a server error)`;
      continue;
    }
    const { code, message } = errorOf(text);
    throw new AgentApiError(response.status, code, `the Keyward service at ${where} refused ${label}: ${message || code} (HTTP ${response.status}, ${code})`, message);
  }
  if (serverErrors > 0) {
    throw new AgentNetworkError(`the Keyward service at ${where} answered ${label} with ${lastProblem}, ${retry.attempts} attempts in a row; it is running but failing: try again later, or ask IT to check the service's log`);
  }
  throw new AgentNetworkError(`cannot reach the Keyward service at ${where} (${lastProblem}) after ${retry.attempts} attempts; check the address and the network`);
}

/**
 * A success answer checked against the endpoint's schema. One that does not fit is not a
 * refusal (the request may have been carried out), so it is an `AgentAnswerError`, whose
 * message never repeats the answer (it may hold a key).
 */
function answerOf(endpoint: EndpointSpec, status: number, text: string, where: string, label: string): unknown {
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const parsed = body === undefined ? null : safeParse(endpoint.response.schema, body ?? {});
  if (parsed?.success) return parsed.data;
  throw new AgentAnswerError(`the Keyward service at ${where} answered ${label} (HTTP ${status}) with something this agent does not understand; is it a Keyward service of a matching version?`);
}

/** Node's fetch says only "fetch failed"; the reason (refused, unknown host, TLS) is in its cause. */
function networkProblem(error: unknown): string {
  if (!(error instanceof Error)) return 'network error';
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    const known: Record<string, string> = {
      ECONNREFUSED: 'connection refused: nothing listens there',
      ENOTFOUND: 'unknown host name',
      EAI_AGAIN: 'the host name could not be looked up',
      ECONNRESET: 'the connection was reset',
      ETIMEDOUT: 'the connection timed out',
      UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
      UND_ERR_SOCKET: 'the connection was closed',
      CERT_HAS_EXPIRED: 'the TLS certificate has expired',
      DEPTH_ZERO_SELF_SIGNED_CERT: 'the TLS certificate is self-signed',
      UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the TLS certificate cannot be verified',
    };
    return (code && known[code]) ?? cause.message;
  }
  return error.message;
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
  return callEndpoint({ serverUrl, retry }, agentEndpoints.enroll, { body: request });
}

export type HttpAgentApiOptions = {
  serverUrl: string;
  credential: string;
  retry?: RetryPolicy;
  /** Stores a rotated credential durably; called before it is used. */
  onNewCredential?: (credential: string) => void;
};

export function httpAgentApi(options: HttpAgentApiOptions): AgentApi {
  let credential = options.credential;
  const connection = (): Connection => ({ serverUrl: options.serverUrl, retry: options.retry, credential });
  const api = agentEndpoints;
  return {
    async checkin(volumes, inHand, serialNumber) {
      const answer = await callEndpoint(connection(), api.checkin, { body: { volumes, ...(inHand ? { inHand } : {}), ...(serialNumber ? { serialNumber } : {}) } });
      if (answer.credential) {
        // Saved first: if the agent dies now, the old credential still works until the new one is used.
        options.onNewCredential?.(answer.credential);
        credential = answer.credential;
      }
      return { tasks: answer.tasks, nextCheckinSeconds: answer.nextCheckinSeconds, verifyVolumes: answer.verifyVolumes };
    },
    async escrowPending(operationId, body) {
      return callEndpoint(connection(), api.escrowPending, { params: { id: operationId }, body });
    },
    async complete(operationId, body) {
      await callEndpoint(connection(), api.complete, { params: { id: operationId }, body });
    },
    async uploadProtectors(body) {
      await callEndpoint(connection(), api.uploadProtectors, { body });
    },
    async startEscrow(body) {
      return callEndpoint(connection(), api.startEscrow, { body });
    },
    async verificationKey(volumeRef) {
      return callEndpoint(connection(), api.verificationKey, { body: { volumeRef } });
    },
    async reportVerification(body) {
      await callEndpoint(connection(), api.reportVerification, { body });
    },
  };
}
