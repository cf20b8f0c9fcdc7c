/**
 * The OpenAPI 3.1 document (served at `/api/v1/openapi.json`), generated from the endpoint
 * table (lib/api/endpoints.ts) — the same table the routes are mounted from and the clients
 * call through — so it cannot drift from what the service answers. Schemas exported by name
 * from lib/api/contract.ts are components under that name; others are written inline.
 */
import { z } from 'zod';
import * as contract from '../lib/api/contract.ts';
import { endpoints, type AuthKind, type EndpointSpec } from '../lib/api/endpoints.ts';

/** Where the document is served (the one JSON route under `/api/` that is not in the table: it describes the table). */
export const OPENAPI_DOCUMENT_PATH = '/api/v1/openapi.json';

type JsonObject = { [key: string]: unknown };

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

function jsonSchema(schema: z.ZodType): JsonObject {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return json;
}

/** The contract's exported schemas, by the name they are exported under (the first, if one has two). */
function contractSchemaNames(): Map<z.ZodType, string> {
  const names = new Map<z.ZodType, string>();
  for (const [name, value] of Object.entries(contract)) {
    if (value instanceof z.ZodType && !names.has(value)) names.set(value, name);
  }
  return names;
}

function buildDocument(): JsonObject {
  const names = contractSchemaNames();
  const components: Record<string, JsonObject> = {};

  function schemaRef(schema: z.ZodType): JsonObject {
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

  function operation(endpoint: EndpointSpec): JsonObject {
    const params = parameters(endpoint);
    const body = endpoint.body;
    const bodySchema = body ? schemaRef(body.schema) : null;
    const mediaTypes = body?.encoding === 'json-or-form' ? ['application/json', 'application/x-www-form-urlencoded'] : ['application/json'];
    return {
      summary: endpoint.summary,
      ...(params.length > 0 ? { parameters: params } : {}),
      security: SECURITY[endpoint.auth],
      ...(bodySchema ? { requestBody: { required: !body?.optional, content: Object.fromEntries(mediaTypes.map((type) => [type, { schema: bodySchema }])) } } : {}),
      responses: {
        [endpoint.response.status]: { description: 'OK', content: { 'application/json': { schema: schemaRef(endpoint.response.schema) } } },
        '4XX': { description: 'Error (localized message)', content: { 'application/json': { schema: schemaRef(contract.ApiError) } } },
      },
    };
  }

  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const endpoint of endpoints) {
    const path = openApiPath(endpoint.path);
    paths[path] = { ...paths[path], [endpoint.method.toLowerCase()]: operation(endpoint) };
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
