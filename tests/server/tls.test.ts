/**
 * Serving HTTPS directly: `--tls-cert/--tls-key` serve the PEM pair (cookies Secure, HSTS
 * sent), a renewed certificate is served after a reload (SIGHUP) without a restart, and a bad
 * one is refused while the old one stays. A non-loopback address without TLS gets a loud
 * warning; a port in use and an unreachable PostgreSQL are one line with the fix, and the
 * database password never appears.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { startKeywardServer } from '../../server/main.ts';
import { CLI, keyward, noStackTrace } from './cli-run.ts';

const root = mkdtempSync(join(tmpdir(), 'keyward-tls-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A self-signed certificate for 127.0.0.1, as an operator would make one with openssl. */
function selfSigned(name: string): { cert: string; key: string } {
  const cert = join(root, `${name}.crt`);
  const key = join(root, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; fingerprint: string };

function get(url: string, ca: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, fingerprint }));
    });
    req.on('error', reject);
    req.end();
  });
}

const fingerprintOf = (certFile: string) => new X509Certificate(readFileSync(certFile)).fingerprint256;

describe('TLS and start-up errors', () => {
  it('serves HTTPS with the given certificate, and a renewed one after a reload without a restart', async () => {
    const first = selfSigned('first');
    const second = selfSigned('second');
    const live = { certFile: join(root, 'live.crt'), keyFile: join(root, 'live.key') };
    copyFileSync(first.cert, live.certFile);
    copyFileSync(first.key, live.keyFile);
    const server = await startKeywardServer({ port: 0, dataDir: join(root, 'data'), quiet: true, tls: live });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const ca = `${readFileSync(first.cert, 'utf8')}${readFileSync(second.cert, 'utf8')}`;
      const login = await get(`${server.url}/login`, ca);
      expect(login.status).toBe(200);
      expect(login.fingerprint).toBe(fingerprintOf(first.cert));
      expect(login.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(String(login.headers['set-cookie'])).toMatch(/; Secure/i);

      copyFileSync(second.cert, live.certFile);
      copyFileSync(second.key, live.keyFile);
      expect(server.reload()).toEqual([]);
      expect((await get(`${server.url}/login`, ca)).fingerprint).toBe(fingerprintOf(second.cert));

      // A key that does not fit the certificate: refused, the renewed certificate stays.
      copyFileSync(first.key, live.keyFile);
      expect(server.reload()).toEqual([expect.stringMatching(/^keyward: the TLS certificate was not reloaded \(.*\); still serving the previous one$/)]);
      expect((await get(`${server.url}/login`, ca)).fingerprint).toBe(fingerprintOf(second.cert));
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('serve --tls-cert/--tls-key from the command line: https, no plain-HTTP warning on any address', async () => {
    const pair = selfSigned('cli');
    const run = await keyward(['serve', '--port', '0', '--host', '0.0.0.0', '--data', join(root, 'cli-data'), '--tls-cert', pair.cert, '--tls-key', pair.key], { untilServing: true });
    expect(run.stdout).toMatch(/keyward: serving https:\/\/0\.0\.0\.0:\d+/);
    expect(run.stderr).not.toContain('PLAIN HTTP');
    const half = await keyward(['serve', '--data', join(root, 'cli-data'), '--tls-cert', pair.cert]);
    expect([half.code, half.stderr.trim()]).toEqual([2, 'keyward: HTTPS needs both --tls-cert FILE and --tls-key FILE']);
  }, 60_000);

  it('SIGHUP makes a running `keyward serve` re-read its certificate', async () => {
    const pair = selfSigned('hup');
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', join(root, 'hup-data'), '--tls-cert', pair.cert, '--tls-key', pair.key], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const waiting: { text: string; resolve(): void }[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      for (const w of waiting.filter((x) => stdout.includes(x.text))) w.resolve();
    });
    const seen = (text: string) => new Promise<void>((resolve) => {
      if (stdout.includes(text)) resolve();
      else waiting.push({ text, resolve });
    });
    try {
      await seen('keyward: serving https://');
      child.kill('SIGHUP');
      await seen(`keyward: TLS certificate reloaded from ${pair.cert}`);
      expect(child.exitCode).toBe(null);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('close', resolve));
    }
  }, 60_000);

  it('plain HTTP on a non-loopback address is warned about loudly', async () => {
    const run = await keyward(['serve', '--port', '0', '--host', '0.0.0.0', '--data', join(root, 'plain')], { untilServing: true });
    expect(run.stderr).toMatch(/serving PLAIN HTTP on 0\.0\.0\.0:\d+, reachable from other machines/);
    expect(run.stderr).toContain('--tls-cert FILE --tls-key FILE');
    const local = await keyward(['serve', '--port', '0', '--data', join(root, 'plain')], { untilServing: true });
    expect(local.stderr).not.toContain('PLAIN HTTP');
  }, 60_000);

  it('a port in use and an unreachable PostgreSQL are one line each, with the fix and without the password', async () => {
    const busy = await startKeywardServer({ port: 0, dataDir: join(root, 'busy-a'), quiet: true });
    try {
      const run = await keyward(['serve', '--port', String(busy.port), '--data', join(root, 'busy-b')]);
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split('\n').at(-1)).toBe(`keyward: serve failed: port ${busy.port} on 127.0.0.1 is already in use (another Keyward or another service); choose another with --port N`);
      noStackTrace(run);
    } finally {
      await busy.stop();
    }
    const pg = await keyward(['serve', '--port', '0', '--data', join(root, 'pg'), '--database', 'postgres://keyward:s3cret-pw@127.0.0.1:1/keyward']);
    expect(pg.code).toBe(1);
    const last = pg.stderr.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(/^keyward: serve failed: cannot reach PostgreSQL at postgres:\/\/keyward@127\.0\.0\.1:1\/keyward: .*ECONNREFUSED/);
    expect(`${pg.stdout}${pg.stderr}`).not.toContain('s3cret-pw');
    noStackTrace(pg);
  }, 60_000);
});
