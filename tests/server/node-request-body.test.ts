/**
 * Bodies as node:http delivers them (the service's real path, not `app.request`): a body with
 * a declared length and a chunked one are both read whole, and both are refused with 413 when
 * over the limit — the declared length before anything is read, the chunked body as it comes.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, enrollMac, FV_KEY_1, FV_KEY_2, type Harness, type TestAgent } from './harness.ts';

type Answer = { status: number; body: { state?: string; kind?: string; error?: { code: string } } };

/** POSTs `parts` as one body: with a `content-length`, or chunked (one chunk per part). */
function post(port: number, path: string, token: string, parts: string[], framing: 'declared' | 'chunked'): Promise<Answer> {
  const whole = parts.join('');
  const length: Record<string, string> = framing === 'declared' ? { 'content-length': String(Buffer.byteLength(whole)) } : { 'transfer-encoding': 'chunked' };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'] }));
      res.on('error', reject);
    });
    req.on('error', reject);
    for (const part of parts) req.write(part);
    req.end();
  });
}

describe.each(['sqlite', 'postgres'] as const)('request bodies over node:http (%s)', (kind) => {
  let h: Harness;
  let mac: TestAgent;
  let server: ServerType;
  let port: number;

  beforeAll(async () => {
    h = await createHarness(kind, { maxBodyBytes: 16 * 1024 });
    mac = await enrollMac(h, 'personal');
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await h?.close();
  });

  const keysPath = () => `/api/v1/devices/${mac.deviceId}/keys`;
  const storeBody = (key: string) => JSON.stringify({ key, confirmKey: key });
  const oversized = () => JSON.stringify({ key: FV_KEY_1, confirmKey: FV_KEY_1, pad: 'x'.repeat(40_000) });

  it('reads a body with a declared length', async () => {
    const answer = await post(port, keysPath(), h.people.owner.token, [storeBody(FV_KEY_1)], 'declared');
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ kind: 'verify-and-rotate', state: 'queued' });
  });

  it('reads a chunked body whole', async () => {
    const body = storeBody(FV_KEY_2);
    const answer = await post(port, keysPath(), h.people.owner.token, [body.slice(0, 10), body.slice(10, 30), body.slice(30)], 'chunked');
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ kind: 'verify-and-rotate', state: 'queued' });
  });

  it('refuses an oversized body with a declared length, and one sent in chunks', async () => {
    const declared = await post(port, keysPath(), h.people.owner.token, [oversized()], 'declared');
    expect(declared.status).toBe(413);
    expect(declared.body.error?.code).toBe('payload_too_large');
    const body = oversized();
    const chunked = await post(port, keysPath(), h.people.owner.token, [body.slice(0, 20_000), body.slice(20_000)], 'chunked');
    expect(chunked.status).toBe(413);
    expect(chunked.body.error?.code).toBe('payload_too_large');
  });
});
