/**
 * FileVault driver (macOS, `fdesetup`, run as root). Verify = `fdesetup validaterecovery`
 * (the key on standard input). Rotate = `fdesetup changerecovery -personal -inputplist
 * -outputplist`, authorized by the current recovery key; macOS generates the new key
 * itself and it replaces the old one in the same step, so this driver's keySource is
 * `platform` and removing the old key is a no-op. Cannot run on Linux; the command wiring
 * is tested with recorded output.
 */
import type { KeyKind } from '../../lib/api/contract.ts';
import type { Log } from '../log.ts';
import { silentLog } from '../log.ts';
import { runCommand, type CommandResult, type CommandRunner } from './run-command.ts';
import { DiskError, type AddedKey, type DiskDriver, type DriverVolume, type ExistingKey } from './driver.ts';
import { buildAuthPlist, groupFileVaultKey, parseFdesetupBoolean, parseFdesetupStatus, parseNewRecoveryKey } from './filevault-output.ts';

export type FileVaultDriverOptions = { volumeName?: string; username?: string; fdesetup?: string; run?: CommandRunner; log?: Log };

/** FileVault protects the boot volume; the agent calls it "/". */
export const FILEVAULT_REF = '/';

export class FileVaultDriver implements DiskDriver {
  readonly name = 'filevault' as const;
  readonly keyKind: KeyKind = 'filevault';
  readonly keySource = 'platform' as const;
  private readonly volumeName: string;
  private readonly username: string | null;
  private readonly fdesetup: string;
  private readonly run: CommandRunner;
  private readonly log: Log;

  constructor(options: FileVaultDriverOptions = {}) {
    this.volumeName = options.volumeName ?? 'Macintosh HD';
    this.username = options.username ?? null;
    this.fdesetup = options.fdesetup ?? '/usr/bin/fdesetup';
    this.run = options.run ?? runCommand;
    this.log = options.log ?? silentLog;
  }

  async listVolumes(): Promise<DriverVolume[]> {
    const result = await this.run(this.fdesetup, ['status']);
    if (result.code !== 0) throw commandError('status', result);
    const status = parseFdesetupStatus(result.stdout);
    return [{ ref: FILEVAULT_REF, name: this.volumeName, encrypted: status === 'on' || status === 'encrypting', protectorIds: [] }];
  }

  async verifyKey(_ref: string, key: string): Promise<boolean> {
    const result = await this.run(this.fdesetup, ['validaterecovery'], `${groupFileVaultKey(key)}\n`);
    const valid = parseFdesetupBoolean(result.stdout);
    if (valid === null) throw commandError('validaterecovery', result);
    this.log(`verify recovery key: ${valid ? 'unlocks' : 'does not unlock'}`);
    return valid;
  }

  async addKey(_ref: string, authorityKey: string, newKey: string | null): Promise<AddedKey> {
    if (newKey !== null) throw new DiskError('fdesetup generates the personal recovery key itself; it cannot set a given key');
    const result = await this.run(this.fdesetup, ['changerecovery', '-personal', '-inputplist', '-outputplist'], buildAuthPlist(this.username, groupFileVaultKey(authorityKey)));
    if (result.code !== 0) throw commandError('changerecovery -personal', result);
    const key = parseNewRecoveryKey(result.stdout);
    if (key === null) throw new DiskError('fdesetup changerecovery -personal: no new recovery key in its output');
    this.log('changed the personal recovery key');
    return { protectorId: null, key };
  }

  async removeKey(): Promise<void> {
    // changerecovery already replaced the old personal recovery key.
    this.log('old personal recovery key was replaced by changerecovery; nothing to remove');
  }

  async readExistingKeys(): Promise<ExistingKey[]> {
    return [];
  }

  /** fdesetup has no ids for the personal recovery key: no cheap check, only the full one. */
  async findProtector(): Promise<string | null> {
    return null;
  }

  async protectorFingerprint(): Promise<string | null> {
    return null;
  }
}

function commandError(action: string, result: CommandResult): DiskError {
  return new DiskError(`fdesetup ${action} failed (exit ${result.code}): ${result.stderr.trim().slice(0, 300)}`);
}
