/**
 * The table's auth kinds (lib/api/endpoints.ts `AuthKind`) as middleware: each checks the
 * request's credential before anything else of the route runs and puts who is calling into
 * the context (`apiUser` or `agentDevice` of `AppEnv`). A one-time enrollment token and the
 * token endpoint's grants are in the body, checked by their services: those need none.
 */
import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AuthKind } from '../../lib/api/endpoints.ts';
import type { Role } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import type { DeviceTable } from '../db/schema.ts';
import { authenticateAccessToken } from '../auth/oauth.ts';
import { authenticateAgent } from '../services/agent-enroll.ts';
import { bearerToken, clientIp, requestLocale, type AppEnv } from './context.ts';
import type { ApiUser } from './callers.ts';


/** Who is calling, by auth kind, as a route's handler has it. */
export type CallerOf<Auth extends AuthKind> = Auth extends 'user-bearer' ? ApiUser : Auth extends 'agent-credential' ? DeviceTable : null;

export type AuthMiddleware = { readonly [Kind in AuthKind]: readonly MiddlewareHandler<AppEnv>[] };

export function authMiddleware(deps: AppDeps): AuthMiddleware {
  const userBearer = createMiddleware<AppEnv>(async (c, next) => {
    const user = await authenticateAccessToken(deps, bearerToken(c));
    // From here on, messages are in the person's chosen language unless the request asks otherwise.
    const locale = requestLocale(c, user.locale);
    c.set('locale', locale);
    c.set('apiUser', { user, actor: { id: user.id, role: user.role as Role }, meta: { ip: clientIp(c), locale } });
    await next();
  });
  const agentCredential = createMiddleware<AppEnv>(async (c, next) => {
    c.set('agentDevice', await authenticateAgent(deps, bearerToken(c)));
    await next();
  });
  return { 'user-bearer': [userBearer], 'agent-credential': [agentCredential], 'enrollment-token': [], none: [] };
}
