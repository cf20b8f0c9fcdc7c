/**
 * The one step from a vault error to what the UI is answered: a `Failure` whose code the pages
 * turn into localized text (components/text.tsx `failureText`); the message is only a plain
 * English fallback, never shown where a translation exists. A lockout says how long it lasts.
 */
import { failure, type Failure, type FailureCode } from '../../utils/client/messages.ts';
import type { VaultErrorCode } from '../../utils/vault/index.ts';

const FAILURES: Record<VaultErrorCode, { code: FailureCode; message: string }> = {
  wrong_passphrase: { code: 'wrong_passphrase', message: 'Wrong passphrase.' },
  locked_out: { code: 'rate_limited', message: 'Too many wrong passphrases. Wait and try again.' },
  passphrase_too_short: { code: 'weak_passphrase', message: 'The passphrase is too short.' },
  not_initialized: { code: 'no_vault', message: 'Set a vault passphrase first.' },
  already_initialized: { code: 'bad_state', message: 'The vault already has a passphrase.' },
  locked: { code: 'locked', message: 'Unlock the vault first.' },
  kdf_too_weak: { code: 'bad_state', message: 'The vault refused: kdf_too_weak.' },
  record_corrupt: { code: 'bad_state', message: 'The vault refused: record_corrupt.' },
  session_invalid: { code: 'bad_state', message: 'The vault refused: session_invalid.' },
  vault_changed: { code: 'bad_state', message: 'The vault refused: vault_changed.' },
  invalid_input: { code: 'bad_state', message: 'The vault refused: invalid_input.' },
};

/** A lockout, with how long it lasts, so the person is told when to try again. */
function lockedOut(until: number, now: number): Failure {
  const { code, message } = FAILURES.locked_out;
  return { ok: false, error: { code, message, retryAfterMs: Math.max(0, until - now) } };
}

/**
 * `lockedOutUntil`: the vault's lockout after this error, if any. The guess that starts a
 * lockout says so at once, rather than on the next try.
 */
export function vaultFailure(code: VaultErrorCode, lockedOutUntil: number | null, now = Date.now()): Failure {
  if ((code === 'wrong_passphrase' || code === 'locked_out') && lockedOutUntil !== null) return lockedOut(lockedOutUntil, now);
  return failure(FAILURES[code].code, FAILURES[code].message);
}
