/**
 * The Vault: lifecycle (setup, unlock, lock, session resume, passphrase change) and the three
 * kinds of data it holds — device metadata (plaintext), recovery keys (encrypted) and the
 * outbox. Key hierarchy: passphrase —scrypt→ key-encryption key, which wraps a random 256-bit
 * data key; the data key seals every record (see `aead.ts`). All crypto runs outside Dexie
 * transactions; transactions only read and write rows.
 */
import { clean, randomBytes } from '@noble/ciphers/utils.js';
import { KeyKind, type Device } from '../../lib/api/contract.ts';
import { associatedData, assertKey, fromUtf8, KEY_BYTES, open, seal, tryOpen, utf8, type Sealed } from './aead.ts';
import { sameValue } from './same-value.ts';
import { exponentialBackoff, lockoutDelayMs, type Backoff } from './backoff.ts';
import { openVaultDb, readMeta, type IndexedDbDeps, type KeyRecord, type OutboxKind, type OutboxRecord, type VaultDb, type VaultMeta } from './db.ts';
import { VaultError } from './errors.ts';
import { assertKdfStrongEnough, DEFAULT_KDF, deriveKeyEncryptionKey, KDF_FLOOR, type KdfParams } from './kdf.ts';
import type { Progress } from './scrypt.ts';

import { MIN_PASSPHRASE_LENGTH } from './passphrase.ts';

export { MIN_PASSPHRASE_LENGTH };

export type OpenVaultOptions = {
  /** IndexedDB implementation (defaults to the global one; tests pass fake-indexeddb). */
  indexedDB?: IndexedDbDeps;
  /** Clock, epoch ms (tests). */
  now?: () => number;
  /**
   * scrypt parameters for new passphrases (`setup`, `changePassphrase`), also the least that
   * `unlock` accepts. Default: DEFAULT_KDF for new ones, KDF_FLOOR for unlock. The extension
   * never passes it; Node tests pass a small N.
   */
  kdf?: KdfParams;
};

export type KeyInput = {
  deviceId: string;
  volumeId: string;
  kind: KeyKind;
  version: number;
  /** The recovery key (normalized form). */
  key: string;
  protectorId?: string | null;
};

export type StoredKey = Required<KeyInput> & { storedAt: number };

export type VaultStatus = {
  initialized: boolean;
  unlocked: boolean;
  failedAttempts: number;
  /** Epoch ms until which unlock is refused, or null. */
  lockedOutUntil: number | null;
};

export type OutboxEntryInput = {
  kind: OutboxKind;
  deviceId: string;
  payload: OutboxRecord['payload'];
  /** Defaults to a random UUID. Enqueueing an id that is already queued does nothing. */
  idempotencyKey?: string;
};

export type OutboxItem = OutboxRecord;

const WRAP_LABEL = 'keyward-vault/data-key/v1';
const CHECK_LABEL = 'keyward-vault/key-check/v1';
const KEY_LABEL = 'keyward-vault/recovery-key/v1';

const keyRecordId = (deviceId: string, volumeId: string, version: number) => `${deviceId}/${volumeId}/${version}`;
const keyAd = (r: Pick<KeyRecord, 'id' | 'deviceId' | 'volumeId' | 'kind' | 'version' | 'protectorId'>) =>
  associatedData(KEY_LABEL, [r.id, r.deviceId, r.volumeId, r.kind, r.version, r.protectorId]);

export async function openVault(dbName = 'keyward-vault', options: OpenVaultOptions = {}): Promise<Vault> {
  const db = openVaultDb(dbName, options.indexedDB);
  await db.open();
  return new Vault(db, options);
}

function sealVaultMeta(kek: Uint8Array, dataKey: Uint8Array, salt: Uint8Array, kdf: KdfParams, createdAt: number): VaultMeta {
  const keyId = crypto.randomUUID();
  return {
    name: 'vault',
    format: 1,
    salt,
    kdf: { ...kdf },
    keyId,
    wrappedKey: seal(kek, dataKey, associatedData(WRAP_LABEL, [keyId])),
    keyCheck: seal(dataKey, new Uint8Array(0), associatedData(CHECK_LABEL, [keyId])),
    createdAt,
  };
}

/** Whether two sealed records are the same write (each seal draws a fresh nonce). */
function sameNonce(a: Sealed, b: Sealed): boolean {
  return a.nonce.length === b.nonce.length && a.nonce.every((byte, i) => byte === b.nonce[i]);
}

export class Vault {
  readonly #db: VaultDb;
  readonly #now: () => number;
  readonly #kdf: KdfParams;
  readonly #kdfFloor: KdfParams;
  #dataKey: Uint8Array | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(db: VaultDb, options: OpenVaultOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#kdf = options.kdf ?? DEFAULT_KDF;
    this.#kdfFloor = options.kdf ?? KDF_FLOOR;
  }

  /** Runs vault operations one at a time, so a passphrase change never interleaves with a write. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #requireKey(): Uint8Array {
    if (!this.#dataKey) throw new VaultError('locked', 'The vault is locked.');
    return this.#dataKey;
  }

  #adopt(dataKey: Uint8Array): void {
    assertKey(dataKey, 'data key');
    if (this.#dataKey && this.#dataKey !== dataKey) clean(this.#dataKey);
    this.#dataKey = dataKey;
  }

  close(): void {
    this.lock();
    this.#db.close();
  }

  // --- lifecycle -----------------------------------------------------------------------

  async isInitialized(): Promise<boolean> {
    return (await readMeta(this.#db, 'vault')) !== undefined;
  }

  isUnlocked(): boolean {
    return this.#dataKey !== null;
  }

  async status(): Promise<VaultStatus> {
    const [vault, unlock] = await Promise.all([readMeta(this.#db, 'vault'), readMeta(this.#db, 'unlock')]);
    const until = unlock?.lockedOutUntil ?? 0;
    return {
      initialized: vault !== undefined,
      unlocked: this.isUnlocked(),
      failedAttempts: unlock?.failedAttempts ?? 0,
      lockedOutUntil: until > this.#now() ? until : null,
    };
  }

  setup(passphrase: string, onProgress?: Progress): Promise<void> {
    return this.#exclusive(async () => {
      if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
        throw new VaultError('passphrase_too_short', `The passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters.`);
      }
      if (await this.isInitialized()) throw new VaultError('already_initialized', 'The vault already has a passphrase.');
      const salt = randomBytes(32);
      const kek = await deriveKeyEncryptionKey(passphrase, salt, this.#kdf, onProgress);
      const dataKey = randomBytes(KEY_BYTES);
      const meta = sealVaultMeta(kek, dataKey, salt, this.#kdf, this.#now());
      clean(kek);
      const db = this.#db;
      await db.transaction('rw', db.meta, async () => {
        if (await db.meta.get('vault')) throw new VaultError('already_initialized', 'The vault already has a passphrase.');
        await db.meta.bulkPut([meta, { name: 'unlock', failedAttempts: 0, lockedOutUntil: 0 }]);
      });
      this.#adopt(dataKey);
    });
  }

  unlock(passphrase: string, onProgress?: Progress): Promise<void> {
    return this.#exclusive(async () => {
      const { dataKey } = await this.#openDataKey(passphrase, onProgress);
      await this.#db.meta.put({ name: 'unlock', failedAttempts: 0, lockedOutUntil: 0 });
      this.#adopt(dataKey);
    });
  }

  /** Checks the passphrase against the stored verifier; counts failures and enforces the lockout. */
  async #openDataKey(passphrase: string, onProgress?: Progress): Promise<{ meta: VaultMeta; dataKey: Uint8Array }> {
    const meta = await readMeta(this.#db, 'vault');
    if (!meta) throw new VaultError('not_initialized', 'The vault has no passphrase yet.');
    const lockedOutUntil = (await readMeta(this.#db, 'unlock'))?.lockedOutUntil ?? 0;
    if (lockedOutUntil > this.#now()) {
      throw new VaultError('locked_out', 'Too many wrong passphrases; try again later.', { lockedOutUntil });
    }
    assertKdfStrongEnough(meta.kdf, this.#kdfFloor);
    const kek = await deriveKeyEncryptionKey(passphrase, meta.salt, meta.kdf, onProgress);
    const dataKey = tryOpen(kek, meta.wrappedKey, associatedData(WRAP_LABEL, [meta.keyId]));
    clean(kek);
    if (!dataKey) {
      const until = await this.#recordFailedAttempt();
      throw new VaultError('wrong_passphrase', 'The passphrase is not correct.', { lockedOutUntil: until });
    }
    return { meta, dataKey };
  }

  async #recordFailedAttempt(): Promise<number | null> {
    const db = this.#db;
    return db.transaction('rw', db.meta, async () => {
      const failedAttempts = ((await readMeta(db, 'unlock'))?.failedAttempts ?? 0) + 1;
      const delay = lockoutDelayMs(failedAttempts);
      const lockedOutUntil = delay > 0 ? this.#now() + delay : 0;
      await db.meta.put({ name: 'unlock', failedAttempts, lockedOutUntil });
      return lockedOutUntil || null;
    });
  }

  /**
   * Starts over after a forgotten passphrase: the cached keys, the passphrase and the lockout
   * are deleted. Device metadata and the offline-reveal reports (the outbox) stay, so statuses still show and the
   * service still learns of every offline reveal.
   */
  reset(): Promise<void> {
    return this.#exclusive(async () => {
      this.lock();
      const db = this.#db;
      await db.transaction('rw', db.keys, db.meta, async () => {
        await db.keys.clear();
        await db.meta.bulkDelete(['vault', 'unlock']);
      });
    });
  }

  /** Forgets the data key (the buffer is zeroed). Metadata stays readable. */
  lock(): void {
    if (this.#dataKey) clean(this.#dataKey);
    this.#dataKey = null;
  }

  /** A copy of the unlocked data key, for `storage.session` only (never `storage.local`). */
  exportSessionKey(): Uint8Array {
    return this.#requireKey().slice();
  }

  /** Unlocks with a key from `exportSessionKey`; `session_invalid` if it is not this vault's current key. */
  resumeFromSessionKey(sessionKey: Uint8Array): Promise<void> {
    return this.#exclusive(async () => {
      const meta = await readMeta(this.#db, 'vault');
      if (!meta) throw new VaultError('not_initialized', 'The vault has no passphrase yet.');
      const candidate = sessionKey.slice();
      if (candidate.length !== KEY_BYTES || !tryOpen(candidate, meta.keyCheck, associatedData(CHECK_LABEL, [meta.keyId]))) {
        clean(candidate);
        throw new VaultError('session_invalid', 'The saved session does not match this vault.');
      }
      this.#adopt(candidate);
    });
  }

  /**
   * Re-encrypts everything under a new data key derived from a new passphrase, in one
   * transaction: the vault ends fully on the old passphrase or fully on the new one. The
   * vault is unlocked (with the new key) afterwards; re-export the session key.
   */
  changePassphrase(oldPassphrase: string, newPassphrase: string, onProgress?: Progress): Promise<void> {
    return this.#exclusive(async () => {
      if (newPassphrase.length < MIN_PASSPHRASE_LENGTH) {
        throw new VaultError('passphrase_too_short', `The passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters.`);
      }
      const { meta, dataKey: oldKey } = await this.#openDataKey(oldPassphrase, onProgress && ((f) => onProgress(f / 2)));
      const newKey = randomBytes(KEY_BYTES);
      try {
        const salt = randomBytes(32);
        const kek = await deriveKeyEncryptionKey(newPassphrase, salt, this.#kdf, onProgress && ((f) => onProgress(0.5 + f / 2)));
        const newMeta = sealVaultMeta(kek, newKey, salt, this.#kdf, meta.createdAt);
        clean(kek);
        const db = this.#db;
        const keys = await db.keys.toArray();
        const newKeys = keys.map((r) => reseal(r, oldKey, newKey));
        await db.transaction('rw', db.keys, db.meta, async () => {
          const [current, keysNow] = await Promise.all([db.meta.get('vault'), db.keys.toArray()]);
          const unchanged =
            current?.name === 'vault' && current.keyId === meta.keyId &&
            keysNow.length === keys.length && keysNow.every((r, i) => r.id === keys[i].id && sameNonce(r, keys[i]));
          if (!unchanged) throw new VaultError('vault_changed', 'The vault changed during the passphrase change; try again.');
          await db.keys.bulkPut(newKeys);
          await db.meta.bulkPut([newMeta, { name: 'unlock', failedAttempts: 0, lockedOutUntil: 0 }]);
        });
        this.#adopt(newKey);
      } catch (error) {
        clean(newKey);
        throw error;
      } finally {
        if (this.#dataKey !== oldKey) clean(oldKey);
      }
    });
  }

  // --- recovery keys ---------------------------------------------------------------------

  putKey(input: KeyInput): Promise<void> {
    return this.#exclusive(async () => {
      const { deviceId, volumeId, kind, version, key } = input;
      const valid =
        typeof deviceId === 'string' && deviceId !== '' && typeof volumeId === 'string' && volumeId !== '' &&
        KeyKind.options.includes(kind) && Number.isSafeInteger(version) && version >= 0 && typeof key === 'string' && key !== '';
      if (!valid) throw new VaultError('invalid_input', 'A key record needs a device, a volume, a kind, a version and a key.');
      const dataKey = this.#requireKey();
      const fields = { id: keyRecordId(deviceId, volumeId, version), deviceId, volumeId, kind, version, protectorId: input.protectorId ?? null };
      const plaintext = utf8(key);
      const sealed = seal(dataKey, plaintext, keyAd(fields));
      clean(plaintext);
      await this.#db.keys.put({ ...fields, ...sealed, storedAt: this.#now() });
    });
  }

  /** The newest stored version of a volume's key, decrypted; null if none is stored. */
  getKey(deviceId: string, volumeId: string): Promise<StoredKey | null> {
    return this.#exclusive(async () => {
      const dataKey = this.#requireKey();
      const rows = await this.#db.keys.where('[deviceId+volumeId]').equals([deviceId, volumeId]).toArray();
      if (rows.length === 0) return null;
      const r = rows.reduce((a, b) => (b.version > a.version ? b : a));
      const key = fromUtf8(open(dataKey, r, keyAd(r), r.id));
      return { deviceId: r.deviceId, volumeId: r.volumeId, kind: r.kind, version: r.version, protectorId: r.protectorId, key, storedAt: r.storedAt };
    });
  }

  /** Which volumes have a cached key (no decryption, works while locked). */
  async listKeyVersions(deviceId?: string): Promise<{ deviceId: string; volumeId: string; kind: KeyKind; version: number; storedAt: number }[]> {
    const rows = deviceId === undefined ? await this.#db.keys.toArray() : await this.#db.keys.where('deviceId').equals(deviceId).toArray();
    return rows.map(({ deviceId: d, volumeId, kind, version, storedAt }) => ({ deviceId: d, volumeId, kind, version, storedAt }));
  }

  /** Deletes cached keys: one device's, or all of them (e.g. policy `offlineCache: metadata`). */
  deleteKeys(deviceId?: string): Promise<void> {
    return this.#exclusive(async () => {
      if (deviceId === undefined) await this.#db.keys.clear();
      else await this.#db.keys.where('deviceId').equals(deviceId).delete();
    });
  }

  // --- device metadata (plaintext; readable while locked) ---------------------------------

  /**
   * Saves devices from a sync. With `fullSync`, devices not in the list (and their cached keys)
   * are removed, as after a first or reset sync. (The sync cursor lives with the sync status,
   * in the extension's storage, not here.)
   */
  async putDevices(devices: Device[], options: { fullSync?: boolean } = {}): Promise<void> {
    const db = this.#db;
    await db.transaction('rw', db.devices, db.keys, async () => {
      if (options.fullSync) {
        const keep = new Set(devices.map((d) => d.id));
        const gone = (await db.devices.toCollection().primaryKeys()).filter((id) => !keep.has(id));
        await db.devices.bulkDelete(gone);
        if (gone.length > 0) await db.keys.where('deviceId').anyOf(gone).delete();
      }
      await db.devices.bulkPut(devices);
    });
  }

  /**
   * Refreshes one cached device; writes only when it is cached and something in it changed.
   * Returns whether it wrote.
   */
  async updateDevice(device: Device): Promise<boolean> {
    const db = this.#db;
    return db.transaction('rw', db.devices, async () => {
      const cached = await db.devices.get(device.id);
      if (!cached || sameValue(cached, device)) return false;
      await db.devices.put(device);
      return true;
    });
  }

  /** Every cached device, by name. Needs no unlock. */
  async listDevices(): Promise<Device[]> {
    const devices = await this.#db.devices.toArray();
    return devices.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  async getDevice(id: string): Promise<Device | null> {
    return (await this.#db.devices.get(id)) ?? null;
  }

  // --- outbox ----------------------------------------------------------------------------

  /** Queues an action (no secrets: the outbox is plaintext); returns its idempotency key. Needs no unlock. */
  enqueue(entry: OutboxEntryInput): Promise<string> {
    return this.#exclusive(async () => {
      const id = entry.idempotencyKey ?? crypto.randomUUID();
      const now = this.#now();
      const db = this.#db;
      await db.transaction('rw', db.outbox, async () => {
        if (await db.outbox.get(id)) return;
        await db.outbox.add({ id, kind: entry.kind, deviceId: entry.deviceId, payload: { ...entry.payload }, createdAt: now, attempts: 0, nextAttemptAt: now, lastError: null });
      });
      return id;
    });
  }

  /** Entries whose retry time has come, oldest first (readable while locked). */
  due(limit = 50): Promise<OutboxItem[]> {
    return this.#exclusive(async () => {
      const rows = await this.#db.outbox.where('nextAttemptAt').belowOrEqual(this.#now()).toArray();
      rows.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt);
      return rows.slice(0, limit);
    });
  }

  async markDone(id: string): Promise<void> {
    await this.#db.outbox.delete(id);
  }

  /** Records a failed attempt and schedules the next one `backoff(attempts)` ms from now. */
  async markFailed(id: string, error: string | null = null, backoff: Backoff = exponentialBackoff): Promise<void> {
    const db = this.#db;
    await db.transaction('rw', db.outbox, async () => {
      const row = await db.outbox.get(id);
      if (!row) return;
      const attempts = row.attempts + 1;
      await db.outbox.update(id, { attempts, nextAttemptAt: this.#now() + backoff(attempts), lastError: error });
    });
  }

  async outboxSize(): Promise<number> {
    return this.#db.outbox.count();
  }
}

/** The same key record sealed under the new data key; a record that is already corrupt is kept as it is. */
function reseal(record: KeyRecord, oldKey: Uint8Array, newKey: Uint8Array): KeyRecord {
  const ad = keyAd(record);
  const plaintext = tryOpen(oldKey, record, ad);
  if (!plaintext) return record;
  const next = seal(newKey, plaintext, ad);
  clean(plaintext);
  return { ...record, ...next };
}
