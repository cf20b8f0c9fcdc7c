/**
 * A stand-in escrow service over real HTTP for background-module tests: answers `/api/v1/me`,
 * `/api/v1/devices` (full list or delta from a cursor), a device's reveal and the OAuth token
 * endpoint with contract-shaped bodies from what the test puts in it, and records every
 * request it was sent (with the token endpoint's form).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Device, Me, RevealedKey } from '../../lib/api/contract.ts';

/** A request body's fields, sent as a form or as a JSON object of strings (what `/oauth/token` takes); null otherwise. */
function fieldsOf(contentType: string, body: string): Record<string, string> | null {
  if (contentType.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(body));
  if (!contentType.startsWith('application/json')) return null;
  const parsed: unknown = JSON.parse(body);
  if (typeof parsed !== 'object' || parsed === null) return null;
  return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

export type FakeService = {
  url: string;
  requests: { method: string; path: string; authorization: string | null; form: Record<string, string> | null }[];
  me: Me;
  devices: Device[];
  /** The cursor the next device list answers with. */
  cursor: string;
  /** What a reveal of a device answers (by device id); a device missing here answers 404 no_key. */
  keys: Map<string, RevealedKey>;
  /** Refresh tokens the token endpoint refuses (as after a revocation on the portal). */
  revokedRefreshTokens: Set<string>;
  /** How many token pairs the token endpoint has issued (`access-N` / `refresh-N`). */
  issued: number;
  close(): Promise<void>;
};

export async function startFakeService(): Promise<FakeService> {
  const service: Omit<FakeService, 'url' | 'close'> = {
    requests: [],
    me: { user: { id: 'u1', email: 'astrid@example.com', name: 'Astrid Lund', role: 'user', locale: 'sv' }, org: { name: 'Demo Org', supportContact: 'it@example.com', offlineCache: 'keys' } },
    devices: [],
    cursor: 'cursor-1',
    keys: new Map(),
    revokedRefreshTokens: new Set(),
    issued: 0,
  };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const form = fieldsOf(request.headers['content-type'] ?? '', body);
      service.requests.push({ method: request.method ?? 'GET', path: `${url.pathname}${url.search}`, authorization: request.headers.authorization ?? null, form });
      if (request.method === 'POST' && url.pathname === '/oauth/token') {
        if (form?.grant_type === 'refresh_token' && service.revokedRefreshTokens.has(form.refresh_token)) {
          return answer(400, { error: { code: 'invalid_grant', message: 'The refresh token was revoked.' } });
        }
        service.issued += 1;
        return answer(200, { access_token: `access-${service.issued}`, token_type: 'Bearer', expires_in: 3600, refresh_token: `refresh-${service.issued}` });
      }
      const reveal = /^\/api\/v1\/devices\/([^/]+)\/reveal$/.exec(url.pathname);
      if (request.method === 'GET' && url.pathname === '/api/v1/me') return answer(200, service.me);
      if (request.method === 'GET' && url.pathname === '/api/v1/devices') return answer(200, { devices: service.devices, cursor: service.cursor });
      if (request.method === 'POST' && reveal) {
        const key = service.keys.get(decodeURIComponent(reveal[1]));
        return key ? answer(200, key) : answer(404, { error: { code: 'no_key', message: 'No key is escrowed.' } });
      }
      answer(404, { error: { code: 'not_found', message: 'Not found.' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(service, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
