/**
 * `createApp(deps)`: the escrow service as one Hono app — the JSON API for the extension
 * (`/api/v1`), the agent API (`/api/v1/agent`), OAuth (`/oauth`), and the server-rendered
 * portal and admin console. Everything it needs comes in through `deps`.
 */
import { Hono } from 'hono';
import { requestSizeLimit } from './http/body-limit.ts';
import type { AppDeps } from './deps.ts';
import { ApiFailure, errorBody } from './errors.ts';
import { requestLocale, type AppEnv } from './http/context.ts';
import { extensionCors, securityHeaders } from './http/security.ts';
import { refuseNulInUrl } from './http/body.ts';
import { createRateLimiter } from './http/rate-limit.ts';
import { RefusalLog } from './services/refusals.ts';
import { clientResolver } from './http/trusted-proxy.ts';
import { refuseCrossOrigin } from './http/origin-check.ts';
import { apiRoutes } from './routes/api.ts';
import { agentRoutes } from './routes/agent.ts';
import { oauthTokenRoutes } from './routes/oauth-token.ts';
import { isJsonApiPath } from '../lib/api/endpoints.ts';
import { portalRoutes } from './portal/routes.ts';
import { renderErrorPage } from './portal/error-page.ts';


export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const limiter = createRateLimiter(deps);
  const refusals = new RefusalLog(deps, limiter);

  app.use('*', clientResolver(deps.config.trustedProxies));
  app.use('*', securityHeaders());
  app.use('*', async (c, next) => {
    c.set('locale', requestLocale(c));
    c.set('session', null);
    refuseNulInUrl(c.req.url);
    await next();
  });
  app.use('/api/*', extensionCors(deps));
  app.use('/oauth/token', extensionCors(deps));
  app.use('*', refuseCrossOrigin());
  app.use(
    '*',
    requestSizeLimit(deps.config.maxBodyBytes, () => {
      throw new ApiFailure(413, 'payload_too_large');
    }),
  );

  // The JSON endpoints carry their full paths (lib/api/endpoints.ts).
  app.route('/', agentRoutes(deps));
  app.route('/', apiRoutes(deps, limiter, refusals));
  app.route('/', oauthTokenRoutes(deps));
  app.route('/', portalRoutes(deps, limiter, refusals));

  app.notFound((c) => {
    const locale = c.get('locale');
    if (isJsonApiPath(c.req.path)) return c.json(errorBody(locale, 'not_found'), 404);
    return c.html(renderErrorPage(c, 404, 'not_found'), 404);
  });

  app.onError(async (err, c) => {
    const locale = c.get('locale') ?? requestLocale(c);
    const failure = err instanceof ApiFailure ? err : null;
    if (!failure) console.error(`keyward: ${c.req.method} ${c.req.path} failed:`, err instanceof Error ? err.message : String(err));
    const status = failure?.status ?? 500;
    const code = failure?.code ?? 'internal_error';
    const res = await (isJsonApiPath(c.req.path)
      ? c.json(errorBody(locale, code, { field: failure?.field, params: failure?.params, detail: failure?.detail }), status)
      : c.html(renderErrorPage(c, status, code, failure?.detail), status));
    for (const [name, value] of Object.entries(failure?.headers ?? {})) res.headers.set(name, value);
    return res;
  });

  return app;
}
