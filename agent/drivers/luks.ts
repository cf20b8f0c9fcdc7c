/**
 * LUKS driver: real `cryptsetup` (LUKS1 and LUKS2) on block devices or file-backed containers.
 * A volume is identified by its LUKS UUID (the ref the service knows), so a device whose path
 * changes keeps its history; volumes are configured as paths or `UUID=<uuid>` (looked up in
 * udev's `/dev/disk/by-uuid`). Verify = `open --test-passphrase` (optionally `--key-slot`),
 * add = `luksAddKey`, remove = `luksRemoveKey` with the key to remove (our keys are random, so
 * the key names exactly one slot); none of them needs device-mapper. Other key slots, and
 * systemd-cryptenroll tokens (TPM2/FIDO2) bound to them, are never touched. Passphrases go to
 * cryptsetup on standard input, one per line, never on the command line; so a passphrase may
 * not contain a line break. New key slots get cryptsetup's default KDF unless `kdfArgs` says
 * otherwise.
 */
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyKind } from '../../lib/api/contract.ts';
import type { Log } from '../log.ts';
import { silentLog } from '../log.ts';
import { runCommand, type CommandResult, type CommandRunner } from './run-command.ts';
import { DiskError, type AddedKey, type DiskDriver, type DriverVolume, type ExistingKey, type KeyToRemove } from './driver.ts';

/** cryptsetup's exit code when no key slot accepts the passphrase. */
const NO_KEY_AVAILABLE = 2;
export const DEFAULT_CRYPTSETUP = '/usr/sbin/cryptsetup';
export const DEFAULT_UUID_DIR = '/dev/disk/by-uuid';

export type LuksDriverOptions = {
  /** Paths (`/dev/nvme0n1p3`, a container file) or `UUID=<luks uuid>`. */
  volumes: string[];
  cryptsetup?: string;
  /** Where udev's by-uuid links are (tests point it at a directory of their own links). */
  uuidDir?: string;
  /** cryptsetup KDF arguments for the key slots `addKey` makes (default: none, cryptsetup's defaults). */
  kdfArgs?: readonly string[];
  run?: CommandRunner;
  log?: Log;
};

/** What the agent needs from a LUKS header: its version, UUID, key slots (id → fingerprint) and token-bound slots. */
export type LuksHeader = { version: 1 | 2; uuid: string; slots: Map<string, string>; tokenSlots: Set<string> };

export class LuksDriver implements DiskDriver {
  readonly name = 'luks' as const;
  readonly keyKind: KeyKind = 'luks';
  readonly keySource = 'agent' as const;
  private readonly volumes: string[];
  private readonly cryptsetup: string;
  private readonly uuidDir: string;
  private readonly kdfArgs: readonly string[];
  private readonly runner: CommandRunner;
  private readonly log: Log;
  /** LUKS UUID → the path it was last found at. */
  private readonly paths = new Map<string, string>();

  constructor(options: LuksDriverOptions) {
    this.runner = options.run ?? runCommand;
    this.volumes = options.volumes;
    this.cryptsetup = options.cryptsetup ?? DEFAULT_CRYPTSETUP;
    this.uuidDir = options.uuidDir ?? DEFAULT_UUID_DIR;
    this.kdfArgs = options.kdfArgs ?? [];
    this.log = options.log ?? silentLog;
  }

  /**
   * Every configured volume that can be found: a LUKS volume as its UUID (named by its path), a
   * readable non-LUKS one as itself, not encrypted. A missing volume is left out (the service
   * keeps its history); one the agent may not read is an error, never "not encrypted".
   */
  async listVolumes(): Promise<DriverVolume[]> {
    const volumes: DriverVolume[] = [];
    for (const spec of this.volumes) {
      const path = this.resolveSpec(spec);
      if (path === null) {
        this.log(`volume ${spec} not found; skipped`);
        continue;
      }
      const probe = await this.probe(path);
      if (probe === 'not-luks') {
        volumes.push({ ref: path, name: path, encrypted: false, protectorIds: [] });
        continue;
      }
      this.paths.set(probe.uuid, path);
      volumes.push({ ref: probe.uuid, name: path, encrypted: true, protectorIds: [...probe.slots.keys()] });
    }
    return volumes;
  }

  /** The LUKS header of `path`, or `not-luks` for a readable volume that is not LUKS; DiskError otherwise. */
  async probe(path: string): Promise<LuksHeader | 'not-luks'> {
    const text = await this.run(['luksDump', path]);
    if (text.code !== 0) {
      const error = commandError('luksDump', path, text);
      if (error.reason === 'not_encrypted') return 'not-luks';
      throw error;
    }
    const version = /^Version:\s*(\d+)/m.exec(text.stdout)?.[1];
    const uuid = /^UUID:\s*(\S+)/m.exec(text.stdout)?.[1] ?? '';
    if (uuid !== '') this.paths.set(uuid, path);
    if (version === '1') return { version: 1, uuid, ...parseLuks1Slots(text.stdout) };
    const json = await this.run(['luksDump', '--dump-json-metadata', path]);
    if (json.code !== 0) throw commandError('luksDump --dump-json-metadata', path, json);
    return { version: 2, uuid, ...parseLuks2Header(json.stdout) };
  }

  async verifyKey(ref: string, key: string): Promise<boolean> {
    const path = await this.pathOf(ref);
    const ok = await this.opens(path, key);
    this.log(`verify key on ${path}: ${ok ? 'unlocks' : 'does not unlock'}`);
    return ok;
  }

  async addKey(ref: string, authorityKey: string, newKey: string | null): Promise<AddedKey> {
    if (newKey === null) throw new DiskError('the LUKS driver needs the new key from the agent');
    const path = await this.pathOf(ref);
    const before = await this.header(path);
    const result = await this.run(['luksAddKey', '--batch-mode', ...this.kdfArgs, path], passphraseLines(authorityKey, newKey));
    if (result.code === NO_KEY_AVAILABLE) throw new DiskError(`luksAddKey ${path}: the authorizing passphrase does not unlock the volume`, 'escrowed_key_rejected');
    if (result.code !== 0) throw commandError('luksAddKey', path, result);
    const after = await this.header(path);
    const added = [...after.slots.keys()].find((slot) => !before.slots.has(slot)) ?? null;
    this.log(`added key slot ${added ?? '?'} on ${path}`);
    return { protectorId: added, key: newKey };
  }

  async removeKey(ref: string, target: KeyToRemove, remainingKey: string): Promise<void> {
    const path = await this.pathOf(ref);
    if (target.key === remainingKey) throw new DiskError(`${path}: refusing to remove the key that must remain`);
    if (!(await this.opens(path, remainingKey))) throw new DiskError(`${path}: refusing to remove a key, the remaining key does not unlock the volume`, 'escrowed_key_rejected');
    const result = await this.run(['luksRemoveKey', '--batch-mode', path], passphraseLines(target.key));
    if (result.code === NO_KEY_AVAILABLE) {
      this.log(`remove key on ${path}: already gone`);
      return;
    }
    if (result.code !== 0) throw commandError('luksRemoveKey', path, result);
    this.log(`removed a key slot from ${path}`);
  }

  async readExistingKeys(): Promise<ExistingKey[]> {
    return [];
  }

  async findProtector(ref: string, key: string): Promise<string | null> {
    const path = await this.pathOf(ref);
    for (const slot of (await this.header(path)).slots.keys()) {
      if (await this.opens(path, key, slot)) return slot;
    }
    return null;
  }

  async protectorFingerprint(ref: string, protectorId: string): Promise<string | null> {
    return (await this.header(await this.pathOf(ref))).slots.get(protectorId) ?? null;
  }

  /**
   * The path a volume ref (LUKS UUID, or a path for a non-LUKS volume) is at now. Only the
   * configured volumes are ever resolved: a ref from elsewhere (a task) cannot point the agent
   * at another disk.
   */
  async pathOf(ref: string): Promise<string> {
    const known = this.paths.get(ref);
    if (known !== undefined && existsSync(known)) return known;
    await this.listVolumes();
    const found = this.paths.get(ref) ?? (this.volumes.includes(ref) ? ref : undefined);
    if (found === undefined) throw new DiskError(`volume ${ref} is not among the volumes this agent manages, or is not on this device now`, 'volume_missing');
    return found;
  }

  private async header(path: string): Promise<LuksHeader> {
    const probe = await this.probe(path);
    if (probe === 'not-luks') throw new DiskError(`Device ${path} is not a valid LUKS device`, 'not_encrypted');
    return probe;
  }

  private async opens(path: string, key: string, slot?: string): Promise<boolean> {
    const args = ['open', '--test-passphrase', '--batch-mode', ...(slot === undefined ? [] : ['--key-slot', slot]), path];
    const result = await this.run(args, passphraseLines(key));
    if (result.code === 0 || result.code === NO_KEY_AVAILABLE) return result.code === 0;
    throw commandError('open --test-passphrase', path, result);
  }

  /** `UUID=<uuid>` → the device its by-uuid link points to (null when absent); a path → itself (null when absent). */
  private resolveSpec(spec: string): string | null {
    const uuid = /^UUID=(.+)$/.exec(spec)?.[1];
    const path = uuid === undefined ? spec : join(this.uuidDir, uuid);
    if (!existsSync(path)) return null;
    return uuid === undefined ? path : realpathSync(path);
  }

  private run(args: string[], stdin = ''): Promise<CommandResult> {
    return this.runner(this.cryptsetup, args, stdin);
  }
}

function fingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

type LuksSlots = { slots: Map<string, string>; tokenSlots: Set<string> };

/** Key slots and token-bound slots from `cryptsetup luksDump --dump-json-metadata` (LUKS2). */
export function parseLuks2Header(json: string): LuksSlots {
  type Keyslot = { type?: string; kdf?: unknown; area?: { offset?: string } };
  const metadata = JSON.parse(json) as { keyslots?: Record<string, Keyslot>; tokens?: Record<string, { keyslots?: string[] }> };
  const ids = Object.keys(metadata.keyslots ?? {}).sort((a, b) => Number(a) - Number(b));
  const slots = new Map(ids.map((id) => {
    const slot = metadata.keyslots?.[id] ?? {};
    return [id, fingerprint([slot.type, slot.kdf, slot.area?.offset])] as const;
  }));
  const tokenSlots = new Set(Object.values(metadata.tokens ?? {}).flatMap((t) => t.keyslots ?? []));
  return { slots, tokenSlots };
}

/** Key slot ids (`"0"`, `"1"`, …) from `cryptsetup luksDump --dump-json-metadata` (LUKS2). */
export function parseLuksKeySlots(json: string): string[] {
  return [...parseLuks2Header(json).slots.keys()];
}

/** Enabled key slots from the text `cryptsetup luksDump` prints for a LUKS1 header (salt and offset fingerprinted). */
export function parseLuks1Slots(text: string): LuksSlots {
  const slots = new Map<string, string>();
  const blocks = text.split(/^Key Slot (\d+): /m);
  for (let i = 1; i + 1 < blocks.length; i += 2) {
    const body = blocks[i + 1];
    if (!body.startsWith('ENABLED')) continue;
    const salt = /Salt:\s*((?:[0-9a-f]{2}\s*)+)/i.exec(body)?.[1].replace(/\s+/g, '') ?? '';
    const offset = /Key material offset:\s*(\d+)/.exec(body)?.[1] ?? '';
    const iterations = /Iterations:\s*(\d+)/.exec(body)?.[1] ?? '';
    slots.set(blocks[i], fingerprint([salt, offset, iterations]));
  }
  return { slots, tokenSlots: new Set() };
}

function passphraseLines(...passphrases: string[]): string {
  for (const passphrase of passphrases) {
    if (passphrase.length === 0 || /[\r\n]/.test(passphrase)) throw new DiskError('a LUKS passphrase must be non-empty and on one line');
  }
  return passphrases.map((p) => `${p}\n`).join('');
}

/** A cryptsetup failure with the cause the console shows, from what cryptsetup printed. */
function commandError(action: string, path: string, result: CommandResult): DiskError {
  const stderr = result.stderr.trim();
  const message = `cryptsetup ${action} ${path} failed (exit ${result.code}): ${stderr.slice(0, 300)}`;
  if (/is not a valid LUKS device|unsupported LUKS version/i.test(stderr)) return new DiskError(message, 'not_encrypted');
  if (/permission denied|operation not permitted/i.test(stderr)) return new DiskError(message, 'permission_denied');
  // cryptsetup says "does not exist or access denied" for both; the file system tells which.
  if (/does not exist or access denied/i.test(stderr)) return new DiskError(message, existsSync(path) ? 'permission_denied' : 'volume_missing');
  return new DiskError(message);
}
