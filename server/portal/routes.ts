/** The portal: sign-in (password or the organisation's provider), the user's device pages, sessions and connected browsers, their password, OAuth consent, admin console, policy, users. */
import { Hono } from 'hono';
import type { AppDeps } from '../deps.ts';
import type { AppEnv } from '../http/context.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { RefusalLog } from '../services/refusals.ts';
import { portalSession } from './session.ts';
import { authPages } from './auth-pages.ts';
import { devicePages } from './device-pages.ts';
import { adminPages } from './admin-pages.ts';
import { adminDevicesPages } from './admin-devices-page.ts';
import { browsersPage } from './browsers-page.ts';
import { oauthPages } from './oauth-pages.ts';
import { policyPages } from './policy-pages.ts';
import { clientPages } from './clients-section.ts';
import { usersPages } from './users-page.ts';
import { deviceLifecyclePages } from './device-lifecycle-pages.ts';
import { ssoPages } from './sso-pages.ts';
import { accountPages, temporaryPasswordGate } from './account-pages.ts';
import { ssoSettingsPages } from './sso-settings.ts';

export function portalRoutes(deps: AppDeps, limiter: RateLimiter, refusals: RefusalLog): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  r.get('/favicon.ico', (c) => c.body(null, 204));
  r.use('*', portalSession(deps));
  r.use('*', temporaryPasswordGate());
  r.route('/', authPages(deps, limiter));
  r.route('/', ssoPages(deps, limiter));
  r.route('/', accountPages(deps, limiter));
  r.route('/', devicePages(deps, limiter, refusals));
  r.route('/', browsersPage(deps));
  r.route('/', oauthPages(deps));
  r.route('/admin', adminDevicesPages(deps));
  r.route('/admin', adminPages(deps, limiter, refusals));
  r.route('/admin', policyPages(deps));
  r.route('/admin', clientPages(deps));
  r.route('/admin', usersPages(deps));
  r.route('/admin', deviceLifecyclePages(deps));
  r.route('/admin', ssoSettingsPages(deps));
  return r;
}
