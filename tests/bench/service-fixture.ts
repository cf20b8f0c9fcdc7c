/**
 * What the service benches drive: a user signed in through the extension's OAuth flow and 64
 * enrolled Macs with an escrowed key each, and the store and reveal requests `wrk` sends for
 * them (round-robin over the devices).
 */
import { randomBytes, createHash } from 'node:crypto';
import type { AppDeps } from '../../server/deps.ts';
import { createUser } from '../../server/seed.ts';
import { createEnrollmentToken, enrollDevice } from '../../server/services/agent-enroll.ts';
import { uploadProtectors } from '../../server/services/agent-report.ts';
import { EXTENSION_CLIENT_ID, exchangeAuthorizationCode, issueAuthorizationCode } from '../../server/auth/oauth.ts';
import { CHROME_REDIRECT_URI } from '../../lib/extension-identity.ts';
import { generateRecoveryKey, formatRecoveryKey } from '../../lib/keys/index.ts';
import type { WrkRequest, WrkResult } from './wrk.ts';

export const DEVICES = 64;

export type Fixture = { token: string; devices: string[] };

export async function prepare(deps: AppDeps): Promise<Fixture> {
  const org = await deps.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
  const userId = await createUser(deps, { orgId: org.id, email: `bench-${randomBytes(4).toString('hex')}@bench.test`, name: 'Bench', password: 'bench-pass', role: 'user' });
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = CHROME_REDIRECT_URI;
  const code = await issueAuthorizationCode(deps, userId, { clientId: EXTENSION_CLIENT_ID, redirectUri, codeChallenge: createHash('sha256').update(verifier).digest('base64url'), state: '' });
  const tokens = await exchangeAuthorizationCode(deps, { code, code_verifier: verifier, redirect_uri: redirectUri, client_id: EXTENSION_CLIENT_ID }, 'bench');
  const devices: string[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const token = await createEnrollmentToken(deps, { ownerId: userId, ownership: 'personal', label: `bench ${i}` });
    const { deviceId } = await enrollDevice(deps, { token, name: `bench mac ${i}`, platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD', encrypted: true, protectorIds: [] }] }, null);
    const device = await deps.db.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirstOrThrow();
    await uploadProtectors(deps, device, { volumeRef: 'disk1s1', protectors: [{ protectorId: '', key: generateRecoveryKey('filevault') }] }, 'en');
    devices.push(deviceId);
  }
  return { token: tokens.access_token, devices };
}

export function storeRequests(f: Fixture): WrkRequest[] {
  return f.devices.map((id) => {
    const key = formatRecoveryKey('filevault', generateRecoveryKey('filevault'));
    return { path: `/api/v1/devices/${id}/keys`, method: 'POST', headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ key, confirmKey: key }) };
  });
}

export function revealRequests(f: Fixture): WrkRequest[] {
  return f.devices.map((id) => ({ path: `/api/v1/devices/${id}/reveal`, method: 'POST', headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' }, body: '{}' }));
}

export function describeRun(r: WrkResult, connections: number, durationMs: number): string {
  return `wrk ${connections} connections, ${Math.round(durationMs / 1000)} s; ${r.requests} requests, ${r.errors} errors; p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms`;
}

/** The service's configuration under bench: reveals are not rate-limited. */
export const benchConfig = { rateLimits: { loginPerMinute: 10, revealPerMinute: 1_000_000_000 } };
