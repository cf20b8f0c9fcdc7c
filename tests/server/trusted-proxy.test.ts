/**
 * `--trusted-proxy`: only a peer inside a trusted CIDR is believed about the client
 * (`X-Forwarded-For`, right-most untrusted address). Over real HTTP on 127.0.0.1 — once with
 * 127.0.0.1 trusted, once without — the forwarded address decides the audited IP and the
 * throttling bucket only behind the trusted proxy; anyone else's header changes nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { parseTrustedProxies, resolveClient } from '../../server/http/trusted-proxy.ts';
import { createHarness, enrollMac, FV_KEY_1, type Harness } from './harness.ts';

function listen(server: ServerType): Promise<string> {
  return new Promise((resolve) => {
    server.once('listening', () => {
      const address = server.address();
      resolve(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    });
  });
}

describe('behind a reverse proxy', () => {
  let h: Harness;
  let deviceId = '';
  const servers: ServerType[] = [];
  let behindTrusted = '';
  let direct = '';

  beforeAll(async () => {
    h = await createHarness('sqlite', { rateLimits: { loginPerMinute: 10, revealPerMinute: 2 } });
    const mac = await enrollMac(h, 'personal');
    deviceId = mac.deviceId;
    await mac.upload('disk1s1', FV_KEY_1);
    const trustedApp = createApp({ ...h.deps, config: { ...h.deps.config, trustedProxies: ['127.0.0.1/32', '10.0.0.0/8'] } });
    for (const app of [trustedApp, h.app]) servers.push(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }));
    [behindTrusted, direct] = await Promise.all(servers.map(listen));
  });
  afterAll(async () => {
    for (const s of servers) s.close();
    await h?.close();
  });

  async function reveal(base: string, forwardedFor: string): Promise<number> {
    const res = await fetch(`${base}/api/v1/devices/${deviceId}/reveal`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.people.owner.token}`, 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      body: '{}',
    });
    await res.body?.cancel();
    return res.status;
  }

  async function lastRevealIp(): Promise<string | null> {
    const row = await h.deps.db.selectFrom('audit_events').select('ip').where('action', '=', 'key.revealed').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    return row.ip;
  }

  it('the audited IP is the forwarded client behind a trusted proxy, and the socket peer otherwise', async () => {
    expect(await reveal(behindTrusted, '198.51.100.7')).toBe(200);
    expect(await lastRevealIp()).toBe('198.51.100.7');
    // A client's own forged entries sit left of what the trusted proxies appended.
    expect(await reveal(behindTrusted, '192.0.2.1, 198.51.100.8, 10.1.2.3')).toBe(200);
    expect(await lastRevealIp()).toBe('198.51.100.8');
    expect(await reveal(direct, '198.51.100.7')).toBe(200);
    expect(await lastRevealIp()).toBe('127.0.0.1');
  });

  it('the throttle counts the forwarded client behind a trusted proxy, and the socket peer otherwise', async () => {
    h.clock.advance(60_000 - (h.clock.now().getTime() % 60_000));
    const viaProxy = [await reveal(behindTrusted, '203.0.113.1'), await reveal(behindTrusted, '203.0.113.1'), await reveal(behindTrusted, '203.0.113.1')];
    expect(viaProxy).toEqual([200, 200, 429]);
    expect(await reveal(behindTrusted, '203.0.113.2')).toBe(200);
    // Without a trusted proxy a made-up X-Forwarded-For is not a way round the limit.
    const spoofing = [await reveal(direct, '203.0.113.1'), await reveal(direct, '203.0.113.1'), await reveal(direct, '203.0.113.1')];
    expect(spoofing).toEqual([200, 200, 429]);
    expect(await reveal(direct, '203.0.113.2')).toBe(429);
  });
});

describe('resolving the client', () => {
  const trusted = parseTrustedProxies(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);
  const resolve = (socketAddress: string | undefined, headers: Record<string, string>, url = 'http://keyward.example/login') =>
    resolveClient({ socketAddress, url: new URL(url), header: (name) => headers[name] }, trusted);

  it.each([
    ['a peer that is no proxy', '198.51.100.1', { 'x-forwarded-for': '203.0.113.9' }, '198.51.100.1'],
    ['a trusted IPv4 proxy', '10.1.2.3', { 'x-forwarded-for': '203.0.113.9' }, '203.0.113.9'],
    ['a trusted proxy on a dual-stack socket', '::ffff:10.1.2.3', { 'x-forwarded-for': '203.0.113.9' }, '203.0.113.9'],
    ['a single trusted address', '192.0.2.7', { 'x-forwarded-for': '203.0.113.9' }, '203.0.113.9'],
    ['a trusted IPv6 proxy, client with a port', 'fd12::1', { 'x-forwarded-for': '[2001:db8::5]:4711' }, '2001:db8::5'],
    ['a chain of trusted proxies', '10.0.0.1', { 'x-forwarded-for': '203.0.113.9, 10.9.9.9, fd00::3' }, '203.0.113.9'],
    ['forged entries left of the real client', '10.0.0.1', { 'x-forwarded-for': '1.1.1.1, 2.2.2.2, 203.0.113.9' }, '203.0.113.9'],
    ['garbage in the header', '10.0.0.1', { 'x-forwarded-for': '203.0.113.9, not-an-ip' }, '10.0.0.1'],
    ['no header at all', '10.0.0.1', {}, '10.0.0.1'],
    ['no socket (in-process)', undefined, { 'x-forwarded-for': '203.0.113.9' }, 'in-process'],
  ])('%s', (_label, socket, headers, ip) => {
    expect(resolve(socket, headers).ip).toBe(ip);
  });

  it('believes X-Forwarded-Proto and X-Forwarded-Host from a trusted proxy only', () => {
    const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'keyward.example.org' };
    expect(resolve('10.0.0.1', headers, 'http://10.0.0.2:8787/login')).toEqual({ ip: '10.0.0.1', https: true, host: 'keyward.example.org' });
    expect(resolve('198.51.100.1', headers, 'http://10.0.0.2:8787/login')).toEqual({ ip: '198.51.100.1', https: false, host: '10.0.0.2:8787' });
    expect(resolve('198.51.100.1', {}, 'https://keyward.example.org/login').https).toBe(true);
  });

  it('refuses a bad trusted proxy with a one-line message, at start', () => {
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'proxy.example', '10.0.0.0/8/1', '10.0.0.0/x']) {
      expect(() => parseTrustedProxies([bad])).toThrow(new RegExp(`^trusted proxy "${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" is not an IP address or CIDR[^\\n]*$`));
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'keyward-proxy-'));
    try {
      const run = spawnSync(process.execPath, ['server/cli.ts', 'serve', '--port', '0', '--data', dataDir, '--trusted-proxy', '10.0.0.0/8,10.0.0.0/33'], { encoding: 'utf8', timeout: 20_000 });
      expect(run.status).toBe(2);
      expect(run.stderr.trim().split('\n')).toEqual(['keyward: trusted proxy "10.0.0.0/33" is not an IP address or CIDR (examples: 10.0.0.0/8, 192.0.2.7, fd00::/8)']);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
