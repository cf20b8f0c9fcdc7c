/**
 * LUKS driver: real `cryptsetup` (LUKS2) on block devices or file-backed containers.
 * Verify = `open --test-passphrase`, add = `luksAddKey`, remove = `luksRemoveKey`; none of
 * them needs device-mapper. Passphrases go to cryptsetup on standard input, one per line
 * (its non-interactive passphrase mode), never on the command line; so a passphrase may not
 * contain a line break. `fastKdfForTests` makes new key slots use PBKDF2 with 1000
 * iterations: for throw-away test containers only, never for a real disk.
 */
import type { KeyKind } from '../../lib/api/contract.ts';
import type { Log } from '../log.ts';
import { silentLog } from '../log.ts';
import { runCommand, type CommandResult, type CommandRunner } from './run-command.ts';
import { DiskError, type AddedKey, type DiskDriver, type DriverVolume, type ExistingKey, type KeyToRemove } from './driver.ts';

/** cryptsetup's exit code when no key slot accepts the passphrase. */
const NO_KEY_AVAILABLE = 2;
export const DEFAULT_CRYPTSETUP = '/usr/sbin/cryptsetup';
export const TEST_ONLY_FAST_KDF = ['--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000'];

export type LuksDriverOptions = { volumes: string[]; cryptsetup?: string; fastKdfForTests?: boolean; run?: CommandRunner; log?: Log };

export class LuksDriver implements DiskDriver {
  readonly name = 'luks' as const;
  readonly keyKind: KeyKind = 'luks';
  readonly keySource = 'agent' as const;
  private readonly volumes: string[];
  private readonly cryptsetup: string;
  private readonly kdfArgs: string[];
  private readonly runner: CommandRunner;
  private readonly log: Log;

  constructor(options: LuksDriverOptions) {
    this.runner = options.run ?? runCommand;
    this.volumes = options.volumes;
    this.cryptsetup = options.cryptsetup ?? DEFAULT_CRYPTSETUP;
    this.kdfArgs = options.fastKdfForTests ? TEST_ONLY_FAST_KDF : [];
    this.log = options.log ?? silentLog;
  }

  async listVolumes(): Promise<DriverVolume[]> {
    const volumes: DriverVolume[] = [];
    for (const ref of this.volumes) {
      const isLuks = await this.run(['isLuks', ref]);
      volumes.push({ ref, name: ref, encrypted: isLuks.code === 0, protectorIds: isLuks.code === 0 ? await this.keySlots(ref) : [] });
    }
    return volumes;
  }

  async verifyKey(ref: string, key: string): Promise<boolean> {
    const result = await this.run(['open', '--test-passphrase', '--batch-mode', ref], passphraseLines(key));
    if (result.code === 0 || result.code === NO_KEY_AVAILABLE) {
      this.log(`verify key on ${ref}: ${result.code === 0 ? 'unlocks' : 'does not unlock'}`);
      return result.code === 0;
    }
    throw commandError('open --test-passphrase', ref, result);
  }

  async addKey(ref: string, authorityKey: string, newKey: string | null): Promise<AddedKey> {
    if (newKey === null) throw new DiskError('the LUKS driver needs the new key from the agent');
    const before = await this.keySlots(ref);
    const result = await this.run(['luksAddKey', '--batch-mode', ...this.kdfArgs, ref], passphraseLines(authorityKey, newKey));
    if (result.code === NO_KEY_AVAILABLE) throw new DiskError(`luksAddKey ${ref}: the authorizing passphrase does not unlock the volume`);
    if (result.code !== 0) throw commandError('luksAddKey', ref, result);
    const added = (await this.keySlots(ref)).find((slot) => !before.includes(slot)) ?? null;
    this.log(`added key slot ${added ?? '?'} on ${ref}`);
    return { protectorId: added, key: newKey };
  }

  async removeKey(ref: string, target: KeyToRemove, remainingKey: string): Promise<void> {
    if (target.key === remainingKey) throw new DiskError(`${ref}: refusing to remove the key that must remain`);
    if (!(await this.verifyKey(ref, remainingKey))) throw new DiskError(`${ref}: refusing to remove a key, the remaining key does not unlock the volume`);
    const result = await this.run(['luksRemoveKey', '--batch-mode', ref], passphraseLines(target.key));
    if (result.code === NO_KEY_AVAILABLE) {
      this.log(`remove key on ${ref}: already gone`);
      return;
    }
    if (result.code !== 0) throw commandError('luksRemoveKey', ref, result);
    this.log(`removed a key slot from ${ref}`);
  }

  async readExistingKeys(): Promise<ExistingKey[]> {
    return [];
  }

  /** Key slot numbers in use, from the LUKS2 JSON metadata. */
  private async keySlots(ref: string): Promise<string[]> {
    const result = await this.run(['luksDump', '--dump-json-metadata', ref]);
    if (result.code !== 0) throw commandError('luksDump', ref, result);
    return parseLuksKeySlots(result.stdout);
  }

  private run(args: string[], stdin = ''): Promise<CommandResult> {
    return this.runner(this.cryptsetup, args, stdin);
  }
}

/** Key slot ids (`"0"`, `"1"`, …) from `cryptsetup luksDump --dump-json-metadata`. */
export function parseLuksKeySlots(json: string): string[] {
  const metadata = JSON.parse(json) as { keyslots?: Record<string, unknown> };
  return Object.keys(metadata.keyslots ?? {}).sort((a, b) => Number(a) - Number(b));
}

function passphraseLines(...passphrases: string[]): string {
  for (const passphrase of passphrases) {
    if (passphrase.length === 0 || /[\r\n]/.test(passphrase)) throw new DiskError('a LUKS passphrase must be non-empty and on one line');
  }
  return passphrases.map((p) => `${p}\n`).join('');
}

function commandError(action: string, ref: string, result: CommandResult): DiskError {
  return new DiskError(`cryptsetup ${action} ${ref} failed (exit ${result.code}): ${result.stderr.trim().slice(0, 300)}`);
}
