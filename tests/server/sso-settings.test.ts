/**
 * Configuring single sign-on: the Policy page refuses a provider over plain http (except on
 * this machine), scopes without `openid`, an unusable private key, and passwords turned off
 * without a break-glass admin — naming the field — and only admins, with the CSRF token, may
 * save. `keyward sso configure` does the same from the command line (the secret from a file,
 * never the command line), audited as the system; `keyward sso show` prints the settings and
 * the public key but never the secret. An upgrade to 0007_sso_accounts keeps existing sessions
 * and extension sign-ins working (they count as password sign-ins).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runSsoCommand } from '../../server/sso-cli.ts';
import { migrateTo, migrateToLatest } from '../../server/db/migrations.ts';
import { openDatabase } from '../../server/db/open.ts';
import { signInStillValid } from '../../server/auth/sign-in-policy.ts';
import { createHarness, portalLogin, postForm, type FormCredentials, type Harness } from './harness.ts';
import { openRawDatabase, type RawDatabase } from './raw-database.ts';

const FORM = {
  enabled: '1', name: 'Contoso ID', issuer: 'https://login.contoso.example', clientId: 'keyward', clientAuth: 'client_secret_basic', clientSecret: 's3cret-value',
  redirectUri: 'https://keys.contoso.example/sso/callback', scopes: 'openid email profile', roleClaim: 'groups', adminValues: 'admins', helpdeskValues: '',
  maxSessionHours: '12', localPasswords: '1', breakGlass: '',
};

describe.each(['sqlite', 'postgres'] as const)('single sign-on settings on the Policy page (%s)', (kind) => {
  let h: Harness;
  let admin: FormCredentials;

  beforeAll(async () => {
    h = await createHarness(kind);
    admin = await portalLogin(h, h.people.admin.id);
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each([
    ['an issuer over plain http elsewhere than this machine', { issuer: 'http://login.contoso.example' }, 'Issuer URL'],
    ['a redirect URI with a fragment', { redirectUri: 'https://keys.contoso.example/sso/callback#x' }, 'Redirect URI'],
    ['scopes without openid', { scopes: 'email profile' }, 'Scopes'],
    ['a private key that is not one', { clientAuth: 'private_key_jwt', privateKey: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' }, 'Private key (PEM, PKCS#8)'],
    ['a 1024-bit RSA key', { clientAuth: 'private_key_jwt', privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() }, 'Private key (PEM, PKCS#8)'],
    ['passwords off without a break-glass admin', { localPasswords: '' }, 'Break-glass admin'],
    ['a break-glass account that is no admin', { localPasswords: '', breakGlass: 'owner@test.example' }, 'Break-glass admin'],
    ['a maximum session age of zero', { maxSessionHours: '0' }, 'Longest a provider sign-in counts'],
  ])('refuses %s, naming the field', async (_name, change, label) => {
    const res = await postForm(h.app, '/admin/sso', admin, { ...FORM, ...change });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(`Check this field: ${label}`);
    expect(await h.deps.db.selectFrom('sso_config').select('id').execute()).toEqual([]);
  });

  it('only admins save, with the CSRF token; the secret is required the first time and kept when left empty', async () => {
    expect((await postForm(h.app, '/admin/sso', await portalLogin(h, h.people.helpdesk.id), FORM)).status).toBe(403);
    expect((await postForm(h.app, '/admin/sso', { cookie: admin.cookie, csrf: 'wrong' }, FORM)).status).toBe(403);
    expect((await postForm(h.app, '/admin/sso', admin, { ...FORM, clientSecret: '' })).status).toBe(400);
    expect((await postForm(h.app, '/admin/sso', admin, FORM)).status).toBe(303);
    const first = await h.deps.db.selectFrom('sso_config').selectAll().executeTakeFirstOrThrow();
    expect((await postForm(h.app, '/admin/sso', admin, { ...FORM, clientSecret: '', name: 'Contoso' })).status).toBe(303);
    const second = await h.deps.db.selectFrom('sso_config').selectAll().executeTakeFirstOrThrow();
    expect([second.name, second.secret_ciphertext]).toEqual(['Contoso', first.secret_ciphertext]);
    const page = await (await h.app.request('/admin/policy', { headers: { cookie: admin.cookie } })).text();
    expect(page).toContain('<input type="text" id="sso-name" name="name" value="Contoso" maxlength="60" required>');
    expect(page).toContain('<input type="password" id="sso-clientSecret" name="clientSecret" autocomplete="off" aria-describedby="sso-secret-hint">');
    expect(page).not.toContain('s3cret-value');
    const events = await h.deps.db.selectFrom('audit_events').select('detail').where('action', '=', 'sso.configured').orderBy('seq').execute();
    expect(events.map((e) => (JSON.parse(e.detail) as { credentialChanged: boolean }).credentialChanged)).toEqual([true, false]);
    // A provider on this machine may use plain http (testing).
    expect((await postForm(h.app, '/admin/sso', admin, { ...FORM, issuer: 'http://127.0.0.1:9999' })).status).toBe(303);
  });
});

describe('keyward sso (command line)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keyward-sso-cli-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runSsoCommand([...args, '--data', dir], { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('configures the provider with the secret from a file, audited, and shows it without the secret', async () => {
    expect((await run(['show'])).out).toContain('not configured');
    const secretFile = join(dir, 'secret.txt');
    writeFileSync(secretFile, 'cli-secret-value\n', { mode: 0o600 });
    const refused = await run(['configure', '--name', 'Contoso', '--issuer', 'http://idp.contoso.example', '--client-id', 'keyward', '--client-secret-file', secretFile, '--redirect-uri', 'https://keys.example/sso/callback']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('--issuer');
    const saved = await run(['configure', '--enable', '--name', 'Contoso', '--issuer', 'https://idp.contoso.example', '--client-id', 'keyward', '--client-secret-file', secretFile, '--redirect-uri', 'https://keys.example/sso/callback', '--admin-values', 'kw-admins,it-admins']);
    expect(saved).toMatchObject({ code: 0 });
    expect(saved.out).toContain('register https://keys.example/sso/callback');
    const shown = await run(['show']);
    expect(shown.out).toContain('single sign-on: on ("Sign in with Contoso")');
    expect(shown.out).toContain('admin values: kw-admins, it-admins');
    expect(shown.out).not.toContain('cli-secret-value');

    const pem = join(dir, 'client.pem');
    writeFileSync(pem, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600 });
    expect((await run(['configure', '--private-key-file', pem, '--key-id', 'kw-1'])).code).toBe(0);
    const withKey = await run(['show']);
    expect(withKey.out).toContain('client authentication: private_key_jwt (key id kw-1)');
    expect(withKey.out).toMatch(/"crv":"Ed25519".*"kid":"kw-1"/);
    expect(withKey.out).not.toContain('"d"');

    const opened = await openDatabase({ dataDir: dir });
    const events = await opened.db.selectFrom('audit_events').select(['actor_kind', 'detail']).where('action', '=', 'sso.configured').execute();
    await opened.close();
    expect(events.map((e) => e.actor_kind)).toEqual(['system', 'system']);
    expect(events.map((e) => e.detail).join()).not.toContain('cli-secret-value');
  });
});

describe.each(['sqlite', 'postgres'] as const)('migration 0007_sso_accounts (%s)', (kind) => {
  let raw: RawDatabase | null = null;
  afterEach(async () => {
    await raw?.close();
    raw = null;
  });

  it('keeps the sessions and extension sign-ins made before it working, as password sign-ins', async () => {
    raw = await openRawDatabase(kind);
    const { db, schema } = raw;
    await migrateTo(db, '0004_audit_views', schema);
    const at = new Date().toISOString();
    await sql`insert into org (id, name, support_contact, escrow_enabled, rotate_after_reveal, checkin_threshold_minutes, offline_cache, created_at) values ('org', 'Org', 'it', 1, 1, 60, 'keys', ${at})`.execute(db);
    await sql`insert into users (id, org_id, email, name, password_hash, role, locale, created_at) values ('u1', 'org', 'u@x.test', 'U', 'h', 'user', 'en', ${at})`.execute(db);
    await sql`insert into sessions (id_hash, user_id, csrf_token, created_at, expires_at) values ('s1', 'u1', 'c', ${at}, ${at})`.execute(db);
    await sql`insert into oauth_grants (id, user_id, client_id, label, created_at, last_used_at, revoked_at) values ('g1', 'u1', 'keyward-extension', 'Chrome', ${at}, ${at}, null)`.execute(db);

    await migrateToLatest(db, schema);

    const user = await sql<{ disabled_at: string | null; deleted_at: string | null; oidc_subject: string | null; password_temporary_until: string | null }>`select disabled_at, deleted_at, oidc_subject, password_temporary_until from users`.execute(db);
    expect(user.rows).toEqual([{ disabled_at: null, deleted_at: null, oidc_subject: null, password_temporary_until: null }]);
    const sessions = await sql<{ auth_method: string; label: string }>`select auth_method, label from sessions`.execute(db);
    expect(sessions.rows).toEqual([{ auth_method: 'password', label: '' }]);
    const typed = db as Parameters<typeof signInStillValid>[0];
    expect(await signInStillValid(typed, { userId: 'u1', authMethod: null, authTime: null }, new Date())).toBe(true);
    expect(await signInStillValid(typed, { userId: 'u1', authMethod: 'sso', authTime: at }, new Date())).toBe(false);
  });
});
