/**
 * The one interface every disk driver implements (simulated, LUKS, FileVault, BitLocker):
 * list volumes with their encryption state and protector ids, verify a key, add a key,
 * remove a key, and read keys already on the disk (BitLocker numerical passwords).
 * Keys cross this interface in their normalized form (lib/keys) and never reach a log.
 */
import type { DeviceErrorCause, KeyKind } from '../../lib/api/contract.ts';

export type DriverName = 'simulated' | 'luks' | 'filevault' | 'bitlocker';

export type DriverVolume = {
  /** Stable identifier the driver uses for the volume ("C:", a LUKS container path, "/"). */
  ref: string;
  /** Shown to people ("C:", "Macintosh HD"). */
  name: string;
  encrypted: boolean;
  /** Ids of the key protectors/slots currently on the volume. */
  protectorIds: string[];
};

/** A key found on the disk together with the id of the protector holding it. */
export type ExistingKey = { protectorId: string; key: string };

export type AddedKey = {
  /** Id of the new protector/slot, when the platform has one. */
  protectorId: string | null;
  /** The key now on the disk (the one given, or the one the platform generated). */
  key: string;
};

/** Which key to remove: the key itself (LUKS, simulated) and/or its protector id (BitLocker). */
export type KeyToRemove = { key: string; protectorId: string | null };

export interface DiskDriver {
  readonly name: DriverName;
  readonly keyKind: KeyKind;
  /**
   * `agent`: the agent generates the new key and escrows it before `addKey` puts it on disk.
   * `platform`: the OS generates it during `addKey` (fdesetup changerecovery), replacing the
   * old key in the same step; the agent escrows it right after.
   */
  readonly keySource: 'agent' | 'platform';
  listVolumes(): Promise<DriverVolume[]>;
  verifyKey(ref: string, key: string): Promise<boolean>;
  /** Adds `newKey` (null when keySource is `platform`) using `authorityKey` to authorize it. */
  addKey(ref: string, authorityKey: string, newKey: string | null): Promise<AddedKey>;
  /** Removes one key; `remainingKey` is a key that stays on the disk (authority for the change). */
  removeKey(ref: string, target: KeyToRemove, remainingKey: string): Promise<void>;
  /** Keys the platform lets us read back (BitLocker numerical passwords); [] elsewhere. */
  readExistingKeys(ref: string): Promise<ExistingKey[]>;
  /** The protector/slot `key` opens (LUKS key slot, BitLocker protector id), or null (none, or the platform has no ids). */
  findProtector(ref: string, key: string): Promise<string | null>;
  /**
   * A fingerprint of a protector's metadata (LUKS: the slot's salt and KDF), or null when the
   * protector is gone. Same fingerprint ⇒ the protector still holds the same key: the cheap check.
   */
  protectorFingerprint(ref: string, protectorId: string): Promise<string | null>;
}

/** A driver-level failure; its message never contains a key. `reason` is the cause the console shows. */
export class DiskError extends Error {
  override name = 'DiskError';
  readonly reason: DeviceErrorCause;
  constructor(message: string, reason: DeviceErrorCause = 'device_error') {
    super(message);
    this.reason = reason;
  }
}
