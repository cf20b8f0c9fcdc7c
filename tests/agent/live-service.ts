/**
 * A real escrow service for the agent's integration tests: `startKeywardServer` on
 * 127.0.0.1 port 0 with SQLite in a temp dir, one user with an OAuth access token (real
 * token endpoint), one-time enrollment tokens, and a look at the keys the service holds.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyVersionState } from '../../lib/api/contract.ts';
import { startKeywardServer, type KeywardServer } from '../../server/main.ts';
import type { AppConfig } from '../../server/deps.ts';
import { generateKek } from '../../server/crypto/kek.ts';
import { createUser } from '../../server/seed.ts';
import { createEnrollmentToken } from '../../server/services/agent-enroll.ts';
import { issueAuthorizationCode, EXTENSION_CLIENT_ID } from '../../server/auth/oauth.ts';
import { openKeyVersion } from '../../server/services/key-versions.ts';
import { CHROME_REDIRECT_URI } from '../../lib/extension-identity.ts';

const REDIRECT = CHROME_REDIRECT_URI;

export type LiveService = {
  server: KeywardServer;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  enrollToken(ownership: 'corporate' | 'personal', label: string): Promise<string>;
  /** Audit actions recorded for a device, oldest first. */
  auditActions(deviceId: string): Promise<string[]>;
  /** Plaintext keys the service holds for a device, with their states (oldest first). */
  heldKeys(deviceId: string): Promise<{ state: KeyVersionState; key: string }[]>;
  stop(): Promise<void>;
};

export async function startLiveService(config: Partial<AppConfig> = {}): Promise<LiveService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-agent-svc-'));
  const server = await startKeywardServer({ port: 0, dataDir, quiet: true, kek: generateKek(), config });
  const org = await server.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
  const userId = await createUser(server.deps, { orgId: org.id, email: 'owner@agent.test', name: 'Owner', password: 'owner-pass-123', role: 'user' });

  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const code = await issueAuthorizationCode(server.deps, userId, { clientId: EXTENSION_CLIENT_ID, redirectUri: REDIRECT, codeChallenge: challenge, state: 's' });
  const tokenRes = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: EXTENSION_CLIENT_ID }).toString(),
  });
  if (tokenRes.status !== 200) throw new Error(`token exchange failed: ${tokenRes.status}`);
  const accessToken = ((await tokenRes.json()) as { access_token: string }).access_token;

  return {
    server,
    async api(method, path, body) {
      const res = await fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${accessToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    enrollToken: (ownership, label) => createEnrollmentToken(server.deps, { ownerId: userId, ownership, label }),
    async auditActions(deviceId) {
      return (await server.db.selectFrom('audit_events').select('action').where('device_id', '=', deviceId).orderBy('seq').execute()).map((e) => e.action);
    },
    async heldKeys(deviceId) {
      const device = await server.db.selectFrom('devices').select('key_kind').where('id', '=', deviceId).executeTakeFirstOrThrow();
      const rows = await server.db.selectFrom('key_versions').selectAll().where('device_id', '=', deviceId).orderBy('version').execute();
      return rows.map((row) => ({ state: row.state as KeyVersionState, key: openKeyVersion(server.deps, row, device.key_kind) }));
    },
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
