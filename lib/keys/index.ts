/**
 * Recovery-key formats: validate and normalize what a person typed, format for display,
 * mask, explain errors in the reader's language, and generate new keys with a CSPRNG.
 * One entry point per operation, dispatching on the key kind (FileVault, BitLocker, LUKS).
 */
import type { KeyKind } from '../api/contract.ts';
import type { ParsedKey } from './errors.ts';
import { formatBitLockerPassword, generateBitLockerPassword, parseBitLockerPassword } from './bitlocker.ts';
import { formatFileVaultKey, generateFileVaultKey, parseFileVaultKey } from './filevault.ts';
import { generateLuksPassphrase, parseLuksPassphrase } from './luks.ts';
import { webCryptoRandomBytes, type RandomBytes } from './random.ts';

export type { KeyError, KeyErrorCode, ParsedKey } from './errors.ts';
export type { RandomBytes } from './random.ts';
export { describeKeyError } from './describe-error.ts';
export { keyErrorMessage, type KeyErrorMessage } from './key-error-message.ts';
export { maskRecoveryKey } from './mask.ts';
export { CLIPBOARD_CLEAR_SECONDS, KEY_SHOWN_SECONDS } from './exposure.ts';
export { parseProtectorId } from './protector-id.ts';
export { BITLOCKER_MAX_GROUP } from './bitlocker.ts';
export { isGeneratedLuksPassphrase, LUKS_GENERATED_ENTROPY_BITS, LUKS_MAX_BYTES } from './luks.ts';

export function parseRecoveryKey(kind: KeyKind, input: string): ParsedKey {
  switch (kind) {
    case 'filevault':
      return parseFileVaultKey(input);
    case 'bitlocker':
      return parseBitLockerPassword(input);
    case 'luks':
      return parseLuksPassphrase(input);
  }
}

/** Grouped display form (FileVault `XXXX-…`, BitLocker `NNNNNN-…`); a LUKS passphrase as is. */
export function formatRecoveryKey(kind: KeyKind, normalized: string): string {
  switch (kind) {
    case 'filevault':
      return formatFileVaultKey(normalized);
    case 'bitlocker':
      return formatBitLockerPassword(normalized);
    case 'luks':
      return normalized;
  }
}

/** A new valid key in normalized form, from `randomBytes` (default: crypto.getRandomValues). */
export function generateRecoveryKey(kind: KeyKind, randomBytes: RandomBytes = webCryptoRandomBytes): string {
  switch (kind) {
    case 'filevault':
      return generateFileVaultKey(randomBytes);
    case 'bitlocker':
      return generateBitLockerPassword(randomBytes);
    case 'luks':
      return generateLuksPassphrase(randomBytes);
  }
}
