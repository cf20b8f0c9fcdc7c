/**
 * Reveal throttling, the same for the API, the portal and the admin console: per (account,
 * client) and per client (4×, for one client revealing with several accounts) — never per
 * account alone, so someone holding a stolen session elsewhere cannot stop its owner from
 * getting a key. Over the allowance: 429 with `Retry-After` and how long to wait in words.
 */
import type { AppDeps } from '../deps.ts';
import { clientIp, type AppContext } from './context.ts';
import { clientBucket, consumeAll, rateLimited, type RateLimiter } from './rate-limit.ts';

export async function assertRevealRate(c: AppContext, deps: AppDeps, limiter: RateLimiter, userId: string): Promise<void> {
  const limit = deps.config.rateLimits.revealPerMinute;
  const client = clientBucket(clientIp(c));
  const decision = await consumeAll(limiter, [
    { key: `reveal:client:${client}`, limit: limit * 4 },
    { key: `reveal:account-client:${userId}|${client}`, limit },
  ], deps.clock.now().getTime());
  if (!decision.allowed) throw rateLimited(c.get('locale'), decision);
}
