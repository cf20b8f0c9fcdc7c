/**
 * Passphrase → key-encryption key with scrypt (RFC 7914). The parameters are stored with the
 * vault; unlocking refuses parameters below the floor N = 2^17, r = 8, p = 1 (`kdf_too_weak`),
 * so a tampered or downgraded vault cannot make a guess cheaper. Passphrases are NFKC-normalized
 * and UTF-8 encoded, so the same passphrase typed on another keyboard or OS derives the same key.
 */
import { clean } from '@noble/ciphers/utils.js';
import { VaultError } from './errors.ts';
import { scrypt, type Progress } from './scrypt.ts';

export type KdfParams = { N: number; r: number; p: number; dkLen: number };

export const KDF_FLOOR: Readonly<KdfParams> = { N: 2 ** 17, r: 8, p: 1, dkLen: 32 };
export const DEFAULT_KDF: Readonly<KdfParams> = KDF_FLOOR;

export function assertKdfStrongEnough(params: KdfParams, floor: KdfParams = KDF_FLOOR): void {
  if (params.N < floor.N || params.r < floor.r || params.p < floor.p || params.dkLen !== 32) {
    throw new VaultError(
      'kdf_too_weak',
      `The vault's key-derivation parameters (scrypt N=${params.N}, r=${params.r}, p=${params.p}) are below the minimum ` +
        `(N=${floor.N}, r=${floor.r}, p=${floor.p}); refusing to unlock.`,
    );
  }
}

export function encodePassphrase(passphrase: string): Uint8Array {
  return new TextEncoder().encode(passphrase.normalize('NFKC'));
}

export async function deriveKeyEncryptionKey(
  passphrase: string,
  salt: Uint8Array,
  params: KdfParams,
  onProgress?: Progress,
): Promise<Uint8Array> {
  const password = encodePassphrase(passphrase);
  try {
    return await scrypt(password, salt, params, onProgress);
  } finally {
    clean(password);
  }
}
