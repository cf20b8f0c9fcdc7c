/**
 * Refused attempts leave a trace (DESIGN.md › Audit). A reveal, rotation or store that an
 * access rule of `access.ts` refuses is written to the audit log in a transaction of its own,
 * after the refused request's work was rolled back: who, which device (and volume, when it is
 * one of that device's), the reason they typed (trimmed, cut to a bounded length) and the
 * refusal code. Refusals count per actor per minute with the reveal limit, so they cannot
 * flood the log: past it the answer is 429 and the attempt is only counted, and once that
 * window is over the count is written as one summary event for the actor, with the next
 * refusal anyone makes.
 */
import type { AppDeps } from '../deps.ts';
import { appendAudit } from '../audit.ts';
import { ApiFailure } from '../errors.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { UserActor } from './access.ts';

export type RefusedAction = 'reveal' | 'rotate' | 'store';

const AUDIT_ACTIONS: Record<RefusedAction, string> = {
  reveal: 'key.reveal_refused',
  rotate: 'rotation.refused',
  store: 'key.store_refused',
};

export const SUPPRESSED_ACTION = 'access.refusals_suppressed';

/** Characters of a typed reason kept with a refusal. */
export const REFUSAL_REASON_MAX = 200;

/** The refusal count's window (the limiter's fixed window: a minute). */
const WINDOW_MS = 60_000;

/** What a refused request was: enough to audit it without anything it would have written. */
export type Attempt = {
  action: RefusedAction;
  actor: UserActor;
  deviceId: string;
  /** As requested: kept only when it names one of the device's volumes. */
  volumeId?: string;
  reason?: string;
  ip: string | null;
};

/** An access rule's refusal, carrying the attempt it refused; answered like the rule's own failure. */
export class RefusedAttempt extends ApiFailure {
  readonly attempt: Attempt;

  constructor(failure: ApiFailure, attempt: Attempt) {
    super(failure.status, failure.code, { field: failure.field, params: failure.params, detail: failure.detail });
    this.attempt = attempt;
  }
}

/** Applies an access rule; its refusal is thrown as a `RefusedAttempt` for `RefusalLog.auditing`. */
export function checkAttempt(attempt: Attempt, rule: () => void): void {
  try {
    rule();
  } catch (error) {
    if (error instanceof ApiFailure) throw new RefusedAttempt(error, attempt);
    throw error;
  }
}

function keptReason(reason: string | undefined): string | null {
  const trimmed = reason?.trim() ?? '';
  if (!trimmed) return null;
  // By code point, so a cut never leaves half a surrogate pair.
  const chars = Array.from(trimmed);
  return chars.length > REFUSAL_REASON_MAX ? `${chars.slice(0, REFUSAL_REASON_MAX).join('')}…` : trimmed;
}

type Suppressed = { actorId: string; count: number; first: string; last: string; firstMs: number };

/** One per service instance (its counts live beside the instance's rate limiter). */
export class RefusalLog {
  readonly #deps: AppDeps;
  readonly #limiter: RateLimiter;
  /** Refusals over the limit in each actor's current window. */
  readonly #open = new Map<string, Suppressed>();
  /** Counts of windows that are over, waiting to be written. */
  #ended: Suppressed[] = [];

  constructor(deps: AppDeps, limiter: RateLimiter) {
    this.#deps = deps;
    this.#limiter = limiter;
  }

  /**
   * Runs `work`; when an access rule inside refused it, audits the refusal and throws it on
   * (or, past the actor's limit, throws 429 `rate_limited` and only counts it).
   */
  async auditing<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof RefusedAttempt)) throw error;
      await this.#record(error);
      throw error;
    }
  }

  /**
   * Counts one refusal of this actor; false when it is over the limit (then it must be
   * answered 429 and not audited on its own). For refusals audited with the request's own
   * work, such as a store while escrow is off.
   */
  async admit(actorId: string): Promise<boolean> {
    const now = this.#deps.clock.now();
    const nowMs = now.getTime();
    const allowed = await this.#limiter.hit(`refusals:user:${actorId}`, this.#deps.config.rateLimits.revealPerMinute, nowMs);
    const open = this.#open.get(actorId);
    if (open && (allowed || open.firstMs + WINDOW_MS <= nowMs)) this.#close(open);
    if (!allowed) {
      const current = this.#open.get(actorId);
      if (current) {
        current.count += 1;
        current.last = now.toISOString();
      } else {
        this.#open.set(actorId, { actorId, count: 1, first: now.toISOString(), last: now.toISOString(), firstMs: nowMs });
      }
    }
    return allowed;
  }

  #close(window: Suppressed): void {
    this.#open.delete(window.actorId);
    this.#ended.push(window);
  }

  /** Windows that are over, taken out to be written (put back if writing fails). */
  #takeEnded(nowMs: number): Suppressed[] {
    for (const open of [...this.#open.values()]) if (open.firstMs + WINDOW_MS <= nowMs) this.#close(open);
    const taken = this.#ended;
    this.#ended = [];
    return taken;
  }

  async #record(refusal: RefusedAttempt): Promise<void> {
    const { attempt } = refusal;
    if (!(await this.admit(attempt.actor.id))) throw new ApiFailure(429, 'rate_limited');
    const deps = this.#deps;
    const now = deps.clock.now();
    const at = now.toISOString();
    const summaries = this.#takeEnded(now.getTime());
    try {
      await deps.db.transaction().execute(async (trx) => {
        for (const s of summaries) {
          await appendAudit(trx, deps, at, {
            actorId: s.actorId, actorKind: 'user', action: SUPPRESSED_ACTION,
            detail: { count: s.count, from: s.first, to: s.last, perMinute: deps.config.rateLimits.revealPerMinute },
          });
        }
        const volume = attempt.volumeId
          ? await trx.selectFrom('volumes').select('id').where('id', '=', attempt.volumeId).where('device_id', '=', attempt.deviceId).executeTakeFirst()
          : undefined;
        await appendAudit(trx, deps, at, {
          actorId: attempt.actor.id,
          actorKind: 'user',
          action: AUDIT_ACTIONS[attempt.action],
          deviceId: attempt.deviceId,
          volumeId: volume?.id ?? null,
          detail: { code: refusal.code, role: attempt.actor.role, reason: keptReason(attempt.reason) },
          ip: attempt.ip,
        });
      });
    } catch (error) {
      this.#ended.push(...summaries);
      throw error;
    }
  }
}
