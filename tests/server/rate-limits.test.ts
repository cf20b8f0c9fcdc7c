/**
 * Throttling that nobody can turn against someone else, on SQLite (counts in memory) and
 * PostgreSQL (counts in the database): sign-in per client, per (account, client) and for an
 * account's unknown browsers together, while a browser that signed in before (device cookie)
 * is counted on its own; reveals per (account, client) and per client. A 429 says how long to
 * wait (Retry-After and words in the reader's language); the wait grows for a client that
 * keeps going; instances sharing PostgreSQL share the counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import type { AppEnv } from '../../server/http/context.ts';
import { MemoryRateLimiter, PostgresRateLimiter, type RateLimiter } from '../../server/http/rate-limit.ts';
import { createHarness, enrollMac, FV_KEY_1, portalLogin, secondInstance, type Harness, type Person } from './harness.ts';
import { PortalBrowser, type Send } from './browser-session.ts';

/** Requests to the app in-process as if from a client at `ip` (what @hono/node-server hands the app as the socket). */
function from(app: Hono<AppEnv>, ip: string): Send {
  return (url, init) => app.request(url, init, { incoming: { socket: { remoteAddress: ip } } });
}

function browserAt(app: Hono<AppEnv>, ip: string): PortalBrowser {
  return new PortalBrowser('http://keyward.test', from(app, ip));
}

/** The sign-in form, sent as a signed-out browser does (a device cookie from earlier sign-ins stays). */
async function attemptSignIn(b: PortalBrowser, email: string, password: string) {
  b.cookies.delete('kw_session');
  const login = await b.get('/login');
  return b.post('/login', { _csrf: PortalBrowser.csrfOf(login.text), email, password, next: '/devices' });
}

const passwordOf = (p: Person) => `${p.email}-pass`;

/** Fixed windows: start each case at the beginning of a minute so that its hits share one. */
function atStartOfMinute(h: Harness): void {
  h.clock.advance(60_000 - (h.clock.now().getTime() % 60_000));
}

describe.each(['sqlite', 'postgres'] as const)('throttling on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind, { rateLimits: { loginPerMinute: 3, revealPerMinute: 4 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function revealFrom(ip: string, deviceId: string, locale = 'en') {
    const res = await from(h.app, ip)(`http://keyward.test/api/v1/devices/${deviceId}/reveal`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.people.owner.token}`, 'content-type': 'application/json', 'accept-language': locale },
      body: '{}',
    });
    const body = (await res.json()) as { key?: string; error?: { code: string; message: string } };
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
  }

  it('reveal: the fifth reveal from one client within a minute waits, and says how long; the same account elsewhere still gets its key', async () => {
    const mac = await enrollMac(h, 'personal');
    await mac.upload('disk1s1', FV_KEY_1);
    atStartOfMinute(h);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await revealFrom('198.51.100.20', mac.deviceId)).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    const limited = await revealFrom('198.51.100.20', mac.deviceId, 'ja');
    expect(limited.status).toBe(429);
    expect(limited.body.key).toBeUndefined();
    expect(limited.body.error?.code).toBe('rate_limited');
    expect(limited.body.error?.message).toMatch(/^試行回数が多すぎます。(\d+ 秒|1 分)後にもう一度お試しください。$/);
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect(Number(limited.retryAfter)).toBeLessThanOrEqual(60);
    // The portal's Get recovery key form counts in the same allowance and says the same.
    const portal = await portalLogin(h, h.people.owner.id);
    const form = await from(h.app, '198.51.100.20')(`http://keyward.test/devices/${mac.deviceId}/reveal`, {
      method: 'POST',
      headers: { cookie: portal.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: portal.csrf }).toString(),
    });
    expect(form.status).toBe(429);
    expect(Number(form.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await form.text()).toMatch(/Too many attempts\. Try again in (\d+ seconds?|1 minute)\./);
    // Someone holding this account's token at another address locks nobody else out.
    expect((await revealFrom('198.51.100.21', mac.deviceId)).body.key).toBe(FV_KEY_1);
    h.clock.advance(61_000);
    expect((await revealFrom('198.51.100.20', mac.deviceId)).status).toBe(200);
  });

  it('sign-in: after three tries from one browser even the right password waits, and the form says how long in the reader\'s language', async () => {
    atStartOfMinute(h);
    const b = browserAt(h.app, '198.51.100.30');
    b.acceptLanguage = 'sv';
    for (let i = 1; i <= 3; i++) expect((await attemptSignIn(b, h.people.other.email, `wrong-${i}`)).res.status).toBe(401);
    const blocked = await attemptSignIn(b, h.people.other.email, passwordOf(h.people.other));
    expect(blocked.res.status).toBe(429);
    expect(blocked.res.headers.getSetCookie().join()).not.toContain('kw_session');
    const retryAfter = Number(blocked.res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(blocked.text).toMatch(/<form method="post" action="\/login"[^]*id="login-error" role="alert">För många försök\. Försök igen om (\d+ sekunder?|1 minut)\.<\/p>/);
  });

  it('sign-in: an attack on an account from many clients stops its unknown browsers only; the browser that signed in before still signs in', async () => {
    const owner = h.people.owner;
    atStartOfMinute(h);
    const known = browserAt(h.app, '192.0.2.10');
    expect((await attemptSignIn(known, owner.email, passwordOf(owner))).res.status).toBe(303);
    expect(known.cookies.get('kw_device')).toBeTruthy();

    const attempts: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const attacker = browserAt(h.app, `203.0.113.${i}`);
      for (let j = 0; j < 3; j++) attempts.push((await attemptSignIn(attacker, owner.email, `guess-${i}-${j}`)).res.status);
    }
    expect(attempts.filter((s) => s === 401).length).toBe(8);
    expect(attempts.slice(8).every((s) => s === 429)).toBe(true);

    // A browser the account has not signed in from waits, even with the right password …
    const stranger = browserAt(h.app, '192.0.2.99');
    expect((await attemptSignIn(stranger, owner.email, passwordOf(owner))).res.status).toBe(429);
    // … so does one holding a copy of the owner's device cookie that was altered …
    const forged = browserAt(h.app, '192.0.2.98');
    forged.cookies.set('kw_device', known.cookies.get('kw_device')!.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A')));
    expect((await attemptSignIn(forged, owner.email, passwordOf(owner))).res.status).toBe(429);
    // … but the owner's own browser signs in, and other accounts are untouched.
    expect((await attemptSignIn(known, owner.email, passwordOf(owner))).res.status).toBe(303);
    expect((await attemptSignIn(browserAt(h.app, '192.0.2.97'), h.people.admin.email, passwordOf(h.people.admin))).res.status).toBe(303);
  });

  it("sign-in: a known browser's own wrong guesses are counted on its device cookie", async () => {
    const helpdesk = h.people.helpdesk;
    atStartOfMinute(h);
    const b = browserAt(h.app, '192.0.2.50');
    expect((await attemptSignIn(b, helpdesk.email, passwordOf(helpdesk))).res.status).toBe(303);
    atStartOfMinute(h);
    for (let i = 1; i <= 3; i++) expect((await attemptSignIn(b, helpdesk.email, `wrong-${i}`)).res.status).toBe(401);
    expect((await attemptSignIn(b, helpdesk.email, passwordOf(helpdesk))).res.status).toBe(429);
    // The cookie names the account it was issued for: for another account this browser is a stranger.
    expect((await attemptSignIn(b, h.people.other.email, 'wrong')).res.status).toBe(401);
  });

  it('back-off: a client that keeps going waits a minute, then until the quarter hour ends, then until the hour ends', async () => {
    const limiter: RateLimiter = kind === 'postgres' ? new PostgresRateLimiter(h.deps.db) : new MemoryRateLimiter();
    const key = `test:backoff:${kind}:${Math.random()}`;
    const t0 = Date.UTC(2031, 0, 1, 10, 0, 0);
    const at = (minutes: number) => t0 + minutes * 60_000;
    const hit = async (minutes: number) => limiter.consume(key, 2, at(minutes));
    // Limit 2: two a minute, six a quarter hour, twelve an hour.
    expect([(await hit(0)).allowed, (await hit(0)).allowed]).toEqual([true, true]);
    expect(await hit(0)).toEqual({ allowed: false, retryAfterMs: 60_000 });
    expect([(await hit(1)).allowed, (await hit(1)).allowed]).toEqual([true, true]);
    expect(await hit(1)).toEqual({ allowed: false, retryAfterMs: 60_000 });
    expect(await hit(1)).toEqual({ allowed: false, retryAfterMs: 14 * 60_000 });
    expect([(await hit(15)).allowed, (await hit(15)).allowed]).toEqual([true, true]);
    expect(await hit(15)).toEqual({ allowed: false, retryAfterMs: 60_000 });
    // Refused hits count too: the twelfth of the hour is the last one it allows.
    for (let i = 0; i < 2; i++) expect(await hit(15)).toEqual({ allowed: false, retryAfterMs: 60_000 });
    expect(await hit(15)).toEqual({ allowed: false, retryAfterMs: 45 * 60_000 });
    expect((await hit(60)).allowed).toBe(true);
  });
});

describe('two service instances on one PostgreSQL', () => {
  let h: Harness;
  let other: Awaited<ReturnType<typeof secondInstance>>;
  beforeAll(async () => {
    h = await createHarness('postgres', { rateLimits: { loginPerMinute: 3, revealPerMinute: 4 } });
    other = await secondInstance(h);
  });
  afterAll(async () => {
    await other?.close();
    await h?.close();
  });

  it('share the sign-in count, and each trusts the device cookie the other issued', async () => {
    const owner = h.people.owner;
    atStartOfMinute(h);
    const known = browserAt(h.app, '192.0.2.10');
    expect((await attemptSignIn(known, owner.email, passwordOf(owner))).res.status).toBe(303);
    const viaFirst = browserAt(h.app, '198.51.100.40');
    const viaSecond = browserAt(other.app, '198.51.100.40');
    expect((await attemptSignIn(viaFirst, owner.email, 'wrong-1')).res.status).toBe(401);
    expect((await attemptSignIn(viaSecond, owner.email, 'wrong-2')).res.status).toBe(401);
    expect((await attemptSignIn(viaFirst, owner.email, 'wrong-3')).res.status).toBe(401);
    expect((await attemptSignIn(viaSecond, owner.email, passwordOf(owner))).res.status).toBe(429);
    const knownOnSecond = browserAt(other.app, '192.0.2.10');
    knownOnSecond.cookies.set('kw_device', known.cookies.get('kw_device')!);
    expect((await attemptSignIn(knownOnSecond, owner.email, passwordOf(owner))).res.status).toBe(303);
  });
});
