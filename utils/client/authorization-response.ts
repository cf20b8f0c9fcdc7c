/**
 * Reads the consent page's answer at the redirect URI. Apart from oauth.ts (which re-exports it)
 * so the pages that read it do not carry the token exchange and its schemas.
 */

/** What the consent page sent back to the redirect URI (RFC 6749 §4.1.2): a code, a refusal, or nothing usable. */
export type AuthorizationResponse = { kind: 'code'; code: string; state: string } | { kind: 'denied' } | { kind: 'invalid' };

export function readAuthorizationResponse(params: URLSearchParams): AuthorizationResponse {
  const code = params.get('code');
  const state = params.get('state');
  if (code && state) return { kind: 'code', code, state };
  return params.get('error') === 'access_denied' ? { kind: 'denied' } : { kind: 'invalid' };
}
