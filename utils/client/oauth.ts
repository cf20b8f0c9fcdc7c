/**
 * OAuth 2.0 authorization code flow with PKCE (RFC 6749, RFC 7636 S256) for the extension:
 * builds the authorize URL, exchanges the code and refreshes tokens at the endpoint table's
 * `token` endpoint (`/oauth/token`).
 * Uses only Web Crypto and fetch, so it runs in a service worker.
 */
import type { TokenRequest } from '../../lib/api/contract.ts';
import { oauthEndpoints } from '../../lib/api/endpoints.ts';
import { prepareRequest } from '../../lib/api/request.ts';
import { readResponse, type ApiResult } from './api-client.ts';

export const OAUTH_CLIENT_ID = 'keyward-extension';

/** What the extension keeps in storage.local: tokens only (never keys or passphrases). */
export type StoredTokens = { accessToken: string; refreshToken: string | null; expiresAt: number };

export type PkceRequest = { state: string; verifier: string; challenge: string };

export function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomToken(byteLength: number): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(byteLength)));
}

export async function createPkceRequest(): Promise<PkceRequest> {
  const verifier = randomToken(32);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return { state: randomToken(16), verifier, challenge: base64Url(new Uint8Array(digest)) };
}

export function authorizeUrl(serviceUrl: string, redirectUri: string, pkce: PkceRequest): string {
  const url = new URL('/oauth/authorize', serviceUrl);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: OAUTH_CLIENT_ID,
    redirect_uri: redirectUri,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    state: pkce.state,
  }).toString();
  return url.toString();
}

export { readAuthorizationResponse, type AuthorizationResponse } from './authorization-response.ts';

async function requestToken(serviceUrl: string, request: TokenRequest): Promise<ApiResult<StoredTokens>> {
  const token = oauthEndpoints.token;
  let response: Response;
  try {
    const prepared = prepareRequest(token, { body: request });
    response = await fetch(new URL(prepared.path, serviceUrl), {
      method: prepared.method,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: prepared.body,
      credentials: 'omit',
    });
  } catch {
    return { ok: false, error: { code: 'network', message: 'The escrow service could not be reached.' } };
  }
  const result = await readResponse(response, token.response.schema);
  if (!result.ok) return result;
  return {
    ok: true,
    data: {
      accessToken: result.data.access_token,
      refreshToken: result.data.refresh_token,
      expiresAt: Date.now() + result.data.expires_in * 1000,
    },
  };
}

export function exchangeCode(serviceUrl: string, code: string, redirectUri: string, verifier: string) {
  return requestToken(serviceUrl, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    client_id: OAUTH_CLIENT_ID,
    code_verifier: verifier,
  });
}

export function refreshTokens(serviceUrl: string, refreshToken: string) {
  return requestToken(serviceUrl, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: OAUTH_CLIENT_ID });
}
