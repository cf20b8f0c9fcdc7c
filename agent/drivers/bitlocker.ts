/**
 * BitLocker driver (Windows, `manage-bde`). Volumes are drive letters given by the caller
 * (default C:). Verify = the password is one of the volume's Numerical Password protectors
 * (`manage-bde -protectors -get`; Windows offers no test of a password on an unlocked
 * volume). Add = `-protectors -add <v> -RecoveryPassword <password>`; manage-bde accepts the
 * password only as an argument, so it is briefly visible to administrators in the process
 * list (it is never logged). Remove = `-protectors -delete <v> -id {GUID}`.
 * Cannot run on Linux; tested with recorded output.
 */
import type { KeyKind } from '../../lib/api/contract.ts';
import type { Log } from '../log.ts';
import { silentLog } from '../log.ts';
import { runCommand, type CommandResult, type CommandRunner } from './run-command.ts';
import { DiskError, type AddedKey, type DiskDriver, type DriverVolume, type ExistingKey, type KeyToRemove } from './driver.ts';
import { groupBitLockerPassword, normalizeBitLockerPassword, parseManageBdeProtectors, parseNumericalPasswords } from './bitlocker-output.ts';

export type BitLockerDriverOptions = { volumes?: string[]; manageBde?: string; run?: CommandRunner; log?: Log };

export class BitLockerDriver implements DiskDriver {
  readonly name = 'bitlocker' as const;
  readonly keyKind: KeyKind = 'bitlocker';
  readonly keySource = 'agent' as const;
  private readonly volumes: string[];
  private readonly manageBde: string;
  private readonly run: CommandRunner;
  private readonly log: Log;

  constructor(options: BitLockerDriverOptions = {}) {
    this.volumes = options.volumes ?? ['C:'];
    this.manageBde = options.manageBde ?? 'manage-bde';
    this.run = options.run ?? runCommand;
    this.log = options.log ?? silentLog;
  }

  async listVolumes(): Promise<DriverVolume[]> {
    const volumes: DriverVolume[] = [];
    for (const ref of this.volumes) {
      const result = await this.run(this.manageBde, ['-protectors', '-get', ref]);
      const protectors = result.code === 0 ? parseManageBdeProtectors(result.stdout) : [];
      volumes.push({
        ref,
        name: ref,
        encrypted: protectors.length > 0,
        protectorIds: protectors.filter((p) => p.password !== null).map((p) => p.id),
      });
    }
    return volumes;
  }

  async readExistingKeys(ref: string): Promise<ExistingKey[]> {
    const result = await this.run(this.manageBde, ['-protectors', '-get', ref, '-Type', 'RecoveryPassword']);
    if (result.code !== 0) throw commandError('-protectors -get', ref, result);
    return parseNumericalPasswords(result.stdout).map((p) => ({ protectorId: p.protectorId, key: normalizeBitLockerPassword(p.password) }));
  }

  async findProtector(ref: string, key: string): Promise<string | null> {
    return (await this.readExistingKeys(ref)).find((p) => p.key === key)?.protectorId ?? null;
  }

  /** A BitLocker protector is identified by its id alone: listed → the id, gone → null. */
  async protectorFingerprint(ref: string, protectorId: string): Promise<string | null> {
    return (await this.readExistingKeys(ref)).some((p) => p.protectorId === protectorId) ? protectorId : null;
  }

  async verifyKey(ref: string, key: string): Promise<boolean> {
    const ok = (await this.readExistingKeys(ref)).some((p) => p.key === key);
    this.log(`verify key on ${ref}: ${ok ? 'is a recovery password of the volume' : 'is not a recovery password of the volume'}`);
    return ok;
  }

  async addKey(ref: string, _authorityKey: string, newKey: string | null): Promise<AddedKey> {
    if (newKey === null) throw new DiskError('the BitLocker driver needs the new recovery password from the agent');
    const existing = (await this.readExistingKeys(ref)).find((p) => p.key === newKey);
    if (existing) return { protectorId: existing.protectorId, key: newKey };
    const result = await this.run(this.manageBde, ['-protectors', '-add', ref, '-RecoveryPassword', groupBitLockerPassword(newKey)]);
    if (result.code !== 0) throw commandError('-protectors -add', ref, result);
    const added = parseManageBdeProtectors(result.stdout)[0]?.id ?? null;
    this.log(`added Numerical Password protector ${added ?? '?'} on ${ref}`);
    return { protectorId: added, key: newKey };
  }

  async removeKey(ref: string, target: KeyToRemove, remainingKey: string): Promise<void> {
    const protectors = await this.readExistingKeys(ref);
    const remaining = protectors.find((p) => p.key === remainingKey);
    if (!remaining) throw new DiskError(`${ref}: refusing to remove a protector, the remaining password is not on the volume`);
    const doomed = protectors.filter((p) => p.protectorId !== remaining.protectorId && (p.protectorId === target.protectorId || p.key === target.key));
    for (const protector of doomed) {
      const result = await this.run(this.manageBde, ['-protectors', '-delete', ref, '-id', protector.protectorId]);
      if (result.code !== 0) throw commandError('-protectors -delete', ref, result);
      this.log(`deleted Numerical Password protector ${protector.protectorId} on ${ref}`);
    }
  }
}

function commandError(action: string, ref: string, result: CommandResult): DiskError {
  // manage-bde echoes nothing secret on failure, but keep only the first lines of its output.
  const detail = (result.stderr || result.stdout).trim().split(/\r?\n/).filter((l) => !/\d{6}-\d{6}/.test(l)).slice(-3).join(' ');
  return new DiskError(`manage-bde ${action} ${ref} failed (exit ${result.code}): ${detail.slice(0, 300)}`);
}
