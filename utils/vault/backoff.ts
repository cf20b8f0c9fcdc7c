/** Delays: the unlock lockout after repeated wrong passphrases, and the outbox retry backoff. */

/** Wrong passphrases allowed before unlock starts to wait. */
export const FREE_UNLOCK_ATTEMPTS = 3;

/** ms to wait after `failures` consecutive wrong passphrases: 0, 0, 10 s, 20 s, 40 s … capped at 15 min. */
export function lockoutDelayMs(failures: number): number {
  if (failures < FREE_UNLOCK_ATTEMPTS) return 0;
  return Math.min(15 * 60_000, 10_000 * 2 ** (failures - FREE_UNLOCK_ATTEMPTS));
}

/** ms before retry number `attempts + 1` of an outbox entry. */
export type Backoff = (attempts: number) => number;

/** 30 s, 1 min, 2 min … capped at 1 h, with ±20 % jitter so many browsers don't retry in step. */
export const exponentialBackoff: Backoff = (attempts) => {
  const base = Math.min(60 * 60_000, 30_000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * Math.random()));
};
