/**
 * `POST /oauth/token` (RFC 6749 §3.2): `authorization_code` (with the PKCE verifier) and
 * `refresh_token` grants, as a form or JSON. Answers are never cached.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import type { AppEnv } from '../http/context.ts';
import { readJsonOrForm } from '../http/body.ts';
import { exchangeAuthorizationCode, refreshTokens } from '../auth/oauth.ts';

const TokenRequest = z.discriminatedUnion('grant_type', [
  z.object({
    grant_type: z.literal('authorization_code'),
    code: z.string().min(10).max(200),
    code_verifier: z.string().min(43).max(128),
    redirect_uri: z.string().max(300),
    client_id: z.string().max(100),
  }),
  z.object({ grant_type: z.literal('refresh_token'), refresh_token: z.string().min(10).max(200), client_id: z.string().max(100).optional() }),
]);

export function oauthTokenRoutes(deps: AppDeps): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  r.post('/token', async (c) => {
    const body = await readJsonOrForm(c, TokenRequest, deps.config.maxBodyBytes);
    c.header('Cache-Control', 'no-store');
    c.header('Pragma', 'no-cache');
    if (body.grant_type === 'authorization_code') {
      return c.json(await exchangeAuthorizationCode(deps, body, c.req.header('user-agent')));
    }
    return c.json(await refreshTokens(deps, body.refresh_token, body.client_id));
  });
  return r;
}
