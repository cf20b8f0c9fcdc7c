/**
 * Record encryption: XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha, RFC 8439) from
 * @noble/ciphers, a fresh random 24-byte nonce per record, and associated data that binds
 * the ciphertext to where it belongs (record id, device, volume, key kind, version…), so a
 * record edited or moved to another device or volume fails with `record_corrupt`.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { abytes, randomBytes } from '@noble/ciphers/utils.js';
import { VaultError } from './errors.ts';

export type Sealed = { nonce: Uint8Array; ciphertext: Uint8Array };

/** Every key the vault seals with (data key, key-encryption key) is 256 bits. */
export const KEY_BYTES = 32;
const NONCE_BYTES = 24;

/** Throws unless `key` is a 32-byte key: a wrong length is a bug, never a "wrong key". */
export function assertKey(key: Uint8Array, title = 'key'): Uint8Array {
  return abytes(key, KEY_BYTES, title);
}

/** Associated data: a domain label plus the fields the ciphertext is bound to, unambiguously encoded. */
export function associatedData(label: string, fields: readonly (string | number | null)[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify([label, ...fields]));
}

export function seal(key: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Sealed {
  assertKey(key);
  const nonce = randomBytes(NONCE_BYTES);
  return { nonce, ciphertext: xchacha20poly1305(key, nonce, ad).encrypt(plaintext) };
}

/** Decrypts or throws `record_corrupt` (wrong key, edited bytes, or fields that no longer match). */
export function open(key: Uint8Array, sealed: Sealed, ad: Uint8Array, recordId: string): Uint8Array {
  assertKey(key);
  try {
    return xchacha20poly1305(key, sealed.nonce, ad).decrypt(sealed.ciphertext);
  } catch {
    throw new VaultError('record_corrupt', `Vault record ${recordId} failed authentication and was not used.`, { recordId });
  }
}

/** Like `open`, but a failure means "not this key" rather than corruption. */
export function tryOpen(key: Uint8Array, sealed: Sealed, ad: Uint8Array): Uint8Array | null {
  assertKey(key);
  try {
    return xchacha20poly1305(key, sealed.nonce, ad).decrypt(sealed.ciphertext);
  } catch {
    return null;
  }
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
