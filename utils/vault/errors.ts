/** The vault's one error type: a machine `code` (documented in `index.ts`) and a plain message. */
export type VaultErrorCode =
  | 'not_initialized'
  | 'already_initialized'
  | 'passphrase_too_short'
  | 'locked'
  | 'wrong_passphrase'
  | 'locked_out'
  | 'kdf_too_weak'
  | 'record_corrupt'
  | 'session_invalid'
  | 'vault_changed'
  | 'invalid_input';

export class VaultError extends Error {
  readonly code: VaultErrorCode;
  /** For `locked_out` (and `wrong_passphrase` that started a lockout): epoch ms when unlock is allowed again. */
  readonly lockedOutUntil: number | null;
  /** For `record_corrupt`: the id of the record that failed authentication. */
  readonly recordId: string | null;

  constructor(code: VaultErrorCode, message: string, details: { lockedOutUntil?: number | null; recordId?: string } = {}) {
    super(message);
    this.name = 'VaultError';
    this.code = code;
    this.lockedOutUntil = details.lockedOutUntil ?? null;
    this.recordId = details.recordId ?? null;
  }
}

export function isVaultError(error: unknown, code?: VaultErrorCode): error is VaultError {
  return error instanceof VaultError && (code === undefined || error.code === code);
}
