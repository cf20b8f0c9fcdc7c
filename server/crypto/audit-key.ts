/**
 * The audit key: 32 random bytes in a key file kept apart from the database (mode 0600;
 * default `<dataDir>/audit.key`, or `--audit-key-file` / KEYWARD_AUDIT_KEY_FILE). Two keys are
 * derived from it with HKDF-SHA256 (RFC 5869): the HMAC-SHA256 key that chains the audit
 * events, and the Ed25519 (RFC 8032) key that signs checkpoints of the chain's head. The
 * Ed25519 public key is what an operator pins to check a shipped checkpoint file elsewhere.
 */
import { createHash, createPrivateKey, createPublicKey, hkdfSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { loadOrCreateKeyFile } from './key-file.ts';

export type AuditKey = {
  /** First 16 hex digits of SHA-256 over the public key: names the key in messages. */
  id: string;
  /** HMAC-SHA256 key of the event chain. */
  mac: Buffer;
  /** Ed25519 key that signs checkpoints. */
  signing: KeyObject;
  verifying: KeyObject;
  /** The raw Ed25519 public key, base64url. */
  publicKey: string;
};

/** PKCS #8 DER prefix of an Ed25519 private key (RFC 8410); the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function derive(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `keyward/audit/v1/${purpose}`, 32));
}

export function auditKeyFromBytes(secret: Buffer): AuditKey {
  if (secret.length !== 32) throw new Error('an audit key is 32 bytes');
  const signing = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, derive(secret, 'checkpoint-signing')]), format: 'der', type: 'pkcs8' });
  const verifying = createPublicKey(signing);
  const jwk = verifying.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('Ed25519 public key without x');
  return { id: createHash('sha256').update(jwk.x).digest('hex').slice(0, 16), mac: derive(secret, 'event-mac'), signing, verifying, publicKey: jwk.x };
}

export function defaultAuditKeyPath(dataDir: string): string {
  return join(dataDir, 'audit.key');
}

export type LoadedAuditKey = { auditKey: AuditKey; created: boolean; path: string };

/** Reads the audit key file, or creates it (0600) when absent. */
export function loadOrCreateAuditKeyFile(path: string): LoadedAuditKey {
  const loaded = loadOrCreateKeyFile(path);
  return { auditKey: auditKeyFromBytes(loaded.key), created: loaded.created, path };
}

export function auditKeyBackupWarning(path: string): string {
  const bar = '!'.repeat(78);
  return [
    bar,
    `!! A new audit key was created: ${path}`,
    '!! It seals the audit log; verify-audit needs it. BACK IT UP NOW, apart from the',
    '!! database: whoever holds both can rewrite the log without it being detected.',
    bar,
  ].join('\n');
}
