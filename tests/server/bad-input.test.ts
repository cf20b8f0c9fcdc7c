/**
 * Bad input anywhere → a 4xx `{error:{code,message}}` and no row written: malformed JSON,
 * wrong content type, oversized bodies, invalid or mismatched keys, unknown devices, expired
 * or missing credentials, spent enrollment tokens, serial numbers that are not one.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnrollmentToken } from '../../server/services/agent-enroll.ts';
import { BL_KEY_1, call, createHarness, enrollMac, FV_KEY_1, FV_KEY_2, TestAgent, type Harness } from './harness.ts';

type Row = { name: string; method: string; path: () => string; token: () => string | null; body?: () => unknown; headers?: Record<string, string>; status: number; code: string; field?: string };

describe.each(['sqlite', 'postgres'] as const)('bad input (%s)', (kind) => {
  let h: Harness;
  let mac: TestAgent;
  let expiredToken: string;
  let spentToken: string;

  beforeAll(async () => {
    h = await createHarness(kind, { maxBodyBytes: 16 * 1024 });
    mac = await enrollMac(h, 'personal');
    await sql`update oauth_tokens set expires_at = '2000-01-01T00:00:00.000Z' where kind = 'access' and grant_id in (select id from oauth_grants where user_id = ${h.people.other.id})`.execute(h.deps.db);
    expiredToken = await createEnrollmentToken(h.deps, { ownerId: h.people.owner.id, ownership: 'personal', label: 'old', validDays: -1 });
    spentToken = await createEnrollmentToken(h.deps, { ownerId: h.people.owner.id, ownership: 'personal', label: 'once' });
    await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'personal', name: 'x', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'a', name: 'a' }] });
  });
  afterAll(async () => {
    await h?.close();
  });

  const owner = () => h.people.owner.token;
  const keysPath = () => `/api/v1/devices/${mac.deviceId}/keys`;
  const enroll = (token: () => string) => () => ({ token: token(), name: 'Mac', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'd', name: 'd', encrypted: true }] });

  const rows: Row[] = [
    { name: 'malformed JSON', method: 'POST', path: keysPath, token: owner, body: () => '{"key": "AU2A', status: 400, code: 'invalid_input' },
    { name: 'JSON that is not the shape', method: 'POST', path: keysPath, token: owner, body: () => ({ key: 42 }), status: 400, code: 'invalid_input', field: 'key' },
    { name: 'wrong content type', method: 'POST', path: keysPath, token: owner, body: () => `{"key":"${FV_KEY_1}","confirmKey":"${FV_KEY_1}"}`, headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
    { name: 'oversized body', method: 'POST', path: keysPath, token: owner, body: () => ({ key: FV_KEY_1, confirmKey: FV_KEY_1, pad: 'x'.repeat(40_000) }), status: 413, code: 'payload_too_large' },
    { name: 'invalid key (bad character)', method: 'POST', path: keysPath, token: owner, body: () => ({ key: 'AU2A-PHMK-WBGX-PWKX-M3X3-VAP!', confirmKey: 'AU2A-PHMK-WBGX-PWKX-M3X3-VAP!' }), status: 400, code: 'invalid_key', field: 'key' },
    { name: 'invalid key (too short)', method: 'POST', path: keysPath, token: owner, body: () => ({ key: 'AU2A-PHMK', confirmKey: 'AU2A-PHMK' }), status: 400, code: 'invalid_key', field: 'key' },
    { name: 'keys differ (M1)', method: 'POST', path: keysPath, token: owner, body: () => ({ key: FV_KEY_1, confirmKey: FV_KEY_2 }), status: 400, code: 'keys_mismatch', field: 'confirmKey' },
    { name: 'BitLocker sample from seed 004 on a FileVault device', method: 'POST', path: keysPath, token: owner, body: () => ({ key: '12345-67890-12345-67890-12345-67890-12345-67890', confirmKey: '12345-67890-12345-67890-12345-67890-12345-67890' }), status: 400, code: 'invalid_key', field: 'key' },
    { name: 'unknown device', method: 'POST', path: () => '/api/v1/devices/00000000-0000-0000-0000-000000000000/keys', token: owner, body: () => ({ key: FV_KEY_1, confirmKey: FV_KEY_1 }), status: 404, code: 'not_found' },
    { name: 'unknown volume', method: 'POST', path: keysPath, token: owner, body: () => ({ key: FV_KEY_1, confirmKey: FV_KEY_1, volumeId: 'nope' }), status: 404, code: 'not_found', field: 'volumeId' },
    { name: 'no token', method: 'POST', path: keysPath, token: () => null, body: () => ({ key: FV_KEY_1, confirmKey: FV_KEY_1 }), status: 401, code: 'unauthenticated' },
    { name: 'made-up token', method: 'POST', path: keysPath, token: () => 'kwt_not-a-real-token-at-all', body: () => ({ key: FV_KEY_1, confirmKey: FV_KEY_1 }), status: 401, code: 'unauthenticated' },
    { name: 'expired access token', method: 'GET', path: () => '/api/v1/me', token: () => h.people.other.token, status: 401, code: 'session_expired' },
    { name: 'expired enrollment token', method: 'POST', path: () => '/api/v1/agent/enroll', token: () => null, body: enroll(() => expiredToken), status: 400, code: 'enrollment_token_invalid', field: 'token' },
    { name: 'enrollment token used twice', method: 'POST', path: () => '/api/v1/agent/enroll', token: () => null, body: enroll(() => spentToken), status: 201, code: '' },
    { name: 'enrollment token used twice (second)', method: 'POST', path: () => '/api/v1/agent/enroll', token: () => null, body: enroll(() => spentToken), status: 400, code: 'enrollment_token_invalid', field: 'token' },
    { name: 'agent escrows an invalid key', method: 'POST', path: () => '/api/v1/agent/operations/whatever/escrow', token: () => mac.credential, body: () => ({ key: 'not-a-key' }), status: 400, code: 'invalid_key', field: 'key' },
    { name: 'agent reports an unknown result', method: 'POST', path: () => '/api/v1/agent/operations/whatever/complete', token: () => mac.credential, body: () => ({ result: 'maybe' }), status: 400, code: 'invalid_input' },
    { name: 'enrollment with no encrypted volume', method: 'POST', path: () => '/api/v1/agent/enroll', token: () => null, body: () => ({ token: 'kwe_whatever-token', name: 'Mac', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'd', name: 'd', encrypted: false }] }), status: 400, code: 'no_encrypted_volume', field: 'volumes' },
    { name: 'agent asks the escrowed key of a volume it does not have', method: 'POST', path: () => '/api/v1/agent/verification/key', token: () => mac.credential, body: () => ({ volumeRef: 'not-mine' }), status: 404, code: 'not_found', field: 'volumeRef' },
    { name: 'agent starts an escrow for a volume it does not have', method: 'POST', path: () => '/api/v1/agent/operations', token: () => mac.credential, body: () => ({ volumeRef: 'not-mine', purpose: 'repair' }), status: 404, code: 'not_found', field: 'volumeRef' },
    { name: 'agent reports a failure with an unknown cause', method: 'POST', path: () => '/api/v1/agent/operations/whatever/complete', token: () => mac.credential, body: () => ({ result: 'error', detail: 'x', cause: 'gremlins' }), status: 400, code: 'invalid_input' },
    { name: 'enrollment with a serial number that is not printable ASCII', method: 'POST', path: () => '/api/v1/agent/enroll', token: () => null, body: () => ({ ...enroll(() => 'kwe_whatever-token')(), serialNumber: 'C02\tXK0' }), status: 400, code: 'invalid_input', field: 'serialNumber' },
    { name: 'check-in with a serial number too long', method: 'POST', path: () => '/api/v1/agent/checkin', token: () => mac.credential, body: () => ({ volumes: [], serialNumber: 'S'.repeat(65) }), status: 400, code: 'invalid_input', field: 'serialNumber' },
    { name: 'agent with a bad credential', method: 'POST', path: () => '/api/v1/agent/checkin', token: () => 'kwa_wrong-credential-value', body: () => ({ volumes: [] }), status: 401, code: 'credential_revoked' },
    { name: 'unknown API path', method: 'GET', path: () => '/api/v1/nothing-here', token: owner, status: 404, code: 'not_found' },
    { name: 'token endpoint with garbage', method: 'POST', path: () => '/oauth/token', token: () => null, body: () => ({ grant_type: 'password' }), status: 400, code: 'invalid_input' },
    // A NUL character cannot be stored in PostgreSQL text: refused at the door on both databases.
    { name: 'NUL in a device id', method: 'GET', path: () => '/api/v1/devices/%00', token: owner, status: 400, code: 'invalid_input' },
    { name: 'NUL in a query parameter', method: 'GET', path: () => '/api/v1/audit?deviceId=a%00b', token: owner, status: 400, code: 'invalid_input' },
    { name: 'NUL in a JSON string', method: 'POST', path: keysPath, token: owner, body: () => ({ key: FV_KEY_1, confirmKey: FV_KEY_1, idempotencyKey: 'retry-\u0000-1' }), status: 400, code: 'invalid_input' },
    { name: 'NUL in a JSON object key', method: 'POST', path: keysPath, token: owner, body: () => `{"key":"${FV_KEY_1}","confirmKey":"${FV_KEY_1}","a\\u0000":1}`, status: 400, code: 'invalid_input' },
    { name: 'NUL in an offline reveal report', method: 'POST', path: () => '/api/v1/audit/offline-reveals', token: owner, body: () => ({ reveals: [{ deviceId: mac.deviceId, volumeId: 'v', version: 1, at: 'now', idempotencyKey: 'k\u0000' }] }), status: 400, code: 'invalid_input' },
    { name: 'NUL in a volume the agent reports', method: 'POST', path: () => '/api/v1/agent/checkin', token: () => mac.credential, body: () => ({ volumes: [{ ref: 'disk\u00002', name: 'Data', encrypted: true }] }), status: 400, code: 'invalid_input' },
    { name: 'NUL in an operation id', method: 'POST', path: () => '/api/v1/agent/operations/%00/escrow', token: () => mac.credential, body: () => ({ key: FV_KEY_1 }), status: 400, code: 'invalid_input' },
    { name: 'NUL in a token request form', method: 'POST', path: () => '/oauth/token', token: () => null, body: () => 'grant_type=refresh_token&refresh_token=abcdefghijkl%00', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 400, code: 'invalid_input' },
  ];

  async function counts(): Promise<string> {
    const n = async (table: 'key_versions' | 'operations' | 'devices') => Number((await h.deps.db.selectFrom(table).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
    return `${await n('key_versions')}/${await n('operations')}/${await n('devices')}`;
  }

  it.each(rows)('$name → $status $code', async (row) => {
    const before = await counts();
    const res = await call(h.app, row.method, row.path(), row.token(), row.body?.(), row.headers);
    expect(res.status).toBe(row.status);
    if (row.status >= 400) {
      expect(res.body.error?.code).toBe(row.code);
      expect(res.body.error?.message).toMatch(/\S/);
      if (row.field) expect(res.body.error?.field).toBe(row.field);
      expect(await counts()).toBe(before);
    }
  });

  it('error messages follow the caller\'s language', async () => {
    const en = await call(h.app, 'POST', keysPath(), owner(), { key: FV_KEY_1, confirmKey: FV_KEY_2 }, { 'accept-language': 'en-GB,en;q=0.9' });
    const sv = await call(h.app, 'POST', keysPath(), owner(), { key: FV_KEY_1, confirmKey: FV_KEY_2 }, { 'accept-language': 'sv-SE,sv;q=0.9' });
    const ja = await call(h.app, 'GET', '/api/v1/devices/00000000-0000-0000-0000-000000000000', owner(), undefined, { 'accept-language': 'ja' });
    expect(sv.body.error?.code).toBe('keys_mismatch');
    expect(sv.body.error?.message).not.toBe(en.body.error?.message);
    expect(ja.body.error?.message).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/);
  });

  it('a check-in listing a new volume twice adds it once (as enrollment does), never a failure', async () => {
    const data = { ref: 'disk2s1', name: 'Data', encrypted: true };
    const res = await call(h.app, 'POST', '/api/v1/agent/checkin', mac.credential, { volumes: [data, { ...data, name: 'Data (again)' }] });
    expect(res.status).toBe(200);
    const volumes = await h.deps.db.selectFrom('volumes').select('name').where('device_id', '=', mac.deviceId).where('ref', '=', 'disk2s1').execute();
    expect(volumes).toEqual([{ name: 'Data' }]);
  });

  it('an upload listing one BitLocker protector twice escrows it once', async () => {
    const pc = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name: 'PC', platform: 'windows', keyKind: 'bitlocker', volumes: [{ ref: 'C:', name: 'C:' }] });
    const id = '{AAAAAAAA-1111-2222-3333-444444444444}';
    const res = await call(h.app, 'POST', '/api/v1/agent/protectors', pc.credential, { volumeRef: 'C:', protectors: [{ protectorId: id, key: BL_KEY_1 }, { protectorId: id.toLowerCase(), key: BL_KEY_1 }] });
    expect(res.status).toBe(200);
    expect(res.body.stored).toBe(1);
    const view = await call(h.app, 'GET', `/api/v1/devices/${pc.deviceId}`, h.people.admin.token);
    expect((view.body.volumes as { protectorIds: string[] }[])[0].protectorIds).toEqual([id]);
  });

  it('a NUL character in a portal form or page address is a 400 page, not a failure', async () => {
    const login = await h.app.request('/login');
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())?.[1] ?? '';
    const signIn = await h.app.request('/login', {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${csrf}&email=owner%00@test.example&password=x`,
    });
    expect(signIn.status).toBe(400);
    expect(await signIn.text()).toContain('class="error"');
    expect((await h.app.request('/devices/%00')).status).toBe(400);
  });

  it('an invalid key is explained precisely (which character, which position)', async () => {
    const res = await call(h.app, 'POST', keysPath(), owner(), { key: 'AU2A-PHMK-WBGX-PWKX-M3X3-VAP!', confirmKey: 'x' });
    expect(res.body.error?.message).not.toBe('This is not a valid recovery key.');
    expect(res.body.error?.message).toMatch(/24|!/);
  });
});
