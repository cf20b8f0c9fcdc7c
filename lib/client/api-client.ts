/**
 * Typed client for the Keyward API (`/api/v1`, see lib/api/contract.ts), used by the
 * extension's background. Sends the Bearer access token, validates every answer with the
 * contract's zod schemas, and never throws: each call resolves to `{ ok, data }` or
 * `{ ok: false, error: { code, message } }` (`network` when the service cannot be reached,
 * `invalid_response` when it answers something the contract does not allow).
 */
import { z } from 'zod';
import {
  ApiError, AuditList, Device, DeviceList, ErrorCode, Me, OfflineRevealResponse, Operation, RevealedKey, SetLocaleRequest,
  type AuditQuery, type OfflineRevealReport, type RevealRequest, type StoreKeyRequest,
} from '../api/contract.ts';

export type ClientErrorCode = ErrorCode | 'network' | 'invalid_response';
/** `field`: the request field the service named (e.g. `reveals.2.at` for one entry of a report). */
export type ClientError = { code: ClientErrorCode; message: string; status?: number; field?: string };
export type ApiResult<T> = { ok: true; data: T } | { ok: false; error: ClientError };

export type ApiClientOptions = {
  /** Service origin, e.g. `http://127.0.0.1:8787`. */
  baseUrl: string;
  /** The current access token, or null when not signed in. */
  getAccessToken: () => Promise<string | null>;
  /** Called once on a 401 to get a fresh token; returns null when refreshing is impossible. */
  refreshAccessToken?: () => Promise<string | null>;
  locale?: string;
  fetch?: typeof fetch;
};

const Accepted = z.object({}).passthrough();

/** The audit filters (`AuditQuery`), with the cursor and page size as numbers. */
export type AuditListQuery = Omit<AuditQuery, 'before' | 'limit'> & { before?: number; limit?: number };

export function createApiClient(options: ApiClientOptions) {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  async function send(method: string, path: string, body: unknown, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.locale) headers['accept-language'] = options.locale;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return doFetch(new URL(path, options.baseUrl), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
    });
  }

  async function call<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<ApiResult<T>> {
    let response: Response;
    try {
      const token = await options.getAccessToken();
      response = await send(method, path, body, token);
      if (response.status === 401 && options.refreshAccessToken) {
        const fresh = await options.refreshAccessToken();
        if (fresh) response = await send(method, path, body, fresh);
      }
    } catch {
      return { ok: false, error: { code: 'network', message: 'The escrow service could not be reached.' } };
    }
    return readResponse(response, schema);
  }

  return {
    me: () => call('GET', '/api/v1/me', Me),
    /** Saves the person's language to the account (null: follow the browser). */
    setLocale: (locale: SetLocaleRequest['locale']) => call('PUT', '/api/v1/me/locale', SetLocaleRequest, { locale }),
    listDevices: (cursor?: string) =>
      call('GET', cursor ? `/api/v1/devices?cursor=${encodeURIComponent(cursor)}` : '/api/v1/devices', DeviceList),
    getDevice: (deviceId: string) => call('GET', `/api/v1/devices/${encodeURIComponent(deviceId)}`, Device),
    storeKey: (deviceId: string, request: StoreKeyRequest) =>
      call('POST', `/api/v1/devices/${encodeURIComponent(deviceId)}/keys`, Operation, request),
    revealKey: (deviceId: string, request: RevealRequest = {}) =>
      call('POST', `/api/v1/devices/${encodeURIComponent(deviceId)}/reveal`, RevealedKey, request),
    rotateKey: (deviceId: string) => call('POST', `/api/v1/devices/${encodeURIComponent(deviceId)}/rotate`, Operation, {}),
    checkAccess: (deviceId: string) =>
      call('POST', `/api/v1/devices/${encodeURIComponent(deviceId)}/check-access`, Accepted, {}),
    /** One page of audit events; pass the answer's `nextCursor` as `before` for the next one. */
    listAudit: (query: AuditListQuery = {}) => {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(name, String(value));
      const text = params.toString();
      return call('GET', `/api/v1/audit${text ? `?${text}` : ''}`, AuditList);
    },
    reportOfflineReveals: (report: OfflineRevealReport) =>
      call('POST', '/api/v1/audit/offline-reveals', OfflineRevealResponse, report),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** Turns an HTTP answer into an ApiResult, validating success bodies and error bodies alike. */
export async function readResponse<T>(response: Response, schema: z.ZodType<T>): Promise<ApiResult<T>> {
  let body: unknown = null;
  const text = await response.text().catch(() => '');
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (response.ok) {
    const parsed = schema.safeParse(body ?? {});
    if (parsed.success) return { ok: true, data: parsed.data };
    return { ok: false, error: { code: 'invalid_response', message: 'The escrow service sent an unexpected answer.', status: response.status } };
  }
  const apiError = ApiError.safeParse(body);
  if (apiError.success) {
    const { code, message, field } = apiError.data.error;
    return { ok: false, error: { code, message, status: response.status, ...(field ? { field } : {}) } };
  }
  return { ok: false, error: { code: fallbackCode(response.status), message: `The escrow service answered ${response.status}.`, status: response.status } };
}

function fallbackCode(status: number): ClientErrorCode {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  return 'invalid_response';
}
