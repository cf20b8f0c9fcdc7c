/**
 * Envelope encryption of recovery keys at rest (NIST SP 800-38D AES-256-GCM, node:crypto):
 * each record gets a random 256-bit data key; the data key encrypts the secret and is itself
 * wrapped by the KEK. Associated data binds the record id, device id, key kind and version,
 * so a ciphertext moved to another row fails to decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Kek } from './kek.ts';

export type RecordBinding = { recordId: string; deviceId: string; kind: string; version: number };

export type SealedRecord = { ciphertext: string; wrappedKey: string; kekId: string };

function associatedData(b: RecordBinding, purpose: 'data' | 'wrap'): Buffer {
  return Buffer.from(`keyward/v1/${purpose}\n${b.recordId}\n${b.deviceId}\n${b.kind}\n${b.version}`, 'utf8');
}

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
}

function open(key: Buffer, sealed: string, aad: Buffer): Buffer {
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length < 28) throw new Error('sealed value too short');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(aad);
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
}

export function sealSecret(kek: Kek, binding: RecordBinding, secret: string): SealedRecord {
  const dataKey = randomBytes(32);
  try {
    return {
      ciphertext: seal(dataKey, Buffer.from(secret, 'utf8'), associatedData(binding, 'data')),
      wrappedKey: seal(kek.key, dataKey, associatedData(binding, 'wrap')),
      kekId: kek.id,
    };
  } finally {
    dataKey.fill(0);
  }
}

export type KekRing = (kekId: string) => Kek | undefined;

export function openSecret(keks: KekRing, binding: RecordBinding, record: SealedRecord): string {
  const kek = keks(record.kekId);
  if (!kek) throw new Error(`KEK ${record.kekId} is not loaded`);
  const dataKey = open(kek.key, record.wrappedKey, associatedData(binding, 'wrap'));
  try {
    return open(dataKey, record.ciphertext, associatedData(binding, 'data')).toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}

/** Re-wraps a record's data key under a new KEK without touching the ciphertext. */
export function rewrapRecord(keks: KekRing, next: Kek, binding: RecordBinding, record: SealedRecord): SealedRecord {
  const kek = keks(record.kekId);
  if (!kek) throw new Error(`KEK ${record.kekId} is not loaded`);
  const dataKey = open(kek.key, record.wrappedKey, associatedData(binding, 'wrap'));
  try {
    return { ciphertext: record.ciphertext, wrappedKey: seal(next.key, dataKey, associatedData(binding, 'wrap')), kekId: next.id };
  } finally {
    dataKey.fill(0);
  }
}
