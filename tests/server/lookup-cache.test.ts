/**
 * The org row and access-token caches: on SQLite a repeated lookup is answered from memory,
 * and still every change that matters — a browser signed out, an account disabled, deleted or
 * demoted, the organisation's settings — shows on the very next request, on both databases
 * (PostgreSQL, shared by several instances, reads afresh every time). A write committed by
 * another process on the same SQLite file (the command line) is noticed too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseSync } from 'node:sqlite';
import { call, createHarness, tokensFor, type Harness } from './harness.ts';
import { createUser } from '../../server/seed.ts';
import { changeRole, deleteAccount, disableAccount } from '../../server/services/accounts.ts';
import { listConnectedBrowsers, revokeConnectedBrowser } from '../../server/auth/oauth.ts';
import { sqliteDatabasePath } from '../../server/db/open.ts';
import { LookupCache, type CachedAccess } from '../../server/db/lookup-cache.ts';

describe.each(['sqlite', 'postgres'] as const)('cached lookups see every change on the next request (%s)', (kind) => {
  let h: Harness;
  let orgId: string;
  beforeAll(async () => {
    h = await createHarness(kind);
    orgId = (await h.deps.db.selectFrom('org').select('id').executeTakeFirstOrThrow()).id;
  });
  afterAll(async () => {
    await h?.close();
  });

  const change = () => ({ actorId: h.people.admin.id, ip: '127.0.0.1', at: h.clock.now().toISOString() });
  async function signedIn(email: string, role: string): Promise<{ id: string; token: string }> {
    const id = await createUser(h.deps, { orgId, email, name: email.split('@')[0], password: `${email}-pass`, role });
    return { id, token: (await tokensFor(h.app, h.deps, id)).access_token };
  }
  const me = (token: string) => call(h.app, 'GET', '/api/v1/me', token);

  it('caches on SQLite only', () => {
    expect(h.deps.lookupCache !== undefined).toBe(kind === 'sqlite');
  });

  it('a browser signed out is refused on its very next request', async () => {
    const p = await signedIn(`revoked-${kind}@test.example`, 'user');
    expect((await me(p.token)).status).toBe(200);
    expect((await me(p.token)).status).toBe(200);
    const [browser] = await listConnectedBrowsers(h.deps, p.id);
    expect(await revokeConnectedBrowser(h.deps, p.id, browser.id)).toBe(true);
    expect((await me(p.token)).status).toBe(401);
  });

  it('a disabled or deleted account is refused on its very next request', async () => {
    const disabled = await signedIn(`disabled-${kind}@test.example`, 'user');
    const deleted = await signedIn(`deleted-${kind}@test.example`, 'user');
    for (const p of [disabled, deleted]) expect((await me(p.token)).status).toBe(200);
    expect((await disableAccount(h.deps, disabled.id, change())).ok).toBe(true);
    expect((await me(disabled.token)).status).toBe(401);
    expect((await deleteAccount(h.deps, deleted.id, change())).ok).toBe(true);
    expect((await me(deleted.token)).status).toBe(401);
  });

  it('an admin demoted to user loses the fleet view on the very next request', async () => {
    const admin = await signedIn(`demoted-${kind}@test.example`, 'admin');
    expect((await call(h.app, 'GET', '/api/v1/devices?scope=all', admin.token)).status).toBe(200);
    expect((await changeRole(h.deps, admin.id, 'user', change())).ok).toBe(true);
    const after = await call(h.app, 'GET', '/api/v1/devices?scope=all', admin.token);
    expect(after.status).toBe(403);
    expect((await me(admin.token)).body).toMatchObject({ user: { role: 'user' } });
  });

  it("the organisation's settings show on the very next request", async () => {
    const token = h.people.owner.token;
    expect((await me(token)).body).toMatchObject({ org: { supportContact: 'helpdesk@test.example' } });
    await h.deps.db.updateTable('org').set({ support_contact: `desk-${kind}@test.example` }).where('id', '=', orgId).execute();
    expect((await me(token)).body).toMatchObject({ org: { supportContact: `desk-${kind}@test.example` } });
  });

  it('an access token that expires while cached is refused as expired', async () => {
    const p = await signedIn(`expiring-${kind}@test.example`, 'user');
    expect((await me(p.token)).status).toBe(200);
    h.clock.advance((h.deps.config.accessTokenSeconds + 1) * 1000);
    const expired = await me(p.token);
    expect(expired.status).toBe(401);
    expect(expired.body.error?.code).toBe('session_expired');
  });
});

describe('cached lookups on SQLite', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sqlite');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('an account disabled by another process on the same file is refused on the next request', async () => {
    const token = h.people.other.token;
    expect((await call(h.app, 'GET', '/api/v1/me', token)).status).toBe(200);
    const cli = new DatabaseSync(sqliteDatabasePath(h.dataDir));
    try {
      cli.prepare('update users set disabled_at = ? where id = ?').run(h.clock.now().toISOString(), h.people.other.id);
    } finally {
      cli.close();
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect((await call(h.app, 'GET', '/api/v1/me', token)).status).toBe(401);
  });

  it('answers a repeated lookup from memory until a write touches what it holds', async () => {
    const cache = new LookupCache();
    const db = h.opened.db.withPlugin(cache.plugin());
    const user = await db.selectFrom('users').selectAll().where('id', '=', h.people.owner.id).executeTakeFirstOrThrow();
    let reads = 0;
    const read = async (): Promise<CachedAccess> => {
      reads += 1;
      return { user, grantId: 'g', tokenExpiresAt: '9999', grantLastUsedAt: '0000' };
    };
    await cache.accessFor(db, 'hash', read);
    await cache.accessFor(db, 'hash', read);
    expect(reads).toBe(1);
    // The "last used" mark changes nothing a cached answer holds.
    await db.updateTable('oauth_grants').set({ last_used_at: '2000-01-01T00:00:00.000Z' }).where('id', '=', 'none').execute();
    await cache.accessFor(db, 'hash', read);
    expect(reads).toBe(1);
    await db.updateTable('users').set({ name: 'Owner' }).where('id', '=', user.id).execute();
    await cache.accessFor(db, 'hash', read);
    expect(reads).toBe(2);
  });

  it('never keeps an answer read before a write that changed it', async () => {
    const cache = new LookupCache();
    const db = h.opened.db.withPlugin(cache.plugin());
    const user = await db.selectFrom('users').selectAll().where('id', '=', h.people.owner.id).executeTakeFirstOrThrow();
    let reads = 0;
    let release: () => void = () => undefined;
    const slowRead = async (): Promise<CachedAccess> => {
      reads += 1;
      await new Promise<void>((resolve) => (release = resolve));
      return { user, grantId: 'g', tokenExpiresAt: '9999', grantLastUsedAt: '9999' };
    };
    const pending = cache.accessFor(db, 'hash', slowRead);
    await new Promise((resolve) => setImmediate(resolve));
    await db.updateTable('oauth_grants').set({ revoked_at: 'now' }).where('id', '=', 'none').execute();
    release();
    await pending;
    await cache.accessFor(db, 'hash', async () => {
      reads += 1;
      return null;
    });
    expect(reads).toBe(2);
  });
});
