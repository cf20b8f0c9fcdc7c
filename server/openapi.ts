/**
 * The OpenAPI 3.1 document (served at `/api/v1/openapi.json`), generated from the endpoint
 * table (lib/api/endpoints.ts) — the same table the routes are mounted from and the clients
 * call through — so it cannot drift from what the service answers. Schemas exported by name
 * from lib/api/contract.ts are components under that name; others are written inline.
 */
import { z } from 'zod';
import * as contract from '../lib/api/contract.ts';
import { allEndpoints, ERROR_ANSWER, type AuthKind, type EndpointName, type EndpointSpec } from '../lib/api/endpoints.ts';

/** Where the document is served (the one JSON route under `/api/` that is not in the table: it describes the table). */
export const OPENAPI_DOCUMENT_PATH = '/api/v1/openapi.json';

type JsonObject = { [key: string]: unknown };

/** One line per endpoint for readers of the document (kept here, out of the extension's bundle). */
const SUMMARIES: Record<EndpointName, string> = {
  me: 'The signed-in user and organisation',
  setLocale: 'Save the person\'s language for portal and extension; null follows the browser again',
  listDevices: 'Own devices, or with ?cursor= only those changed since an earlier answer; IT: ?scope=all pages through the fleet (after=next) with the console\'s filters',
  getDevice: 'One device',
  storeKey: 'Store a personal recovery key (candidate; the device verifies and rotates it)',
  revealKey: 'Reveal the escrowed key (audited; rate limited)',
  rotateKey: 'Ask the device to rotate the key of a volume (default: its first)',
  checkAccess: 'Ask the device to check in now; answers the device',
  listAudit: 'Audit events, newest first, one page at a time (admins: all; owners: their devices; helpdesk: 403 forbidden). Filters deviceId, actorId, action, from (inclusive), to (exclusive; a date alone includes that day); page on with before=nextCursor; limit up to 200',
  reportOfflineReveals: 'Report reveals done offline from the vault (rate limited). Each entry must be a key version the caller revealed online, at a time between that reveal and now; any other entry refuses the whole report (400 offline_reveal_invalid, field reveals.<index>.<field>)',
  token: 'Token endpoint (form or JSON): authorization_code with code_verifier, or refresh_token',
  enroll: 'Enroll a device with a one-time token',
  checkin: 'Check in; receive tasks',
  escrowPending: 'Escrow a new key as pending before it touches the disk',
  complete: 'Report the outcome of an operation',
  uploadProtectors: 'Upload keys already on the disk (BitLocker protectors)',
  startEscrow: 'Start escrowing a new key of the agent\'s own for a volume (enrollment, repair); the task is handed to the caller',
  verificationKey: 'The escrowed key of a volume, for the device\'s full check (audited as a device verification)',
  reportVerification: 'Whether the escrowed key opened the volume',
};
const summaryOf: Readonly<Record<string, string | undefined>> = SUMMARIES;

const SECURITY: Record<AuthKind, JsonObject[]> = {
  'user-bearer': [{ accessToken: [] }],
  'agent-credential': [{ agentCredential: [] }],
  'enrollment-token': [],
  none: [],
};

const PATH_PARAM = /:([A-Za-z][A-Za-z0-9]*)/g;

/** `/api/v1/devices/:id` → `/api/v1/devices/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(PATH_PARAM, '{$1}');
}

function jsonSchema(schema: z.core.$ZodType): JsonObject {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return json;
}

/** The contract's exported schemas, by the name they are exported under (the first, if one has two). */
function contractSchemaNames(): Map<z.core.$ZodType, string> {
  const names = new Map<z.core.$ZodType, string>();
  for (const [name, value] of Object.entries(contract)) {
    if (value instanceof z.core.$ZodType && !names.has(value)) names.set(value, name);
  }
  return names;
}

function buildDocument(): JsonObject {
  const names = contractSchemaNames();
  const components: Record<string, JsonObject> = {};

  function schemaRef(schema: z.core.$ZodType): JsonObject {
    const name = names.get(schema);
    if (!name) return jsonSchema(schema);
    components[name] ??= jsonSchema(schema);
    return { $ref: `#/components/schemas/${name}` };
  }

  function parameters(endpoint: EndpointSpec): JsonObject[] {
    const inPath = [...endpoint.path.matchAll(PATH_PARAM)].map((match) => ({ name: match[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = endpoint.query ? jsonSchema(endpoint.query) : {};
    const properties = query.properties !== null && typeof query.properties === 'object' ? Object.entries(query.properties) : [];
    const required = Array.isArray(query.required) ? query.required : [];
    const inQuery = properties.map(([name, schema]) => ({ name, in: 'query', required: required.includes(name), schema }));
    return [...inPath, ...inQuery];
  }

  function operation(name: string, endpoint: EndpointSpec): JsonObject {
    const params = parameters(endpoint);
    const body = endpoint.body;
    const bodySchema = body ? schemaRef(body.schema) : null;
    const mediaTypes = body?.encoding === 'json-or-form' ? ['application/json', 'application/x-www-form-urlencoded'] : ['application/json'];
    return {
      summary: summaryOf[name] ?? name,
      ...(params.length > 0 ? { parameters: params } : {}),
      security: SECURITY[endpoint.auth],
      ...(bodySchema ? { requestBody: { required: !body?.optional, content: Object.fromEntries(mediaTypes.map((type) => [type, { schema: bodySchema }])) } } : {}),
      responses: {
        [endpoint.response.status]: { description: 'OK', content: { 'application/json': { schema: schemaRef(endpoint.response.schema) } } },
        '4XX': { description: 'Error (localized message)', content: { 'application/json': { schema: schemaRef(ERROR_ANSWER) } } },
      },
    };
  }

  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const [name, endpoint] of Object.entries(allEndpoints)) {
    const path = openApiPath(endpoint.path);
    paths[path] = { ...paths[path], [endpoint.method.toLowerCase()]: operation(name, endpoint) };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Keyward escrow service', version: '1' },
    components: {
      schemas: components,
      securitySchemes: {
        accessToken: { type: 'http', scheme: 'bearer', description: 'OAuth 2.0 access token (authorization code + PKCE, client keyward-extension)' },
        agentCredential: { type: 'http', scheme: 'bearer', description: 'Per-device agent credential from enrollment' },
      },
    },
    paths,
  };
}

let cached: JsonObject | null = null;

export function openApiDocument(): JsonObject {
  cached ??= buildDocument();
  return cached;
}
