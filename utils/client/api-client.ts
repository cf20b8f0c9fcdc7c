/**
 * Typed client for the Keyward API (`/api/v1`), used by the extension's background. Calls the
 * endpoints as the table describes them (lib/api/endpoints.ts), sends the Bearer access token,
 * validates every answer with the endpoint's schema, and never throws: each call resolves to
 * `{ ok, data }` or `{ ok: false, error: { code, message } }` (`network` when the service
 * cannot be reached, `invalid_response` when it answers something the contract does not allow).
 */
import { safeParse, type z } from 'zod/mini';
import { type ErrorCode, type Locale, type OfflineRevealReport, type RevealRequest, type StoreKeyRequest } from '../../lib/api/contract.ts';
import { ERROR_ANSWER, userEndpoints, type EndpointAnswer, type EndpointRequest, type EndpointSpec } from '../../lib/api/endpoints.ts';
import { prepareRequest, type AnyEndpointRequest, type PreparedRequest } from '../../lib/api/request.ts';

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

export function createApiClient(options: ApiClientOptions) {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  async function send(request: PreparedRequest, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.locale) headers['accept-language'] = options.locale;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    return doFetch(new URL(request.path, options.baseUrl), {
      method: request.method,
      headers,
      body: request.body,
      credentials: 'omit',
    });
  }

  /** Calls one endpoint of the table with the access token (refreshed once on a 401). */
  async function call<E extends EndpointSpec>(endpoint: E, request: EndpointRequest<E>): Promise<ApiResult<EndpointAnswer<E>>>;
  async function call(endpoint: EndpointSpec, request: AnyEndpointRequest): Promise<ApiResult<unknown>> {
    let response: Response;
    try {
      const prepared = prepareRequest(endpoint, request);
      const token = await options.getAccessToken();
      response = await send(prepared, token);
      if (response.status === 401 && options.refreshAccessToken) {
        const fresh = await options.refreshAccessToken();
        if (fresh) response = await send(prepared, fresh);
      }
    } catch {
      return { ok: false, error: { code: 'network', message: 'The escrow service could not be reached.' } };
    }
    return readResponse(response, endpoint.response.schema);
  }

  const api = userEndpoints;
  return {
    me: () => call(api.me, {}),
    /** Saves the person's language to the account (null: follow the browser). */
    setLocale: (locale: Locale | null) => call(api.setLocale, { body: { locale } }),
    listDevices: (cursor?: string) => call(api.listDevices, { query: { cursor } }),
    getDevice: (deviceId: string) => call(api.getDevice, { params: { id: deviceId } }),
    storeKey: (deviceId: string, request: StoreKeyRequest) => call(api.storeKey, { params: { id: deviceId }, body: request }),
    revealKey: (deviceId: string, request: RevealRequest = {}) => call(api.revealKey, { params: { id: deviceId }, body: request }),
    checkAccess: (deviceId: string) => call(api.checkAccess, { params: { id: deviceId } }),
    reportOfflineReveals: (report: OfflineRevealReport) => call(api.reportOfflineReveals, { body: report }),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** Turns an HTTP answer into an ApiResult, validating success bodies and error bodies alike. */
export async function readResponse<T>(response: Response, schema: z.core.$ZodType<T>): Promise<ApiResult<T>> {
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
    const parsed = safeParse(schema, body ?? {});
    if (parsed.success) return { ok: true, data: parsed.data };
    return { ok: false, error: { code: 'invalid_response', message: 'The escrow service sent an unexpected answer.', status: response.status } };
  }
  const apiError = ERROR_ANSWER.safeParse(body);
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
