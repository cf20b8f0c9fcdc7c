/**
 * `POST /oauth/token` (RFC 6749 §3.2), mounted from the endpoint table (`oauthEndpoints`):
 * `authorization_code` (with the PKCE verifier) and `refresh_token` grants, as a form or
 * JSON. Answers are never cached.
 */
import type { Hono } from 'hono';
import { oauthEndpoints } from '../../lib/api/endpoints.ts';
import type { AppDeps } from '../deps.ts';
import type { AppEnv } from '../http/context.ts';
import { endpointRouter } from '../http/endpoint-route.ts';
import { exchangeAuthorizationCode, refreshTokens } from '../auth/oauth.ts';

export function oauthTokenRoutes(deps: AppDeps): Hono<AppEnv> {
  const { router, mount } = endpointRouter(deps);
  mount(oauthEndpoints.token, async ({ c, body }) => {
    c.header('Cache-Control', 'no-store');
    c.header('Pragma', 'no-cache');
    if (body.grant_type === 'authorization_code') return exchangeAuthorizationCode(deps, body, c.req.header('user-agent'));
    return refreshTokens(deps, body.refresh_token, body.client_id);
  });
  return router;
}
