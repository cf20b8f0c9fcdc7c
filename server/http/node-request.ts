/**
 * The Node request under a Hono context when node:http serves it (`@hono/node-server`), so
 * the body and its size can be read from the Node stream itself, without building the fetch
 * `Request` and web stream that Hono would make for it. Under `app.request` (tests) there is
 * none, and callers use Hono's own request.
 */
import { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/** The Node request behind `c`, while its body has not been read by anyone. */
export function unreadNodeRequest(c: Context): IncomingMessage | null {
  const env: unknown = c.env;
  if (typeof env !== 'object' || env === null || !('incoming' in env)) return null;
  const incoming = env.incoming;
  return incoming instanceof IncomingMessage && !incoming.readableDidRead ? incoming : null;
}

/** The whole body of `incoming`; fails if the request closes before its body ends. */
export function readNodeBody(incoming: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    incoming.once('error', reject);
    incoming.once('close', () => {
      if (!incoming.readableEnded) reject(new Error('the request closed before its body ended'));
    });
  });
}
