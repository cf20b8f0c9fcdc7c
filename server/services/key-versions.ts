/**
 * Key versions at rest: inserting a new version (sealed with the envelope scheme, numbered
 * per volume under a row lock) and opening one. Plaintext keys exist only in memory. Which
 * state a version is created in and where it goes from there: key-lifecycle.ts.
 */
import { newId } from '../db/ids.ts';
import type { KeyVersionTable, Trx } from '../db/schema.ts';
import type { KeyVersionSource, NewKeyVersionState } from '../db/states.ts';
import type { AppDeps } from '../deps.ts';
import { findKek } from '../deps.ts';
import { openSecret, sealSecret } from '../crypto/envelope.ts';
import type { Kek } from '../crypto/kek.ts';

export type { Trx };

/** What a destroyed version's ciphertext and wrapped data key hold (retention.ts). */
export const DESTROYED = '';

export type NewKeyVersion = {
  deviceId: string;
  volumeId: string;
  kind: string;
  state: NewKeyVersionState;
  source: KeyVersionSource;
  protectorId: string | null;
  secret: string;
  at: string;
};

/** Serializes writers of one volume (PostgreSQL row lock; SQLite transactions are serial). */
export async function lockVolume(trx: Trx, deps: Pick<AppDeps, 'dbKind'>, volumeId: string): Promise<void> {
  let q = trx.selectFrom('volumes').select('id').where('id', '=', volumeId);
  if (deps.dbKind === 'postgres') q = q.forUpdate();
  await q.executeTakeFirst();
}

export async function insertKeyVersion(trx: Trx, deps: Pick<AppDeps, 'kek' | 'previousKeks' | 'reloadKeks' | 'dbKind'>, v: NewKeyVersion): Promise<{ id: string; version: number }> {
  const last = await trx
    .selectFrom('key_versions')
    .select('version')
    .where('volume_id', '=', v.volumeId)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  const id = newId();
  const version = (last?.version ?? 0) + 1;
  const sealed = sealSecret(await sealingKek(trx, deps), { recordId: id, deviceId: v.deviceId, kind: v.kind, version }, v.secret);
  await trx
    .insertInto('key_versions')
    .values({
      id,
      device_id: v.deviceId,
      volume_id: v.volumeId,
      version,
      state: v.state,
      source: v.source,
      protector_id: v.protectorId,
      ciphertext: sealed.ciphertext,
      wrapped_key: sealed.wrappedKey,
      kek_id: sealed.kekId,
      exposed: 0,
      created_at: v.at,
      updated_at: v.at,
    })
    .execute();
  return { id, version };
}

/**
 * The KEK new keys are sealed with: the one the database names current (a rotation switches it
 * for every instance at once), when this instance holds it; otherwise this instance's own.
 */
async function sealingKek(trx: Trx, deps: Pick<AppDeps, 'kek' | 'previousKeks' | 'reloadKeks' | 'dbKind'>): Promise<Kek> {
  let q = trx.selectFrom('kek_ring').select('kek_id').where('state', '=', 'current');
  // Shared lock: a re-wrap switching the current KEK waits for this row to commit, so it is sure to see it.
  if (deps.dbKind === 'postgres') q = q.forShare();
  const row = await q.executeTakeFirst();
  return (row && findKek(deps)(row.kek_id)) || deps.kek;
}

export function openKeyVersion(deps: Pick<AppDeps, 'kek' | 'previousKeks' | 'reloadKeks'>, row: KeyVersionTable, kind: string): string {
  return openSecret(
    findKek(deps),
    { recordId: row.id, deviceId: row.device_id, kind, version: row.version },
    { ciphertext: row.ciphertext, wrappedKey: row.wrapped_key, kekId: row.kek_id },
  );
}

/** The newest active version of a volume (optionally of one BitLocker protector). */
export async function newestActiveVersion(trx: Trx, volumeId: string, protectorId?: string): Promise<KeyVersionTable | undefined> {
  let q = trx.selectFrom('key_versions').selectAll().where('volume_id', '=', volumeId).where('state', '=', 'active');
  if (protectorId) q = q.where('protector_id', '=', protectorId);
  return q.orderBy('version', 'desc').limit(1).executeTakeFirst();
}

/** The device's view changed: marked for the device index and delta sync (device-index.ts). */
export async function touchDevice(trx: Trx, deviceId: string, at: string): Promise<void> {
  await trx.updateTable('devices').set({ updated_at: at, change_seq: null }).where('id', '=', deviceId).execute();
}
