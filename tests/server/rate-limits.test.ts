/** Sign-in and reveal are rate limited per user and per IP: past the limit the answer is 429 `rate_limited` and no key is shown. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createHarness, enrollMac, FV_KEY_1, postForm, type Harness } from './harness.ts';

describe('rate limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sqlite', { rateLimits: { loginPerMinute: 3, revealPerMinute: 4 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('reveal: the fifth reveal within a minute is refused; a minute later it works again', async () => {
    const mac = await enrollMac(h, 'personal');
    await mac.upload('disk1s1', FV_KEY_1);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.owner.token, {})).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const limited = await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.owner.token, {});
    expect(limited.body.error?.code).toBe('rate_limited');
    expect(limited.body.key).toBeUndefined();
    h.clock.advance(61_000);
    try {
      expect((await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.owner.token, {})).status).toBe(200);
    } finally {
      h.clock.advance(-61_000);
    }
  });

  it('sign-in: after three attempts for one email, even the right password waits', async () => {
    const page = await h.app.request('/login');
    const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const attempt = (password: string) => postForm(h.app, '/login', { cookie, csrf }, { email: h.people.other.email, password });
    expect((await attempt('wrong-1')).status).toBe(401);
    expect((await attempt('wrong-2')).status).toBe(401);
    expect((await attempt('wrong-3')).status).toBe(401);
    const blocked = await attempt(`${h.people.other.email}-pass`);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('set-cookie') ?? '').not.toContain('kw_session');
  });
});
