/**
 * The OpenAPI 3.1 document for `/api/v1` (served at `/api/v1/openapi.json`), generated from
 * the contract's zod schemas so it cannot drift from what the service validates.
 */
import { z } from 'zod';
import {
  ApiError, AuditList, AuditQuery, CheckinRequest, CheckinResponse, CompleteOperationRequest, Device, DeviceList, EnrollRequest, EnrollResponse,
  EscrowPendingRequest, EscrowPendingResponse, Me, OfflineRevealReport, OfflineRevealResponse, Operation, RevealedKey, RevealRequest,
  StoreKeyRequest, TokenResponse, UploadProtectorsRequest,
  AgentTask, StartEscrowRequest, VerificationKeyRequest, VerificationKeyResponse, VerificationResultRequest, SetLocaleRequest,
} from '../lib/api/contract.ts';

const schemas = {
  ApiError, AuditList, AuditQuery, CheckinRequest, CheckinResponse, CompleteOperationRequest, Device, DeviceList, EnrollRequest, EnrollResponse,
  EscrowPendingRequest, EscrowPendingResponse, Me, OfflineRevealReport, OfflineRevealResponse, Operation, RevealedKey, RevealRequest,
  StoreKeyRequest, TokenResponse, UploadProtectorsRequest,
  AgentTask, StartEscrowRequest, VerificationKeyRequest, VerificationKeyResponse, VerificationResultRequest, SetLocaleRequest,
};
type SchemaName = keyof typeof schemas;

function ref(name: SchemaName) {
  return { $ref: `#/components/schemas/${name}` };
}

/** Query parameters described by a zod object (each optional one as `required: false`). */
function queryParameters(schema: z.ZodObject) {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({ name, in: 'query', required: json.required?.includes(name) ?? false, schema: property }));
}

function op(summary: string, auth: 'user' | 'agent' | 'none', ok: { status: number; schema: SchemaName | null }, body?: SchemaName, query?: z.ZodObject) {
  return {
    summary,
    ...(query ? { parameters: queryParameters(query) } : {}),
    ...(auth === 'none' ? { security: [] } : { security: [{ [auth === 'user' ? 'accessToken' : 'agentCredential']: [] }] }),
    ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: ref(body) } } } } : {}),
    responses: {
      [ok.status]: { description: 'OK', ...(ok.schema ? { content: { 'application/json': { schema: ref(ok.schema) } } } : {}) },
      '4XX': { description: 'Error (localized message)', content: { 'application/json': { schema: ref('ApiError') } } },
    },
  };
}

let cached: unknown = null;

export function openApiDocument(): unknown {
  if (cached) return cached;
  const components = Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => {
      const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
      return [name, json];
    }),
  );
  cached = {
    openapi: '3.1.0',
    info: { title: 'Keyward escrow service', version: '1' },
    components: {
      schemas: components,
      securitySchemes: {
        accessToken: { type: 'http', scheme: 'bearer', description: 'OAuth 2.0 access token (authorization code + PKCE, client keyward-extension)' },
        agentCredential: { type: 'http', scheme: 'bearer', description: 'Per-device agent credential from enrollment' },
      },
    },
    paths: {
      '/api/v1/me': { get: op('The signed-in user and organisation', 'user', { status: 200, schema: 'Me' }) },
      '/api/v1/me/locale': { put: op('Save the language picked in the extension (null: follow the browser); the portal uses it too', 'user', { status: 200, schema: 'SetLocaleRequest' }, 'SetLocaleRequest') },
      '/api/v1/devices': { get: op('Own devices (IT: ?scope=all); ?cursor= for changes since an earlier answer', 'user', { status: 200, schema: 'DeviceList' }) },
      '/api/v1/devices/{id}': { get: op('One device', 'user', { status: 200, schema: 'Device' }) },
      '/api/v1/devices/{id}/keys': { post: op('Store a personal recovery key (candidate; the device verifies and rotates it)', 'user', { status: 202, schema: 'Operation' }, 'StoreKeyRequest') },
      '/api/v1/devices/{id}/reveal': { post: op('Reveal the escrowed key (audited)', 'user', { status: 200, schema: 'RevealedKey' }, 'RevealRequest') },
      '/api/v1/devices/{id}/rotate': { post: op('Ask the device to rotate its key', 'user', { status: 202, schema: 'Operation' }) },
      '/api/v1/devices/{id}/check-access': { post: op('Ask the device to check in now', 'user', { status: 202, schema: 'Device' }) },
      '/api/v1/audit': {
        get: op(
          'Audit events, newest first, one page at a time (admins: all; owners: their devices; helpdesk: 403 forbidden). Filters deviceId, actorId, action, from (inclusive), to (exclusive; a date alone includes that day); page on with before=nextCursor; limit up to 200',
          'user', { status: 200, schema: 'AuditList' }, undefined, AuditQuery,
        ),
      },
      '/api/v1/audit/offline-reveals': {
        post: op(
          'Report reveals done offline from the vault (rate limited). Each entry must be a key version the caller revealed online, at a time between that reveal and now; any other entry refuses the whole report (400 offline_reveal_invalid, field reveals.<index>.<field>)',
          'user', { status: 200, schema: 'OfflineRevealResponse' }, 'OfflineRevealReport',
        ),
      },
      '/oauth/token': { post: op('Token endpoint (form or JSON): authorization_code with code_verifier, or refresh_token', 'none', { status: 200, schema: 'TokenResponse' }) },
      '/api/v1/agent/enroll': { post: op('Enroll a device with a one-time token', 'none', { status: 201, schema: 'EnrollResponse' }, 'EnrollRequest') },
      '/api/v1/agent/checkin': { post: op('Check in; receive tasks', 'agent', { status: 200, schema: 'CheckinResponse' }, 'CheckinRequest') },
      '/api/v1/agent/operations/{id}/escrow': { post: op('Escrow a new key as pending before it touches the disk', 'agent', { status: 201, schema: 'EscrowPendingResponse' }, 'EscrowPendingRequest') },
      '/api/v1/agent/operations/{id}/complete': { post: op('Report the outcome of an operation', 'agent', { status: 200, schema: null }, 'CompleteOperationRequest') },
      '/api/v1/agent/protectors': { post: op('Upload keys already on the disk (BitLocker protectors)', 'agent', { status: 200, schema: null }, 'UploadProtectorsRequest') },
      '/api/v1/agent/operations': { post: op('Start escrowing a new key of the agent\'s own for a volume (enrollment, repair); the task is handed to the caller', 'agent', { status: 201, schema: 'AgentTask' }, 'StartEscrowRequest') },
      '/api/v1/agent/verification/key': { post: op('The escrowed key of a volume, for the device\'s full check (audited as a device verification)', 'agent', { status: 200, schema: 'VerificationKeyResponse' }, 'VerificationKeyRequest') },
      '/api/v1/agent/verification/result': { post: op('Whether the escrowed key opened the volume', 'agent', { status: 200, schema: null }, 'VerificationResultRequest') },
    },
  };
  return cached;
}
