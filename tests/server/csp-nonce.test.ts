/**
 * Every answer's Content-Security-Policy carries a nonce of its own: 16 random bytes, never
 * repeated, also across the draws from the random source (one per 256 nonces).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('CSP nonces (%s)', (kind) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('gives each answer a fresh 16-byte nonce', async () => {
    const nonces: string[] = [];
    for (let i = 0; i < 600; i++) {
      const res = await h.app.request('/api/v1/me', { headers: { authorization: `Bearer ${h.people.owner.token}` } });
      await res.text();
      const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(res.headers.get('content-security-policy') ?? '')?.[1];
      expect(nonce).toBeDefined();
      nonces.push(nonce ?? '');
    }
    for (const nonce of nonces) expect(Buffer.from(nonce, 'base64')).toHaveLength(16);
    expect(new Set(nonces).size).toBe(nonces.length);
  });
});
