/**
 * Keyward's encrypted local vault (background service worker only): device metadata for the
 * popup (readable while locked), recovery keys encrypted at rest, and an outbox of actions
 * waiting for the network. IndexedDB via Dexie; scrypt (RFC 7914, WebAssembly core) for the
 * passphrase; XChaCha20-Poly1305 for records.
 *
 * ## API
 *   const vault = await openVault('keyward-vault');          // one per service worker
 *   await vault.isInitialized(); vault.isUnlocked(); await vault.status();
 *   await vault.setup(passphrase, onProgress);                // first time; leaves it unlocked
 *   await vault.unlock(passphrase, onProgress);               // onProgress(fraction 0..1)
 *   vault.lock();                                             // zeroes the key in memory
 *   await vault.reset();                                      // forgotten passphrase: keys and passphrase gone, back to setup
 *   const sk = vault.exportSessionKey();                      // Uint8Array(32), for storage.session ONLY
 *   await vault.resumeFromSessionKey(sk);                     // after a service-worker restart
 *   await vault.changePassphrase(old, next, onProgress);      // atomic re-encryption; re-export sk after
 *   await vault.putKey({ deviceId, volumeId, kind, version, key, protectorId? });
 *   await vault.getKey(deviceId, volumeId);                   // newest version → { key, version, … } | null
 *   await vault.listKeyVersions(deviceId?); await vault.deleteKeys(deviceId?);
 *   await vault.putDevices(devices, { fullSync? });           // contract `Device`s from a sync
 *   await vault.updateDevice(device);                         // one cached device; writes only if it changed
 *   await vault.listDevices(); await vault.getDevice(id);     // no unlock needed
 *   const id = await vault.enqueue({ kind: 'offline_reveal', deviceId, payload, idempotencyKey? });
 *   await vault.due(limit?);                                  // entries ready to send (no unlock needed)
 *   await vault.markDone(id); await vault.markFailed(id, error?, backoff?); await vault.outboxSize();
 * An offline reveal: `getKey` then `enqueue({ kind: 'offline_reveal', deviceId, idempotencyKey,
 * payload: { volumeId, version, at } })`; when online, send `due()` entries to
 * `POST /api/v1/audit/offline-reveals` and `markDone` / `markFailed` each.
 *
 * `openVault(name, { kdf, now, indexedDB })`: `kdf` exists for Node tests only (a small scrypt
 * N); the extension never passes it, so setup always uses scrypt N=2^17, r=8, p=1 and unlock
 * refuses anything weaker.
 * `putDevices(…, { fullSync: true })` deletes devices missing from the list: use it only with
 * a complete list (first sync, reset cursor), not with a delta.
 *
 * ## Errors: `VaultError` with `code`
 *   not_initialized      no passphrase set yet (call setup)
 *   already_initialized  setup on a vault that has one
 *   passphrase_too_short fewer than MIN_PASSPHRASE_LENGTH (8) characters
 *   locked               needs unlock (getKey, putKey, exportSessionKey)
 *   wrong_passphrase     nothing decrypted, nothing changed but the failure counter;
 *                        `lockedOutUntil` is set when this failure started a lockout
 *   locked_out           too many wrong passphrases: unlock refused until `lockedOutUntil`
 *                        (3 free tries, then 10 s, 20 s, 40 s … up to 15 min; data is never wiped)
 *   kdf_too_weak         the stored scrypt parameters are below N=2^17, r=8, p=1
 *   record_corrupt       a record failed authentication (edited, or moved to another
 *                        device/volume); `recordId` says which; other records are unaffected
 *   session_invalid      the session key is not this vault's current key (e.g. passphrase changed)
 *   vault_changed        records changed during a passphrase change; nothing was changed, retry
 *   invalid_input        a key record without device, volume, kind, version or key
 *
 * ## Wiring in the extension
 *   - The manifest CSP must allow WebAssembly: `content_security_policy.extension_pages`
 *     = "script-src 'self' 'wasm-unsafe-eval'; object-src 'self';". Without it scrypt falls
 *     back to pure JavaScript (same result, about twice as slow).
 *   - Keep the session key only in `storage.session` (e.g. base64), never `storage.local`.
 *   - Benchmarks: `bench-hook.ts` (imported directly, not from here) is installed by the
 *     background only in the `bench` build mode (`wxt build --mode bench`), never in a
 *     production build; see that module.
 */
export { openVault, Vault, MIN_PASSPHRASE_LENGTH } from './vault.ts';
export type { KeyInput, StoredKey, VaultStatus, OutboxEntryInput, OutboxItem, OpenVaultOptions } from './vault.ts';
export { VaultError, isVaultError } from './errors.ts';
export type { VaultErrorCode } from './errors.ts';
export { KDF_FLOOR, DEFAULT_KDF } from './kdf.ts';
export type { KdfParams } from './kdf.ts';
export { exponentialBackoff, lockoutDelayMs } from './backoff.ts';
export type { Backoff } from './backoff.ts';
export type { OutboxKind } from './db.ts';
export { scryptBackend } from './scrypt.ts';
export type { Progress } from './scrypt.ts';
