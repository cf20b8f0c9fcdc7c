/**
 * OAuth 2.0 for the browser extension (RFC 6749 authorization code grant with RFC 7636 PKCE,
 * S256 only; public client `keyward-extension`). Codes go only to a redirect URI on the
 * allow-list of extensions (oauth-clients.ts), compared exactly, and record which extension they
 * were for. Codes live 2 minutes and work once (a second use revokes the browser the first one
 * signed in); access tokens live ~10 minutes; refresh tokens rotate on every use, and presenting
 * a used refresh token revokes its whole family (the "connected browser"), per RFC 9700 §4.14.
 * A browser's grant records the portal sign-in it rests on; a refresh fails once that sign-in is
 * no longer accepted (disabled or deleted account, SSO sign-in past its maximum age, password
 * sign-in turned off: sign-in-policy.ts).
 */
import type { CachedAccess } from '../db/lookup-cache.ts';
import { createHash } from 'node:crypto';
import type { TokenResponse } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { hashToken, randomToken, safeEqual } from '../crypto/secrets.ts';
import type { Trx } from '../services/key-versions.ts';
import type { UserTable } from '../db/schema.ts';
import { findClientByRedirect } from './oauth-clients.ts';
import { browserName, type OAuthClient } from './extension-clients.ts';
import { isActiveAccount, type AuthMethod } from './sessions.ts';
import { signInStillValid } from './sign-in-policy.ts';

export const EXTENSION_CLIENT_ID = 'keyward-extension';
const CODE_SECONDS = 120;
/** "Last used" is written at most this often per browser, not on every API request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export type AuthorizeParams = { clientId: string; redirectUri: string; codeChallenge: string; state: string };

/** Checks the shape of an authorize request (query or form); anything wrong is a 400, never a redirect. */
export function parseAuthorizeParams(q: Record<string, string | undefined>): AuthorizeParams {
  if (q.client_id !== EXTENSION_CLIENT_ID) throw new ApiFailure(400, 'invalid_client', { field: 'client_id' });
  if (!q.redirect_uri || q.redirect_uri.length > 300) throw new ApiFailure(400, 'invalid_input', { field: 'redirect_uri' });
  if (q.response_type !== 'code') throw new ApiFailure(400, 'invalid_input', { field: 'response_type' });
  if (q.code_challenge_method !== 'S256') throw new ApiFailure(400, 'invalid_input', { field: 'code_challenge_method' });
  if (!q.code_challenge || !/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge)) throw new ApiFailure(400, 'invalid_input', { field: 'code_challenge' });
  const state = q.state ?? '';
  if (state.length > 500) throw new ApiFailure(400, 'invalid_input', { field: 'state' });
  return { clientId: q.client_id, redirectUri: q.redirect_uri, codeChallenge: q.code_challenge, state };
}

/** The allow-listed extension a redirect URI belongs to; 400 `invalid_client` for any other URI. */
export async function allowedClient(deps: AppDeps, redirectUri: string): Promise<OAuthClient> {
  const client = await findClientByRedirect(deps.db, deps, redirectUri);
  if (!client) throw new ApiFailure(400, 'invalid_client', { field: 'redirect_uri' });
  return client;
}

/** A valid authorize request for an allow-listed extension, or a 400. */
export async function checkAuthorizeRequest(deps: AppDeps, q: Record<string, string | undefined>): Promise<{ params: AuthorizeParams; client: OAuthClient }> {
  const params = parseAuthorizeParams(q);
  return { params, client: await allowedClient(deps, params.redirectUri) };
}

/** How and when the portal sign-in a code (and then the browser's grant) rests on happened. */
export type CodeSignIn = { method: AuthMethod; at: string };

/** A one-time code for the allow-listed extension `p.redirectUri` belongs to (400 for any other). */
export async function issueAuthorizationCode(deps: AppDeps, userId: string, p: AuthorizeParams, signIn: CodeSignIn = { method: 'password', at: nowIso(deps) }): Promise<string> {
  const client = await allowedClient(deps, p.redirectUri);
  const code = randomToken();
  const now = deps.clock.now();
  await deps.db
    .insertInto('oauth_codes')
    .values({
      code_hash: hashToken(code),
      user_id: userId,
      client_id: p.clientId,
      redirect_uri: p.redirectUri,
      code_challenge: p.codeChallenge,
      expires_at: new Date(now.getTime() + CODE_SECONDS * 1000).toISOString(),
      used_at: null,
      created_at: now.toISOString(),
      extension_id: client.id,
      auth_method: signIn.method,
      auth_time: signIn.at,
    })
    .execute();
  return code;
}

/** The operating system a user agent names ('' when it names none we know). */
export function operatingSystem(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  return /Windows/.test(ua) ? 'Windows' : /CrOS/.test(ua) ? 'ChromeOS' : /Mac OS X|Macintosh/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
}

/** The browser as its user agent says, kept on the grant as a record of the sign-in. */
export function browserLabel(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : 'Browser';
  const os = operatingSystem(ua);
  return os ? `${browser} on ${os}` : browser;
}

async function issueTokens(trx: Trx, deps: AppDeps, grantId: string): Promise<TokenResponse> {
  const now = deps.clock.now();
  const access = `kwt_${randomToken()}`;
  const refresh = `kwr_${randomToken()}`;
  await trx
    .insertInto('oauth_tokens')
    .values([
      { token_hash: hashToken(access), grant_id: grantId, kind: 'access', expires_at: new Date(now.getTime() + deps.config.accessTokenSeconds * 1000).toISOString(), used_at: null, created_at: now.toISOString() },
      { token_hash: hashToken(refresh), grant_id: grantId, kind: 'refresh', expires_at: new Date(now.getTime() + deps.config.refreshTokenDays * 86_400_000).toISOString(), used_at: null, created_at: now.toISOString() },
    ])
    .execute();
  await trx.updateTable('oauth_grants').set({ last_used_at: now.toISOString() }).where('id', '=', grantId).execute();
  return { access_token: access, token_type: 'Bearer', expires_in: deps.config.accessTokenSeconds, refresh_token: refresh };
}

function pkceMatches(verifier: string, challenge: string): boolean {
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false;
  return safeEqual(createHash('sha256').update(verifier).digest('base64url'), challenge);
}

/** A code's grant has an id derived from the code, so a second use of the code can find it and revoke it. */
function grantIdForCode(codeHash: string): string {
  return hashToken(`grant:${codeHash}`).slice(0, 32);
}

async function revokeGrantOfCode(trx: Trx, codeHash: string, at: string): Promise<null> {
  await trx.updateTable('oauth_grants').set({ revoked_at: at }).where('id', '=', grantIdForCode(codeHash)).where('revoked_at', 'is', null).execute();
  return null;
}

export type CodeExchange = { code: string; code_verifier: string; redirect_uri: string; client_id: string };

export async function exchangeAuthorizationCode(deps: AppDeps, req: CodeExchange, userAgent: string | undefined): Promise<TokenResponse> {
  if (req.client_id !== EXTENSION_CLIENT_ID) throw new ApiFailure(401, 'invalid_client');
  const at = nowIso(deps);
  // A code is spent by any attempt, so a failed guess cannot be retried (the commit keeps that).
  const tokens = await deps.db.transaction().execute(async (trx) => {
    // Locked so that removing this extension from the list waits for, then revokes, the grant made here.
    const client = await findClientByRedirect(trx, deps, req.redirect_uri, true);
    if (!client) throw new ApiFailure(400, 'invalid_client', { field: 'redirect_uri' });
    const code = await trx.selectFrom('oauth_codes').selectAll().where('code_hash', '=', hashToken(req.code)).executeTakeFirst();
    if (!code) return null;
    // A spent code presented again: the tokens it gave may be in the wrong hands (RFC 6749 §4.1.2).
    if (code.used_at) return revokeGrantOfCode(trx, code.code_hash, at);
    if (code.expires_at <= at) return null;
    const used = await trx.updateTable('oauth_codes').set({ used_at: at }).where('code_hash', '=', code.code_hash).where('used_at', 'is', null).executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) return revokeGrantOfCode(trx, code.code_hash, at);
    if (code.client_id !== req.client_id || code.redirect_uri !== req.redirect_uri || code.extension_id !== client.id) return null;
    if (!pkceMatches(req.code_verifier, code.code_challenge)) return null;
    // An account disabled or deleted after the code was issued gets no browser.
    const user = await trx.selectFrom('users').select(['disabled_at', 'deleted_at']).where('id', '=', code.user_id).executeTakeFirst();
    if (!user || !isActiveAccount(user)) return null;
    const grantId = grantIdForCode(code.code_hash);
    await trx
      .insertInto('oauth_grants')
      .values({
        id: grantId, user_id: code.user_id, client_id: code.client_id, label: browserLabel(userAgent), created_at: at, last_used_at: at, revoked_at: null,
        extension_id: client.id, os: operatingSystem(userAgent), auth_method: code.auth_method, auth_time: code.auth_time,
      })
      .execute();
    return issueTokens(trx, deps, grantId);
  });
  if (!tokens) throw new ApiFailure(400, 'invalid_grant');
  return tokens;
}

export async function refreshTokens(deps: AppDeps, refreshToken: string, clientId: string | undefined): Promise<TokenResponse> {
  if (clientId !== undefined && clientId !== EXTENSION_CLIENT_ID) throw new ApiFailure(401, 'invalid_client');
  const at = nowIso(deps);
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('oauth_tokens').selectAll().where('token_hash', '=', hashToken(refreshToken)).where('kind', '=', 'refresh').executeTakeFirst();
    if (!row) return null;
    const grant = await trx.selectFrom('oauth_grants').selectAll().where('id', '=', row.grant_id).executeTakeFirstOrThrow();
    if (grant.revoked_at || row.expires_at <= at) return null;
    // Disabled, deleted, an SSO sign-in past the provider's maximum age, or passwords turned off: signed out.
    if (!(await signInStillValid(trx, { userId: grant.user_id, authMethod: grant.auth_method, authTime: grant.auth_time }, deps.clock.now()))) {
      await trx.updateTable('oauth_grants').set({ revoked_at: at }).where('id', '=', grant.id).execute();
      return null;
    }
    const claimed = await trx.updateTable('oauth_tokens').set({ used_at: at }).where('token_hash', '=', row.token_hash).where('used_at', 'is', null).executeTakeFirst();
    if (row.used_at || Number(claimed.numUpdatedRows) !== 1) {
      // A refresh token presented twice: someone holds a copy. Sign the whole browser out.
      await trx.updateTable('oauth_grants').set({ revoked_at: at }).where('id', '=', grant.id).execute();
      return 'reused' as const;
    }
    return issueTokens(trx, deps, grant.id);
  });
  if (outcome === null || outcome === 'reused') throw new ApiFailure(400, 'invalid_grant');
  return outcome;
}

/**
 * The user behind a Bearer access token, or 401 (`session_expired` for an expired token). Marks
 * the browser as used now when its mark is a minute old or more, so a busy extension costs at
 * most one write a minute.
 */
export async function authenticateAccessToken(deps: AppDeps, bearer: string | null): Promise<UserTable> {
  if (!bearer) throw new ApiFailure(401, 'unauthenticated');
  const tokenHash = hashToken(bearer);
  const read = () => readAccess(deps, tokenHash);
  const access = deps.lookupCache ? await deps.lookupCache.accessFor(deps.db, tokenHash, read) : await read();
  if (!access) throw new ApiFailure(401, 'unauthenticated');
  const now = deps.clock.now();
  if (access.tokenExpiresAt <= now.toISOString()) throw new ApiFailure(401, 'session_expired');
  const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS).toISOString();
  if (access.grantLastUsedAt <= stale) {
    // Conditional, so requests arriving together write once.
    await deps.db.updateTable('oauth_grants').set({ last_used_at: now.toISOString() }).where('id', '=', access.grantId).where('last_used_at', '<=', stale).execute();
    deps.lookupCache?.markUsed(tokenHash, now.toISOString());
  }
  return access.user;
}

/** The account, browser and expiry an access token stands for; null when it lets nobody in. */
async function readAccess(deps: AppDeps, tokenHash: string): Promise<CachedAccess | null> {
  const row = await deps.db
    .selectFrom('oauth_tokens')
    .innerJoin('oauth_grants', 'oauth_grants.id', 'oauth_tokens.grant_id')
    .innerJoin('users', 'users.id', 'oauth_grants.user_id')
    .selectAll('users')
    .select(['oauth_tokens.expires_at as token_expires_at', 'oauth_grants.revoked_at as grant_revoked_at', 'oauth_grants.id as grant_id', 'oauth_grants.last_used_at as grant_last_used_at'])
    .where('oauth_tokens.token_hash', '=', tokenHash)
    .where('oauth_tokens.kind', '=', 'access')
    .where('users.disabled_at', 'is', null)
    .where('users.deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row || row.grant_revoked_at) return null;
  const { token_expires_at: tokenExpiresAt, grant_revoked_at: _revoked, grant_id: grantId, grant_last_used_at: grantLastUsedAt, ...user } = row;
  return { user, grantId, tokenExpiresAt, grantLastUsedAt };
}

export type ConnectedBrowser = { id: string; name: string; browser: string; os: string; extensionId: string; createdAt: string; lastUsedAt: string };

/** The user's signed-in extensions, most recently used first, with the allow-list entry each came through. */
export async function listConnectedBrowsers(deps: AppDeps, userId: string): Promise<ConnectedBrowser[]> {
  const rows = await deps.db
    .selectFrom('oauth_grants')
    .innerJoin('oauth_clients', 'oauth_clients.id', 'oauth_grants.extension_id')
    .select(['oauth_grants.id', 'oauth_grants.os', 'oauth_grants.created_at', 'oauth_grants.last_used_at', 'oauth_clients.id as extension_id', 'oauth_clients.name', 'oauth_clients.browser'])
    .where('oauth_grants.user_id', '=', userId)
    .where('oauth_grants.revoked_at', 'is', null)
    .orderBy('oauth_grants.last_used_at', 'desc')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    browser: browserName(r.browser),
    os: r.os ?? '',
    extensionId: r.extension_id,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  }));
}

export async function revokeConnectedBrowser(deps: AppDeps, userId: string, grantId: string): Promise<boolean> {
  const res = await deps.db
    .updateTable('oauth_grants')
    .set({ revoked_at: nowIso(deps) })
    .where('id', '=', grantId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
