/** Portal routes (placeholder until the portal pages land). */
import { Hono } from 'hono';
import type { AppDeps } from '../deps.ts';
import type { AppEnv } from '../http/context.ts';
import type { RateLimiter } from '../http/rate-limit.ts';

export function portalRoutes(_deps: AppDeps, _limiter: RateLimiter): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  return r;
}
