/**
 * Who is on the other end of a request. The socket's peer and protocol, unless the peer is a
 * reverse proxy the operator trusts (`--trusted-proxy <CIDR,…>`): only then are
 * `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` believed. The client is the
 * right-most `X-Forwarded-For` address that is not itself a trusted proxy: every trusted hop
 * appends the address it saw, so everything left of the first untrusted one was written by
 * the client and may be forged (RFC 7239 §8.3; MDN "X-Forwarded-For › Selecting an IP address").
 */
import { BlockList, isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './context.ts';
import type { ResolvedClient } from './callers.ts';

export type RequestFacts = {
  socketAddress: string | undefined;
  /** The URL as the server read it: the socket's protocol and the `Host` header. */
  url: URL;
  header(name: string): string | undefined;
};

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, what a dual-stack socket reports) as plain IPv4. */
function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1] : address.toLowerCase();
}

/**
 * The trusted proxies as a `BlockList`. Each entry is a CIDR (`10.0.0.0/8`, `fd00::/8`) or a
 * single address; a bad one throws an error whose message is one line, fit to print at start.
 */
export function parseTrustedProxies(specs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of specs) {
    const spec = raw.trim();
    if (!spec) continue;
    const [address, prefixText, ...rest] = spec.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
    if (!family || rest.length > 0 || !(prefix >= 0 && prefix <= max)) {
      throw new Error(`trusted proxy "${spec}" is not an IP address or CIDR (examples: 10.0.0.0/8, 192.0.2.7, fd00::/8)`);
    }
    list.addSubnet(normalizeAddress(address), prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** `KEYWARD_TRUSTED_PROXY` / `--trusted-proxy`: a comma-separated list. */
export function splitProxyList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** One `X-Forwarded-For` entry as an address (`203.0.113.9`, `203.0.113.9:4711`, `[2001:db8::1]:80`); null if it is none. */
function forwardedAddress(entry: string): string | null {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(entry);
  const address = bracketed?.[1] ?? withPort?.[1] ?? entry;
  return isIP(address) ? normalizeAddress(address) : null;
}

function firstValue(header: string | undefined): string | undefined {
  const value = header?.split(',')[0]?.trim();
  return value ? value : undefined;
}

export function resolveClient(request: RequestFacts, trusted: BlockList): ResolvedClient {
  const host = request.url.host;
  const socketHttps = request.url.protocol === 'https:';
  const peer = request.socketAddress ? normalizeAddress(request.socketAddress) : undefined;
  if (!peer || !isTrusted(trusted, peer)) return { ip: peer ?? 'in-process', https: socketHttps, host };
  let ip = peer;
  const hops = (request.header('x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = forwardedAddress(hops[i]);
    // Not an address: the last hop we could vouch for is as far as we can see.
    if (!hop) break;
    ip = hop;
    if (!isTrusted(trusted, hop)) break;
  }
  const proto = firstValue(request.header('x-forwarded-proto'))?.toLowerCase();
  return {
    ip,
    https: proto ? proto === 'https' : socketHttps,
    host: firstValue(request.header('x-forwarded-host')) ?? host,
  };
}

type NodeBindings = { incoming?: { socket?: { remoteAddress?: string } } };

/** Resolves the client once per request; read it with `clientIp(c)` and `overHttps(c)` (context.ts). */
export function clientResolver(trustedProxies: readonly string[]): MiddlewareHandler<AppEnv> {
  const trusted = parseTrustedProxies(trustedProxies);
  return async (c, next) => {
    const env = c.env as NodeBindings | undefined;
    const client = resolveClient(
      { socketAddress: env?.incoming?.socket?.remoteAddress, url: new URL(c.req.url), header: (name) => c.req.header(name) },
      trusted,
    );
    c.set('client', client);
    await next();
  };
}
