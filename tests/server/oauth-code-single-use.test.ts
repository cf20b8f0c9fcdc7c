/**
 * An authorization code presented a second time (RFC 6749 §4.1.2): refused, and the tokens
 * the first exchange issued stop working, since someone else has held the code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAuthorizationCode, EXTENSION_CLIENT_ID } from '../../server/auth/oauth.ts';
import { call, createHarness, pkcePair, REDIRECT_URI, type Harness } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('authorization code reuse (%s)', (kind) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function exchange(code: string, verifier: string) {
    return call(h.app, 'POST', '/oauth/token', null, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: EXTENSION_CLIENT_ID });
  }

  it('the second exchange is refused and the first one’s tokens are revoked', async () => {
    const { verifier, challenge } = pkcePair();
    const code = await issueAuthorizationCode(h.deps, h.people.owner.id, { clientId: EXTENSION_CLIENT_ID, redirectUri: REDIRECT_URI, codeChallenge: challenge, state: 's' });
    const first = await exchange(code, verifier);
    expect(first.status).toBe(200);
    const access = String(first.body.access_token);
    const refresh = String(first.body.refresh_token);
    expect((await call(h.app, 'GET', '/api/v1/me', access)).status).toBe(200);

    const again = await exchange(code, verifier);
    expect(again.status).toBe(400);
    expect(again.body.error?.code).toBe('invalid_grant');
    expect((await call(h.app, 'GET', '/api/v1/me', access)).status).toBe(401);
    expect((await call(h.app, 'POST', '/oauth/token', null, { grant_type: 'refresh_token', refresh_token: refresh })).status).toBe(400);
  });

  it('other browsers of the same person keep working', async () => {
    expect((await call(h.app, 'GET', '/api/v1/me', h.people.owner.token)).status).toBe(200);
  });
});
