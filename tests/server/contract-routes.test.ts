/**
 * The endpoint table (lib/api/endpoints.ts) and the service agree: every JSON route the app
 * answers under `/api/` or at `/oauth/token` is in the table (only the OpenAPI document, which
 * describes the table, is not), every endpoint of the table is mounted, the OpenAPI document
 * lists exactly the table's endpoints, and each endpoint answers with the table's status and a
 * body its schema accepts — requests built by the clients' own request builder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agentEndpoints, endpoints, isJsonApiPath, oauthEndpoints, userEndpoints, type EndpointAnswer, type EndpointRequest, type EndpointSpec } from '../../lib/api/endpoints.ts';
import { prepareRequest, type AnyEndpointRequest } from '../../lib/api/request.ts';
import { DeviceListQuery } from '../../lib/api/contract.ts';
import { EXTENSION_CLIENT_ID } from '../../server/auth/oauth.ts';
import { DirectoryQuery } from '../../server/services/device-directory.ts';
import { OPENAPI_DOCUMENT_PATH, openApiPath } from '../../server/openapi.ts';
import { createEnrollmentToken } from '../../server/services/agent-enroll.ts';
import { call, createHarness, enrollMac, FV_KEY_1, FV_KEY_2, FV_KEY_3, tokensFor, type Harness } from './harness.ts';

const routeKey = (method: string, path: string) => `${method.toUpperCase()} ${path}`;
const tableRoutes = new Set(endpoints.map((e) => routeKey(e.method, e.path)));

/** The app's routes under the JSON API prefixes. Middleware (`use`) is listed with method ALL: not a route. */
function jsonApiRoutes(h: Harness): Set<string> {
  return new Set(h.app.routes.filter((r) => isJsonApiPath(r.path) && r.method !== 'ALL').map((r) => routeKey(r.method, r.path)));
}

describe('the endpoint table\'s queries', () => {
  it('GET /api/v1/devices?scope=all passes on every filter of the console\'s device directory', () => {
    expect(Object.keys(DirectoryQuery.shape).filter((name) => !(name in DeviceListQuery.shape))).toEqual([]);
  });
});

describe.each(['sqlite', 'postgres'] as const)('the endpoint table and the service (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Calls an endpoint as the clients do; the answer must have the table's status and fit its schema. */
  async function send<E extends EndpointSpec>(endpoint: E, request: EndpointRequest<E>, token: string | null): Promise<EndpointAnswer<E>>;
  async function send(endpoint: EndpointSpec, request: AnyEndpointRequest, token: string | null): Promise<unknown> {
    const prepared = prepareRequest(endpoint, request);
    const res = await call(h.app, prepared.method, prepared.path, token, prepared.body);
    expect(res.status, `${prepared.method} ${prepared.path}: ${JSON.stringify(res.body.error ?? '')}`).toBe(endpoint.response.status);
    const parsed = z.safeParse(endpoint.response.schema, res.body);
    expect(parsed.error?.issues ?? [], `${prepared.method} ${prepared.path}`).toEqual([]);
    return parsed.data;
  }

  it('every JSON API route the app answers is described in the table', () => {
    const undescribed = [...jsonApiRoutes(h)].filter((route) => !tableRoutes.has(route));
    expect(undescribed).toEqual([routeKey('GET', OPENAPI_DOCUMENT_PATH)]);
  });

  it('what is registered there for any method is middleware only: it answers no method of its own', async () => {
    const anyMethod = [...new Set(h.app.routes.filter((r) => isJsonApiPath(r.path) && r.method === 'ALL').map((r) => r.path))];
    expect(anyMethod.length).toBeGreaterThan(0);
    for (const path of anyMethod) {
      const res = await call(h.app, 'PUT', path.replace('*', 'anything'), h.people.admin.token, {});
      expect(res.status, `PUT ${path}`).toBe(404);
    }
  });

  it('every endpoint of the table is mounted, with its method', () => {
    const mounted = jsonApiRoutes(h);
    expect([...tableRoutes].filter((route) => !mounted.has(route))).toEqual([]);
  });

  it('the OpenAPI document lists exactly the table\'s endpoints', async () => {
    const res = await call(h.app, 'GET', OPENAPI_DOCUMENT_PATH, null);
    const doc = res.body as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => routeKey(method, path)));
    expect(documented.sort()).toEqual(endpoints.map((e) => routeKey(e.method, openApiPath(e.path))).sort());
  });

  it('each endpoint answers with the table\'s status and a body its schema accepts', async () => {
    const { owner, admin } = h.people;
    const user = userEndpoints;
    const agent = agentEndpoints;

    const enrollmentToken = await createEnrollmentToken(h.deps, { ownerId: owner.id, ownership: 'personal', label: 'contract' });
    const enrolled = await send(agent.enroll, {
      body: { token: enrollmentToken, name: 'Contract Mac', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD', encrypted: true }] },
    }, null);
    const device = enrolled.credential;
    const checkin = await send(agent.checkin, { body: { volumes: [{ ref: 'disk1s1', name: 'Macintosh HD', encrypted: true }] } }, device);
    expect(checkin.tasks).toEqual([]);
    expect((await send(agent.uploadProtectors, { body: { volumeRef: 'disk1s1', protectors: [{ protectorId: '', key: FV_KEY_1 }] } }, device)).stored).toBe(1);
    const task = await send(agent.startEscrow, { body: { volumeRef: 'disk1s1', purpose: 'repair' } }, device);
    const pending = await send(agent.escrowPending, { params: { id: task.operationId }, body: { key: FV_KEY_2 } }, device);
    await send(agent.complete, { params: { id: task.operationId }, body: { result: 'ok', keyVersionId: pending.keyVersionId } }, device);
    const escrowed = await send(agent.verificationKey, { body: { volumeRef: 'disk1s1' } }, device);
    await send(agent.reportVerification, { body: { volumeRef: 'disk1s1', keyVersionId: escrowed.keyVersionId, works: true } }, device);

    expect((await send(user.me, {}, owner.token)).user.id).toBe(owner.id);
    expect((await send(user.listDevices, {}, owner.token)).devices.map((d) => d.id)).toContain(enrolled.deviceId);
    expect((await send(user.listDevices, { query: { scope: 'all', limit: '10' } }, admin.token)).devices.length).toBeGreaterThan(0);
    expect((await send(user.getDevice, { params: { id: enrolled.deviceId } }, owner.token)).keyStatus).toBe('escrowed');
    const revealed = await send(user.revealKey, { params: { id: enrolled.deviceId }, body: {} }, owner.token);
    await send(user.reportOfflineReveals, {
      body: { reveals: [{ deviceId: revealed.deviceId, volumeId: revealed.volumeId, version: revealed.version, at: revealed.revealedAt, idempotencyKey: 'contract-offline-1' }] },
    }, owner.token);
    expect((await send(user.checkAccess, { params: { id: enrolled.deviceId } }, owner.token)).id).toBe(enrolled.deviceId);
    expect((await send(user.listAudit, { query: { deviceId: enrolled.deviceId, limit: '5' } }, owner.token)).events.length).toBe(5);
    expect((await send(user.rotateKey, { params: { id: enrolled.deviceId }, body: {} }, owner.token)).kind).toBe('rotate');

    const other = await enrollMac(h, 'personal');
    expect((await send(user.storeKey, { params: { id: other.deviceId }, body: { key: FV_KEY_3, confirmKey: FV_KEY_3 } }, owner.token)).kind).toBe('verify-and-rotate');

    const tokens = await tokensFor(h.app, h.deps, owner.id);
    const refreshed = await send(oauthEndpoints.token, { body: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: EXTENSION_CLIENT_ID } }, null);
    expect(refreshed.token_type).toBe('Bearer');
  });
});
