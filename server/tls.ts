/**
 * The direct HTTPS listener's certificate: PEM files read at start and again on SIGHUP (a
 * renewed certificate is served to new connections without a restart; a bad pair keeps the
 * old one and says why). Also the warning for a service reachable beyond this machine over
 * plain HTTP, where sign-in passwords and revealed keys would cross the network readable.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { isIP } from 'node:net';

export type TlsFiles = { certFile: string; keyFile: string };
export type TlsPair = { cert: Buffer; key: Buffer };

/** Reads and checks the pair (createSecureContext throws on a key that does not fit the certificate). */
export function readTlsPair(files: TlsFiles): TlsPair {
  const pair = { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
  createSecureContext(pair);
  return pair;
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export function plainHttpWarning(host: string, port: number): string {
  const bar = '!'.repeat(78);
  return [
    bar,
    `!! keyward: serving PLAIN HTTP on ${host}:${port}, reachable from other machines.`,
    '!! Passwords and revealed recovery keys would cross the network unencrypted.',
    '!! Serve HTTPS with --tls-cert FILE --tls-key FILE, or listen on 127.0.0.1 behind a',
    '!! TLS reverse proxy named with --trusted-proxy (README: Operating Keyward).',
    bar,
  ].join('\n');
}
