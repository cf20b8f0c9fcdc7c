/**
 * What the agent checks on a Linux device before it changes anything or spends an enrollment
 * token: it runs as root, every named volume exists and can be read, which of them are LUKS
 * (others, such as the plain members of an LVM set, are skipped and said so), and that a
 * passphrase the person types opens each LUKS volume. Failures are `PrecheckError`s with a
 * sentence a person can act on.
 */
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { DiskError } from './drivers/driver.ts';
import { DEFAULT_UUID_DIR, type LuksDriver } from './drivers/luks.ts';
import type { PassphraseSource } from './passphrase-prompt.ts';

export class PrecheckError extends Error {
  override name = 'PrecheckError';
}

export type LuksVolumeFound = { spec: string; path: string; uuid: string; version: 1 | 2 };
export type VolumeSkipped = { spec: string; path: string; why: string };

export function requireRoot(what: string, why = 'it reads and changes LUKS headers with cryptsetup'): void {
  if (process.getuid && process.getuid() !== 0) throw new PrecheckError(`${what} must run as root: ${why}. Run it with sudo.`);
}

/** Sorts the named volumes into LUKS volumes and skipped ones; throws when a name is wrong or none is LUKS. */
export async function findLuksVolumes(driver: LuksDriver, specs: string[], uuidDir = DEFAULT_UUID_DIR): Promise<{ luks: LuksVolumeFound[]; skipped: VolumeSkipped[] }> {
  const luks: LuksVolumeFound[] = [];
  const skipped: VolumeSkipped[] = [];
  for (const spec of specs) {
    const uuid = /^UUID=(.+)$/.exec(spec)?.[1];
    const path = uuid === undefined ? spec : join(uuidDir, uuid);
    if (!existsSync(path)) throw new PrecheckError(`volume ${spec} does not exist${uuid === undefined ? '' : ` (no ${path})`}`);
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch {
      throw new PrecheckError(`cannot open ${spec} for reading and writing (permission denied); run as root`);
    }
    const real = realpathSync(path);
    let probe: Awaited<ReturnType<LuksDriver['probe']>>;
    try {
      probe = await driver.probe(real);
    } catch (error) {
      if (!(error instanceof DiskError)) throw error;
      throw new PrecheckError(`cannot read the LUKS header of ${spec}: ${error.message}`);
    }
    if (probe === 'not-luks') skipped.push({ spec, path: real, why: 'not a LUKS volume' });
    else if (luks.some((v) => v.uuid === probe.uuid)) skipped.push({ spec, path: real, why: 'the same LUKS volume is named twice' });
    else luks.push({ spec, path: real, uuid: probe.uuid, version: probe.version });
  }
  if (luks.length === 0) {
    throw new PrecheckError(`none of the volumes is a LUKS volume (${skipped.map((s) => `${s.spec}: ${s.why}`).join('; ')}); name the encrypted volume(s) with --volume`);
  }
  return { luks, skipped };
}

/**
 * A passphrase that opens each volume: one that opened an earlier volume is tried first (many
 * disks share one), then the person is asked (three tries at a terminal). Nothing is stored.
 */
export async function collectPassphrases(driver: LuksDriver, volumes: Pick<LuksVolumeFound, 'uuid' | 'path'>[], source: PassphraseSource): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const volume of volumes) {
    let match: string | null = null;
    for (const known of new Set(found.values())) {
      if (await driver.verifyKey(volume.uuid, known)) {
        match = known;
        break;
      }
    }
    for (let attempt = 0; match === null && attempt < (source.interactive ? 3 : 1); attempt++) {
      const typed = await source.next(`Passphrase that opens ${volume.path} now (it stays on the disk and is not sent anywhere): `);
      if (typed === null) throw new PrecheckError(`no passphrase for ${volume.path} on standard input (one line per volume, or one for all)`);
      if (await driver.verifyKey(volume.uuid, typed)) match = typed;
      else if (source.interactive) process.stderr.write(`That passphrase does not open ${volume.path}.\n`);
    }
    if (match === null) throw new PrecheckError(`the passphrase given does not open ${volume.path}; nothing was changed`);
    found.set(volume.uuid, match);
  }
  return found;
}
