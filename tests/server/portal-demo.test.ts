/**
 * The portal over real HTTP against the service (`startDemoService`) with the demo organisation and the
 * simulated fleet: sign-in, security headers, CSRF, the plain Store/Get forms end to end
 * (M1, M4, M3 wrong_key), the language switch, the admin console, and a restart that
 * seeds nothing twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoService, type DemoService } from '../../scripts/demo-fleet.ts';
import { DEMO_USERS } from '../../server/seed.ts';
import { formatRecoveryKey } from '../../lib/keys/index.ts';
import { eventually, PortalBrowser } from './browser-session.ts';

describe('portal with the demo fleet (real HTTP)', () => {
  let dataDir: string;
  let server: DemoService;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'keyward-portal-'));
    server = await startDemoService({ port: 0, dataDir, checkinIntervalMs: 150, quiet: true });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function fleetDevice(prefix: string) {
    const d = server.fleet.devices.find((x) => x.name.startsWith(prefix));
    if (!d) throw new Error(`no simulated ${prefix}`);
    return d;
  }

  async function signedIn(who: 'user' | 'admin'): Promise<PortalBrowser> {
    const b = new PortalBrowser(server.url);
    const res = await b.signIn(DEMO_USERS[who].email, DEMO_USERS[who].password);
    expect(res.status).toBe(303);
    return b;
  }

  it('every page carries a strict CSP and security headers; cookies are HttpOnly SameSite=Lax', async () => {
    const b = new PortalBrowser(server.url);
    const { res, text } = await b.get('/login');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'nonce-[^']+'/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(text).toContain(`<style nonce="${nonce}">`);
    await b.signIn(DEMO_USERS.user.email, DEMO_USERS.user.password);
    const session = b.setCookieHeaders.find((h) => h.startsWith('kw_session='));
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);
  });

  it('sign-in: a form without its CSRF token is refused; a wrong password is told plainly', async () => {
    const b = new PortalBrowser(server.url);
    await b.get('/login');
    const noCsrf = await b.post('/login', { email: DEMO_USERS.user.email, password: DEMO_USERS.user.password });
    expect(noCsrf.res.status).toBe(403);
    expect(noCsrf.text).toContain('The form expired');
    expect(b.cookies.has('kw_session')).toBe(false);
    const page = await b.get('/login');
    const wrong = await b.post('/login', { _csrf: PortalBrowser.csrfOf(page.text), email: DEMO_USERS.user.email, password: 'nope' });
    expect(wrong.res.status).toBe(401);
    expect(wrong.text).toContain('Wrong email or password.');
  });

  it('My devices lists the three demo devices with extension mount points on the device page', async () => {
    const b = await signedIn('user');
    const list = await b.get('/devices');
    expect(list.text).toContain('Corporate MacBook (simulated)');
    expect(list.text).toContain('Personal MacBook (simulated)');
    expect(list.text).toContain('Windows PC (simulated)');
    const mac = fleetDevice('Personal MacBook');
    const page = await b.get(`/devices/${mac.deviceId}`);
    expect(page.text).toContain('<body data-keyward-portal="1" data-keyward-locale="en">');
    expect(page.text).toContain(`<div data-keyward-panel="store" data-keyward-device="${mac.deviceId}" data-keyward-kind="filevault"></div>`);
    expect(page.text).toContain(`<div data-keyward-panel="get" data-keyward-device="${mac.deviceId}"></div>`);
    expect(page.text).toContain('data-key-status="missing"');
  });

  it('store with different keys → M1 under the confirm field, nothing stored; a state-changing form without CSRF is refused', async () => {
    const b = await signedIn('user');
    const mac = fleetDevice('Personal MacBook');
    const count = async () => (await server.db.selectFrom('key_versions').select(sql<number>`count(*)`.as('n')).where('device_id', '=', mac.deviceId).executeTakeFirstOrThrow()).n;
    const before = await count();
    const key = formatRecoveryKey('filevault', mac.volumes[0].currentKey());
    const res = await b.submit(`/devices/${mac.deviceId}`, `/devices/${mac.deviceId}/keys`, { key, confirmKey: 'AU2A-PHMK-WBGX-PWKX-M3X3-VAPY' });
    expect(res.res.status).toBe(400);
    expect(res.text).toMatch(/id="confirm-error" data-message="M1" role="alert">The keys must match/);
    const noCsrf = await b.post(`/devices/${mac.deviceId}/keys`, { key, confirmKey: key });
    expect(noCsrf.res.status).toBe(403);
    expect(await count()).toBe(before);
  });

  it('Get recovery key on the personal Mac before any key is stored → the device page says so and points at Store recovery key', async () => {
    const b = await signedIn('user');
    const mac = fleetDevice('Personal MacBook');
    const got = await b.submit(`/devices/${mac.deviceId}`, `/devices/${mac.deviceId}/reveal`, {});
    expect(got.res.status).toBe(404);
    expect(got.text).toContain('id="get-error" role="alert">No recovery key is stored for this device yet. Store it under Store recovery key on this page.');
    expect(got.text).toContain(`data-keyward-panel="get" data-keyward-device="${mac.deviceId}"`);
  });

  it("store the personal Mac's key → the simulated device verifies and rotates → M4; Get recovery key shows the new key with a countdown", async () => {
    const b = await signedIn('user');
    const mac = fleetDevice('Personal MacBook');
    const oldKey = mac.volumes[0].currentKey();
    const stored = await b.submit(`/devices/${mac.deviceId}`, `/devices/${mac.deviceId}/keys`, { key: oldKey.toLowerCase(), confirmKey: formatRecoveryKey('filevault', oldKey) });
    expect(stored.res.status).toBe(303);
    expect(stored.res.headers.get('location')).toBe(`/devices/${mac.deviceId}`);
    const done = await eventually(async () => {
      const p = await b.get(`/devices/${mac.deviceId}`);
      return p.text.includes('data-notice="M4"') ? p.text : null;
    });
    expect(done).toContain('Your recovery key was verified and rotated');
    const newKey = mac.volumes[0].currentKey();
    expect(newKey).not.toBe(oldKey);
    const got = await b.submit(`/devices/${mac.deviceId}`, `/devices/${mac.deviceId}/reveal`, {});
    expect(got.res.status).toBe(200);
    expect(got.text).toContain(formatRecoveryKey('filevault', newKey));
    expect(got.text).toContain('data-seconds="300"');
    const nonce = /'nonce-([^']+)'/.exec(got.res.headers.get('content-security-policy') ?? '')?.[1];
    expect(got.text).toContain(`<script nonce="${nonce}">`);
  });

  it('a wrong (well-formed) key → the device rejects it → M3 with the wrong-key cause', async () => {
    const b = await signedIn('user');
    const mac = fleetDevice('Personal MacBook');
    await b.submit(`/devices/${mac.deviceId}`, `/devices/${mac.deviceId}/keys`, { key: 'AU2A-PHMK-WBGX-PWKX-M3X3-VAPY', confirmKey: 'AU2A-PHMK-WBGX-PWKX-M3X3-VAPY' });
    const page = await eventually(async () => {
      const p = await b.get(`/devices/${mac.deviceId}`);
      return p.text.includes('data-notice="M3"') ? p.text : null;
    });
    expect(page).toContain('data-cause="wrong_key"');
    expect(page).toContain("We couldn&#39;t upload your recovery key.");
  });

  it('the language switch changes the page language and is remembered for the user', async () => {
    const b = await signedIn('user');
    const res = await b.submit('/devices', '/locale', { locale: 'sv', next: '/devices' });
    expect(res.res.status).toBe(303);
    const page = await b.get('/devices');
    expect(page.text).toContain('<html lang="sv">');
    expect(page.text).toContain('data-keyward-locale="sv"');
    await b.submit('/devices', '/locale', { locale: 'en', next: '/devices' });
  });

  it('admin console: protector IDs per volume, personal key refused with an explanation, corporate key needs a reason, audit chain verified', async () => {
    const b = await signedIn('admin');
    const list = await b.get('/admin/devices');
    expect(list.res.status).toBe(200);
    expect(list.text).toMatch(/C:: <code>\{[0-9A-F-]{36}\}<\/code>/);
    expect(list.text).toMatch(/D:: <code>\{[0-9A-F-]{36}\}<\/code>/);

    const personal = fleetDevice('Personal MacBook');
    const pp = await b.get(`/admin/devices/${personal.deviceId}`);
    expect(pp.text).toContain('id="personal-explain"');
    expect(pp.text).not.toContain('id="reveal-form"');
    const forced = await b.submit(`/admin/devices/${personal.deviceId}`, `/admin/devices/${personal.deviceId}/reveal`, { reason: 'curious' });
    expect(forced.res.status).toBe(403);
    expect(forced.text).not.toContain(formatRecoveryKey('filevault', personal.volumes[0].currentKey()));

    const corp = fleetDevice('Corporate MacBook');
    const noReason = await b.submit(`/admin/devices/${corp.deviceId}`, `/admin/devices/${corp.deviceId}/reveal`, { reason: '' });
    expect(noReason.res.status).toBe(400);
    expect(noReason.text).toContain('Type the reason');
    const key = corp.volumes[0].currentKey();
    const ok = await b.submit(`/admin/devices/${corp.deviceId}`, `/admin/devices/${corp.deviceId}/reveal`, { reason: 'INC-42 user locked out' });
    expect(ok.res.status).toBe(200);
    expect(ok.text).toContain(formatRecoveryKey('filevault', key));
    expect(ok.text).toContain('a rotation was queued');
    // rotateAfterReveal: the simulated device rotates the exposed key.
    await eventually(async () => corp.volumes[0].currentKey() !== key);

    const audit = await b.get('/admin/audit');
    expect(audit.text).toContain('data-ok="true"');
    expect(audit.text).toContain('INC-42 user locked out');

    const asUser = await signedIn('user');
    expect((await asUser.get('/admin/devices')).res.status).toBe(403);
  });

  it('a restart on the same data seeds nothing twice and finds the same devices', async () => {
    const users = (await server.db.selectFrom('users').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n;
    const devices = (await server.db.selectFrom('devices').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n;
    expect(devices).toBe(3);
    await server.stop();
    server = await startDemoService({ port: 0, dataDir, checkinIntervalMs: 150, quiet: true });
    expect((await server.db.selectFrom('users').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n).toBe(users);
    expect((await server.db.selectFrom('devices').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n).toBe(3);
  });
});
