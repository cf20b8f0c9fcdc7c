/** The agent's HTTP client: retries with backoff on network failures and 5xx, not on 4xx; no key in errors. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentApiError, AgentNetworkError, httpAgentApi } from '../../agent/api-client.ts';

const FAST = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 };
let server: Server | null = null;

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

describe('agent API client', () => {
  it('retries dropped connections and 503s, then succeeds, sending the device credential', async () => {
    let calls = 0;
    const auth: (string | undefined)[] = [];
    const url = await serve((req, res) => {
      calls += 1;
      auth.push(req.headers.authorization);
      if (calls === 1) return req.socket.destroy();
      if (calls === 2) return res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tasks: [], nextCheckinSeconds: 30 }));
    });
    const result = await httpAgentApi({ serverUrl: url, credential: 'kwa_test', retry: FAST }).checkin([]);
    expect(result).toEqual({ tasks: [], nextCheckinSeconds: 30, verifyVolumes: [] });
    expect(calls).toBe(3);
    expect(auth.every((a) => a === 'Bearer kwa_test')).toBe(true);
  });

  it('does not retry a 4xx, and the error carries the code but never the key that was sent', async () => {
    let calls = 0;
    const url = await serve((_req, res) => {
      calls += 1;
      res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'conflict', message: 'Operation is closed.' } }));
    });
    const key = 'AU2APHMKWBGXPWKXM3X3VAPY';
    const error = await httpAgentApi({ serverUrl: url, credential: 'c', retry: FAST }).escrowPending('op-1', { key }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentApiError);
    expect((error as AgentApiError).status).toBe(409);
    expect((error as AgentApiError).code).toBe('conflict');
    expect((error as Error).message).not.toContain(key);
    expect(calls).toBe(1);
  });

  it('gives up with a network error after the configured attempts when nothing listens', async () => {
    const url = await serve((req) => req.socket.destroy());
    const started = Date.now();
    await expect(httpAgentApi({ serverUrl: url, credential: 'c', retry: FAST }).complete('op', { result: 'wrong_key' })).rejects.toBeInstanceOf(AgentNetworkError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a service that keeps answering 500 is named with its address and "a server error", not called unreachable', async () => {
    const url = await serve((_req, res) => res.writeHead(500).end());
    const error = await httpAgentApi({ serverUrl: url, credential: 'c', retry: FAST }).checkin([]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentNetworkError);
    expect((error as Error).message).toBe(`the Keyward service at ${url} answered POST checkin with HTTP 500 (a server error), 4 attempts in a row; it is running but failing: try again later, or ask IT to check the service's log`);
  });

  it('an address where nothing listens is named, with the reason, instead of "fetch failed"', async () => {
    const url = await serve(() => undefined);
    server?.close();
    server = null;
    const error = await httpAgentApi({ serverUrl: url, credential: 'c', retry: FAST }).checkin([]).catch((e: unknown) => e);
    expect((error as Error).message).toBe(`cannot reach the Keyward service at ${url} (connection refused: nothing listens there) after 4 attempts; check the address and the network`);
  });

  it('a refused credential is recognizable (the agent stops on it) and carries the service\'s own words', async () => {
    const url = await serve((_req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'device_retired', message: 'This device was retired by IT.' } })));
    const error = await httpAgentApi({ serverUrl: url, credential: 'c', retry: FAST }).checkin([]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentApiError);
    expect((error as AgentApiError).credentialRefused).toBe(true);
    expect((error as AgentApiError).serviceMessage).toBe('This device was retired by IT.');
  });

  it('a new credential handed out at check-in is stored before it is used, and used from then on', async () => {
    const seen: (string | undefined)[] = [];
    const url = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tasks: [], nextCheckinSeconds: 30, ...(seen.length === 1 ? { credential: 'kwa_rotated' } : {}) }));
    });
    const stored: string[] = [];
    const api = httpAgentApi({ serverUrl: url, credential: 'kwa_first', retry: FAST, onNewCredential: (c) => stored.push(c) });
    await api.checkin([]);
    expect(stored).toEqual(['kwa_rotated']);
    await api.checkin([]);
    expect(seen).toEqual(['Bearer kwa_first', 'Bearer kwa_rotated']);
  });
});
