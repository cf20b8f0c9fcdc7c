/**
 * Keyward as an OpenID Connect relying party (OpenID Connect Core 1.0, authorization code flow),
 * through openid-client: discovery (cached for a while per issuer), an authorization request
 * with `state`, `nonce` and PKCE S256 (RFC 7636), and on the way back the code exchange with
 * every check openid-client makes — `state`, `iss` (RFC 9207), the ID token's signature against
 * the provider's JWKS, `iss`, `aud`, `azp`, `exp`, `iat` and `nonce` — then the UserInfo claims
 * for the same `sub`. Times are judged by the service's clock. Every way this can fail becomes an
 * `SsoFailure` with a reason people and IT can act on; nothing here throws a bare error.
 */
import * as client from 'openid-client';
import type { Clock } from '../deps.ts';
import { claimValues, isLoopbackHttp, openClientCredential, type SsoSettings, type StoredSso } from './oidc-settings.ts';
import { signingKey } from './oidc-client-key.ts';
import type { AppDeps } from '../deps.ts';

/** Seconds a request to the provider may take. */
const TIMEOUT_SECONDS = 10;
/** How long discovered provider metadata is reused. */
const METADATA_TTL_MS = 15 * 60_000;

export type SsoFailureReason =
  /** The provider did not answer, answered too slowly, or answered with a server error. */
  | 'unreachable'
  /** Keyward's registration at the provider does not match its settings (client id, secret, key, issuer). */
  | 'misconfigured'
  /** The provider refused or cancelled the sign-in (the person denied it, the code was spent). */
  | 'refused'
  | 'state'
  | 'nonce'
  /** The ID token has expired, or is not yet valid, by the service's clock. */
  | 'expired'
  | 'signature'
  /** Another ID token claim is wrong (issuer, audience, authorized party). */
  | 'claims'
  | 'no_email';

export class SsoFailure extends Error {
  readonly reason: SsoFailureReason;

  constructor(reason: SsoFailureReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

export type ProviderIdentity = { issuer: string; subject: string; email: string; name: string; roleValues: string[] };

/** What the browser's sign-in must present again on its way back (kept server-side). */
export type AuthorizationChecks = { state: string; nonce: string; codeVerifier: string };

function reasonOf(error: unknown): SsoFailureReason {
  if (error instanceof client.AuthorizationResponseError) return 'refused';
  if (error instanceof client.ResponseBodyError) {
    if (error.error === 'invalid_client' || error.error === 'unauthorized_client') return 'misconfigured';
    return error.status >= 500 ? 'unreachable' : 'refused';
  }
  if (error instanceof client.ClientError) {
    const processing = error.cause instanceof Error ? error.cause : null;
    const detail = processing?.cause !== null && typeof processing?.cause === 'object' ? (processing.cause as { claim?: unknown }) : {};
    switch (error.code) {
      case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
        return 'expired';
      case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
        return detail.claim === 'nonce' ? 'nonce' : 'claims';
      // UserInfo about another `sub` than the ID token's.
      case 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED':
        return 'claims';
      case 'OAUTH_INVALID_RESPONSE':
        if (/"state"/.test(processing?.message ?? '')) return 'state';
        if (/signature/.test(processing?.message ?? '')) return 'signature';
        return 'claims';
      case 'OAUTH_KEY_SELECTION_FAILED':
        return 'signature';
      case 'OAUTH_RESPONSE_IS_NOT_CONFORM':
      case 'OAUTH_RESPONSE_IS_NOT_JSON':
        return 'unreachable';
      default:
        return 'misconfigured';
    }
  }
  // fetch() failing (refused, reset, DNS) or our timeout.
  if (error instanceof TypeError || (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError'))) return 'unreachable';
  return 'misconfigured';
}

/** Runs a step against the provider; whatever goes wrong comes out as an SsoFailure. */
async function step<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SsoFailure) throw error;
    const code = error instanceof client.ClientError && error.code ? ` (${error.code})` : '';
    throw new SsoFailure(reasonOf(error), `${what}: ${error instanceof Error ? error.message : String(error)}${code}`, { cause: error });
  }
}

/** `key`: the issuer and when the settings were saved, so changed settings are discovered afresh. */
type CachedProvider = { key: string; metadata: client.ServerMetadata; fetchedAt: number; jwks: client.ExportedJWKSCache | undefined };

function profileName(claims: Record<string, unknown>, email: string): string {
  const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  const full = text(claims.name) || [text(claims.given_name), text(claims.family_name)].filter(Boolean).join(' ') || text(claims.preferred_username);
  return (full || email).slice(0, 200);
}

/** One per app: holds the provider's discovered metadata and JWKS between sign-ins. */
export class OidcRelyingParty {
  private readonly deps: Pick<AppDeps, 'kek' | 'previousKeks'> & { clock: Clock };
  private cached: CachedProvider | null = null;

  constructor(deps: Pick<AppDeps, 'kek' | 'previousKeks' | 'clock'>) {
    this.deps = deps;
  }

  private insecure(issuer: string): Array<(config: client.Configuration) => void> {
    // Plain http only to a provider on this machine (testing); openid-client refuses it otherwise.
    return isLoopbackHttp(issuer) ? [client.allowInsecureRequests] : [];
  }

  private async metadata(settings: SsoSettings): Promise<client.ServerMetadata> {
    const now = this.deps.clock.now().getTime();
    const key = `${settings.issuer}\n${settings.updatedAt}`;
    if (this.cached && this.cached.key === key && now - this.cached.fetchedAt < METADATA_TTL_MS) return this.cached.metadata;
    const discovered = await step('discovery', () =>
      client.discovery(new URL(settings.issuer), settings.clientId, undefined, undefined, { execute: this.insecure(settings.issuer), timeout: TIMEOUT_SECONDS }),
    );
    const metadata = discovered.serverMetadata();
    this.cached = { key, metadata, fetchedAt: now, jwks: this.cached?.key === key ? this.cached.jwks : undefined };
    return metadata;
  }

  private async configuration(stored: StoredSso): Promise<client.Configuration> {
    const { settings } = stored;
    const metadata = await this.metadata(settings);
    const credential = await step('client credential', async () => {
      const secret = openClientCredential(this.deps, stored.sealed);
      if (settings.clientAuth === 'private_key_jwt') return client.PrivateKeyJwt({ key: await signingKey(secret), ...(settings.keyId ? { kid: settings.keyId } : {}) });
      return settings.clientAuth === 'client_secret_post' ? client.ClientSecretPost(secret) : client.ClientSecretBasic(secret);
    });
    // Token times are judged by the service's clock, as everything else in Keyward is.
    const skewSeconds = (this.deps.clock.now().getTime() - Date.now()) / 1000;
    const config = new client.Configuration(metadata, settings.clientId, { [client.clockSkew]: skewSeconds }, credential);
    for (const apply of this.insecure(settings.issuer)) apply(config);
    config.timeout = TIMEOUT_SECONDS;
    // Verify the ID token's signature with the provider's JWKS even though it came straight from the token endpoint.
    client.enableNonRepudiationChecks(config);
    if (this.cached?.jwks) client.setJwksCache(config, this.cached.jwks);
    return config;
  }

  /** The provider's authorization URL for a new sign-in, and the checks its answer must pass. */
  async start(stored: StoredSso): Promise<{ url: string; checks: AuthorizationChecks }> {
    const config = await this.configuration(stored);
    const checks: AuthorizationChecks = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: stored.settings.redirectUri,
      scope: stored.settings.scopes,
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, checks };
  }

  /**
   * The person the provider signed in, from the query string it sent the browser back with.
   * The answer is read as arriving at the registered redirect URI, whatever host or proxy it came through.
   */
  async finish(stored: StoredSso, query: string, checks: AuthorizationChecks): Promise<ProviderIdentity> {
    const config = await this.configuration(stored);
    const current = new URL(stored.settings.redirectUri);
    current.search = query;
    const tokens = await step('code exchange', () =>
      client.authorizationCodeGrant(config, current, { expectedState: checks.state, expectedNonce: checks.nonce, pkceCodeVerifier: checks.codeVerifier, idTokenExpected: true }),
    );
    const idToken = tokens.claims();
    if (!idToken) throw new SsoFailure('claims', 'the token response has no ID token');
    let claims: Record<string, unknown> = { ...idToken };
    if (config.serverMetadata().userinfo_endpoint) {
      const userInfo = await step('userinfo', () => client.fetchUserInfo(config, tokens.access_token, idToken.sub));
      // Profile claims from UserInfo; the identity (iss, sub) only ever from the verified ID token.
      claims = { ...claims, ...userInfo, iss: idToken.iss, sub: idToken.sub };
    }
    const jwks = client.getJwksCache(config);
    if (this.cached && jwks) this.cached.jwks = jwks;
    const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
    if (!/^[^@\s]+@[^@\s]+$/.test(email) || email.length > 200) throw new SsoFailure('no_email', 'the provider sent no usable email claim');
    return { issuer: idToken.iss, subject: idToken.sub, email, name: profileName(claims, email), roleValues: claimValues(claims, stored.settings.roleClaim) };
  }
}
