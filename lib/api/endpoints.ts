/**
 * Every JSON endpoint the extension and the device agent use, described once: method, path,
 * how the caller proves who it is, the request body and query, and the answer (schemas from
 * contract.ts; every error answer is `ERROR_ANSWER`). The service mounts its routes from this
 * table (server/http/endpoint-route.ts), both clients call through it (lib/api/request.ts),
 * and the OpenAPI document is generated from it (server/openapi.ts).
 */
import type { z } from 'zod/mini';
import {
  AgentTask, ApiError, AuditList, AuditQuery, CheckinRequest, CheckinResponse, CompleteOperationRequest, CompleteOperationResponse, Device, DeviceList,
  DeviceListQuery, EnrollRequest, EnrollResponse, EscrowPendingRequest, EscrowPendingResponse, Me, OfflineRevealReport, OfflineRevealResponse,
  Operation, RevealedKey, RevealRequest, RotateRequest, SetLocaleRequest, StartEscrowRequest, StoreKeyRequest, TokenRequest, TokenResponse,
  UploadProtectorsRequest, UploadProtectorsResponse, VerificationKeyRequest, VerificationKeyResponse, VerificationResultRequest,
  VerificationResultResponse,
} from './contract.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT';

/**
 * How the caller proves who it is: a person's OAuth access token (Bearer), the device's agent
 * credential (Bearer), a one-time enrollment token inside the body, or nothing beyond the
 * body itself (the token endpoint, where the grant is the proof).
 */
export type AuthKind = 'user-bearer' | 'agent-credential' | 'enrollment-token' | 'none';

export type BodySpec = {
  readonly schema: z.core.$ZodType;
  /** An empty body is read as `{}`. */
  readonly optional?: boolean;
  /** `json-or-form` also takes `application/x-www-form-urlencoded` (the OAuth token endpoint). */
  readonly encoding?: 'json' | 'json-or-form';
};

export type EndpointSpec = {
  readonly method: HttpMethod;
  /** The full path; `:name` marks a path parameter. */
  readonly path: `/${string}`;
  readonly auth: AuthKind;
  readonly body?: BodySpec;
  /** Query parameters; each is text, a repeated one is refused, an empty one counts as absent. */
  readonly query?: z.core.$ZodObject;
  readonly response: { readonly status: 200 | 201 | 202; readonly schema: z.core.$ZodType };
};

/** Keeps the literal path and the exact schemas in the endpoint's type. */
export function defineEndpoint<const E extends EndpointSpec>(endpoint: E): E {
  return endpoint;
}

/** `'/a/:id/b/:op'` → `'id' | 'op'`. */
export type PathParamName<Path extends string> = Path extends `${string}/:${infer Name}/${infer Rest}`
  ? Name | PathParamName<`/${Rest}`>
  : Path extends `${string}/:${infer Name}`
    ? Name
    : never;

export type PathParams<E extends EndpointSpec> = { readonly [Name in PathParamName<E['path']>]: string };

/** What a client gives to call the endpoint: path parameters, body and query, each only when the endpoint has them. */
export type EndpointRequest<E extends EndpointSpec> = ([PathParamName<E['path']>] extends [never] ? { params?: undefined } : { params: PathParams<E> })
  & (E['body'] extends BodySpec ? { body: z.input<E['body']['schema']> } : { body?: undefined })
  & (E['query'] extends z.core.$ZodObject ? { query?: z.input<E['query']> } : { query?: undefined });

/** The answer as a client has it after validation. */
export type EndpointAnswer<E extends EndpointSpec> = z.output<E['response']['schema']>;

/** The answer as the service sends it (what the schema accepts). */
export type EndpointReply<E extends EndpointSpec> = z.input<E['response']['schema']>;

/** The body as a handler has it after validation. */
export type ValidBody<E extends EndpointSpec> = E['body'] extends BodySpec ? z.output<E['body']['schema']> : undefined;

/** The query as a handler has it after validation. */
export type ValidQuery<E extends EndpointSpec> = E['query'] extends z.core.$ZodObject ? z.output<E['query']> : undefined;

/** Every endpoint's error answer (4xx, 5xx): `{ error: { code, message, field? } }`, the message in the caller's language. */
export const ERROR_ANSWER = ApiError;

const API = '/api/v1';
const AGENT_API = '/api/v1/agent';

/** The extension's endpoints (a person signed in with OAuth). */
export const userEndpoints = {
  me: defineEndpoint({
    method: 'GET', path: `${API}/me`, auth: 'user-bearer',
    response: { status: 200, schema: Me },
  }),
  setLocale: defineEndpoint({
    method: 'PUT', path: `${API}/me/locale`, auth: 'user-bearer',
    body: { schema: SetLocaleRequest },
    response: { status: 200, schema: SetLocaleRequest },
  }),
  listDevices: defineEndpoint({
    method: 'GET', path: `${API}/devices`, auth: 'user-bearer',
    query: DeviceListQuery,
    response: { status: 200, schema: DeviceList },
  }),
  getDevice: defineEndpoint({
    method: 'GET', path: `${API}/devices/:id`, auth: 'user-bearer',
    response: { status: 200, schema: Device },
  }),
  storeKey: defineEndpoint({
    method: 'POST', path: `${API}/devices/:id/keys`, auth: 'user-bearer',
    body: { schema: StoreKeyRequest },
    response: { status: 202, schema: Operation },
  }),
  revealKey: defineEndpoint({
    method: 'POST', path: `${API}/devices/:id/reveal`, auth: 'user-bearer',
    body: { schema: RevealRequest, optional: true },
    response: { status: 200, schema: RevealedKey },
  }),
  rotateKey: defineEndpoint({
    method: 'POST', path: `${API}/devices/:id/rotate`, auth: 'user-bearer',
    body: { schema: RotateRequest, optional: true },
    response: { status: 202, schema: Operation },
  }),
  checkAccess: defineEndpoint({
    method: 'POST', path: `${API}/devices/:id/check-access`, auth: 'user-bearer',
    response: { status: 202, schema: Device },
  }),
  listAudit: defineEndpoint({
    method: 'GET', path: `${API}/audit`, auth: 'user-bearer',
    query: AuditQuery,
    response: { status: 200, schema: AuditList },
  }),
  reportOfflineReveals: defineEndpoint({
    method: 'POST', path: `${API}/audit/offline-reveals`, auth: 'user-bearer',
    body: { schema: OfflineRevealReport },
    response: { status: 200, schema: OfflineRevealResponse },
  }),
} as const;

/** The OAuth token endpoint (sign-in and refresh of the extension). */
export const oauthEndpoints = {
  token: defineEndpoint({
    method: 'POST', path: '/oauth/token', auth: 'none',
    body: { schema: TokenRequest, encoding: 'json-or-form' },
    response: { status: 200, schema: TokenResponse },
  }),
} as const;

/** The device agent's endpoints. */
export const agentEndpoints = {
  enroll: defineEndpoint({
    method: 'POST', path: `${AGENT_API}/enroll`, auth: 'enrollment-token',
    body: { schema: EnrollRequest },
    response: { status: 201, schema: EnrollResponse },
  }),
  checkin: defineEndpoint({
    method: 'POST', path: `${AGENT_API}/checkin`, auth: 'agent-credential',
    body: { schema: CheckinRequest, optional: true },
    response: { status: 200, schema: CheckinResponse },
  }),
  escrowPending: defineEndpoint({
    method: 'POST', path: `${AGENT_API}/operations/:id/escrow`, auth: 'agent-credential',
    body: { schema: EscrowPendingRequest },
    response: { status: 201, schema: EscrowPendingResponse },
  }),
  complete: defineEndpoint({
    method: 'POST', path: `${AGENT_API}/operations/:id/complete`, auth: 'agent-credential',
    body: { schema: CompleteOperationRequest },
    response: { status: 200, schema: CompleteOperationResponse },
  }),
  uploadProtectors: defineEndpoint({
    method: 'POST', path: `${AGENT_API}/protectors`, auth: 'agent-credential',
    body: { schema: UploadProtectorsRequest },
    response: { status: 200, schema: UploadProtectorsResponse },
  }),
  startEscrow: defineEndpoint({
    method: 'POST', path: `${AGENT_API}/operations`, auth: 'agent-credential',
    body: { schema: StartEscrowRequest },
    response: { status: 201, schema: AgentTask },
  }),
  verificationKey: defineEndpoint({
    method: 'POST', path: `${AGENT_API}/verification/key`, auth: 'agent-credential',
    body: { schema: VerificationKeyRequest },
    response: { status: 200, schema: VerificationKeyResponse },
  }),
  reportVerification: defineEndpoint({
    method: 'POST', path: `${AGENT_API}/verification/result`, auth: 'agent-credential',
    body: { schema: VerificationResultRequest },
    response: { status: 200, schema: VerificationResultResponse },
  }),
} as const;

/** The whole table, by name. */
export const allEndpoints = { ...userEndpoints, ...oauthEndpoints, ...agentEndpoints } as const;
export type EndpointName = keyof typeof allEndpoints;

export const endpoints: readonly EndpointSpec[] = Object.values(allEndpoints);

/**
 * The JSON API's paths: everything under `/api/` and the token endpoint. Every route there is
 * in the table, except the OpenAPI document that describes it; portal pages and assets are elsewhere.
 */
export function isJsonApiPath(path: string): boolean {
  return path.startsWith('/api/') || path === '/oauth/token';
}
