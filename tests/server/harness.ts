/**
 * Test harness for the escrow service: a real database (SQLite file in a temp dir, or a
 * unique PostgreSQL schema in database `test`, dropped afterwards), the app in-process, demo
 * people, and small helpers to act as the extension (Bearer tokens via the real OAuth
 * endpoint) and as a device agent (the real agent API).
 */
import { cachedLookups } from '../../server/db/lookup-cache.ts';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { createApp } from '../../server/app.ts';
import { defaultConfig, type AppConfig, type AppDeps, type Clock } from '../../server/deps.ts';
import { dropPostgresSchema, openDatabase, type DbKind, type OpenedDatabase } from '../../server/db/open.ts';
import { generateKek } from '../../server/crypto/kek.ts';
import { defaultAuditKeyPath, loadOrCreateAuditKeyFile } from '../../server/crypto/audit-key.ts';
import { createUser, ensureOrg } from '../../server/seed.ts';
import { createEnrollmentToken } from '../../server/services/agent-enroll.ts';
import { issueAuthorizationCode, EXTENSION_CLIENT_ID } from '../../server/auth/oauth.ts';
import { createSession } from '../../server/auth/sessions.ts';
import type { AgentTask, KeyKind, Platform } from '../../lib/api/contract.ts';
import type { AppEnv } from '../../server/http/context.ts';
import { CHROME_REDIRECT_URI } from '../../lib/extension-identity.ts';

export const PG_URL = process.env.KEYWARD_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export class TestClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export type Person = { id: string; email: string; token: string };

export type Harness = {
  kind: DbKind;
  app: Hono<AppEnv>;
  deps: AppDeps;
  clock: TestClock;
  dataDir: string;
  opened: OpenedDatabase;
  /** PostgreSQL: the run's schema (a second service instance can share it). */
  pgSchema: string;
  people: { owner: Person; other: Person; helpdesk: Person; admin: Person };
  close(): Promise<void>;
};

/** The built Chrome extension's sign-in redirect, on the service's allow-list by default. */
export const REDIRECT_URI = CHROME_REDIRECT_URI;

export async function createHarness(kind: DbKind = 'sqlite', config: Partial<AppConfig> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-test-'));
  const schema = `kw_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const opened = kind === 'sqlite' ? await openDatabase({ dataDir }) : await openDatabase({ databaseUrl: PG_URL, pgSchema: schema, pgPoolSize: 4 });
  const clock = new TestClock();
  // In its default file, so `verify-audit` on the data directory checks the log with it.
  const auditKey = loadOrCreateAuditKeyFile(defaultAuditKeyPath(dataDir)).auditKey;
  const deps: AppDeps = { ...cachedLookups(opened.db, opened.kind), dbKind: opened.kind, kek: generateKek(), auditKey, clock, config: { ...defaultConfig, ...config } };
  const app = createApp(deps);
  const org = await ensureOrg(deps, { name: 'Test Org', supportContact: 'helpdesk@test.example' });
  const person = async (email: string, role: string): Promise<Person> => {
    const id = await createUser(deps, { orgId: org.id, email, name: email.split('@')[0], password: `${email}-pass`, role });
    return { id, email, token: await accessTokenFor(app, deps, id) };
  };
  const people = {
    owner: await person('owner@test.example', 'user'),
    other: await person('other@test.example', 'user'),
    helpdesk: await person('helpdesk@test.example', 'helpdesk'),
    admin: await person('admin@test.example', 'admin'),
  };
  return {
    kind, app, deps, clock, dataDir, opened, people, pgSchema: schema,
    close: async () => {
      await opened.close();
      if (kind === 'postgres') await dropPostgresSchema(PG_URL, schema);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Another service instance on the same PostgreSQL schema, with the same KEK. */
export async function secondInstance(h: Harness): Promise<{ app: Hono<AppEnv>; close(): Promise<void> }> {
  const opened = await openDatabase({ databaseUrl: PG_URL, pgSchema: h.pgSchema, pgPoolSize: 4 });
  const app = createApp({ ...h.deps, db: opened.db });
  return { app, close: () => opened.close() };
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Runs the token half of the OAuth flow for a user (the consent half is tested on its own). */
export async function tokensFor(app: Hono<AppEnv>, deps: AppDeps, userId: string): Promise<{ access_token: string; refresh_token: string }> {
  const { verifier, challenge } = pkcePair();
  const code = await issueAuthorizationCode(deps, userId, { clientId: EXTENSION_CLIENT_ID, redirectUri: REDIRECT_URI, codeChallenge: challenge, state: 's' });
  const res = await app.request('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: EXTENSION_CLIENT_ID }).toString(),
  });
  if (res.status !== 200) throw new Error(`token exchange failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { access_token: string; refresh_token: string };
}

async function accessTokenFor(app: Hono<AppEnv>, deps: AppDeps, userId: string): Promise<string> {
  return (await tokensFor(app, deps, userId)).access_token;
}

export type JsonResult = { status: number; body: Record<string, unknown> & { error?: { code: string; message: string; field?: string } } };

export async function call(app: Hono<AppEnv>, method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResult> {
  const res = await app.request(path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as JsonResult['body']) : {} };
}

/** What a portal form is sent with: the browser's cookie header and the page's CSRF token. */
export type FormCredentials = { cookie: string; csrf: string };

/** A portal session for a user, as a signed-in browser holds it. */
export async function portalLogin(h: Harness, userId: string): Promise<FormCredentials> {
  const session = await createSession(h.deps, userId);
  return { cookie: `kw_session=${session.token}`, csrf: session.csrf };
}

/** Posts a portal form in-process (urlencoded, the CSRF token first). */
export async function postForm(app: Hono<AppEnv>, path: string, as: FormCredentials, fields: Record<string, string>): Promise<Response> {
  return app.request(path, {
    method: 'POST',
    headers: { cookie: as.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: as.csrf, ...fields }).toString(),
  });
}

export type VolumeSpec = { ref: string; name: string };

/** A scripted device agent speaking the real agent API. */
export class TestAgent {
  readonly app: Hono<AppEnv>;
  deviceId = '';
  credential = '';

  constructor(app: Hono<AppEnv>) {
    this.app = app;
  }

  static async enroll(h: Harness, o: { owner: Person; ownership: 'corporate' | 'personal'; name: string; platform: Platform; keyKind: KeyKind; volumes: VolumeSpec[]; serialNumber?: string }): Promise<TestAgent> {
    const token = await createEnrollmentToken(h.deps, { ownerId: o.owner.id, ownership: o.ownership, label: o.name });
    const agent = new TestAgent(h.app);
    const res = await call(h.app, 'POST', '/api/v1/agent/enroll', null, {
      token, name: o.name, platform: o.platform, keyKind: o.keyKind, volumes: o.volumes.map((v) => ({ ...v, encrypted: true, protectorIds: [] })),
      ...(o.serialNumber === undefined ? {} : { serialNumber: o.serialNumber }),
    });
    if (res.status !== 201) throw new Error(`enroll failed: ${res.status} ${JSON.stringify(res.body)}`);
    agent.deviceId = String(res.body.deviceId);
    agent.credential = String(res.body.credential);
    return agent;
  }

  /** `report`: more of the check-in body (e.g. the serial number). */
  async checkin(report: Record<string, unknown> = {}): Promise<AgentTask[]> {
    const res = await call(this.app, 'POST', '/api/v1/agent/checkin', this.credential, { volumes: [], ...report });
    if (res.status !== 200) throw new Error(`checkin failed: ${res.status}`);
    return res.body.tasks as AgentTask[];
  }

  upload(volumeRef: string, key: string, protectorId = ''): Promise<JsonResult> {
    return call(this.app, 'POST', '/api/v1/agent/protectors', this.credential, { volumeRef, protectors: [{ protectorId, key }] });
  }

  escrow(operationId: string, key: string, protectorId?: string): Promise<JsonResult> {
    return call(this.app, 'POST', `/api/v1/agent/operations/${operationId}/escrow`, this.credential, { key, ...(protectorId ? { protectorId } : {}) });
  }

  complete(operationId: string, body: unknown): Promise<JsonResult> {
    return call(this.app, 'POST', `/api/v1/agent/operations/${operationId}/complete`, this.credential, body);
  }
}

/** The owner's Mac with one FileVault volume (`disk1s1`, "Macintosh HD"), the device most tests use. */
export function enrollMac(h: Harness, ownership: 'corporate' | 'personal', name = 'Mac'): Promise<TestAgent> {
  return TestAgent.enroll(h, { owner: h.people.owner, ownership, name, platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }] });
}

/** Valid sample keys (FileVault: 24 × [0-9A-Z]; BitLocker: 8 groups divisible by 11, ≤ 720885). */
export const FV_KEY_1 = 'AU2A-PHMK-WBGX-PWKX-M3X3-VAPY';
export const FV_KEY_2 = 'B7QF-4N2K-ZX9L-RT5M-HC8W-DJ3E';
export const FV_KEY_3 = 'K9DE-2WQA-77RT-MN4B-XY6P-0LZC';
export const BL_KEY_1 = '111111-222222-333333-444444-555555-666666-000000-123453';
export const BL_KEY_2 = '000011-000022-000033-000044-000055-000066-000077-000088';
export const BL_KEY_3 = '720885-000000-111111-654654-000011-099099-123453-500005';
