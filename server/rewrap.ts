/**
 * KEK rotation with no outage, in three commands run against the live database:
 *   `kek-add`    writes a new KEK to `<kek>.new`; copy it beside the KEK file of every instance,
 *                which load it within seconds (or on SIGHUP) and can then open keys sealed under it;
 *   `rewrap-kek` waits until every running instance holds the new KEK, makes it the current one
 *                (instances seal new keys with it from then on), re-wraps every key version in small
 *                transactions (safe to stop and run again), then swaps the local files
 *                (`<kek>` becomes the new KEK, the old one `<kek>.old-<id>`); audited at start and end;
 *   `kek-retire` deletes the `<kek>.old-<id>` files no key version needs any more; audited.
 * At every step each instance holds every KEK some row is sealed under, so no reveal or
 * check-in fails.
 */
import { copyFileSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Kysely } from 'kysely';
import { openDatabase, type DbKind } from './db/open.ts';
import type { Database } from './db/schema.ts';
import { addedKekPath, generateKek, kekFromBytes, kekRingFiles, readKekRing, type Kek } from './crypto/kek.ts';
import { readKeyFile } from './crypto/key-file.ts';
import { rewrapRecord } from './crypto/envelope.ts';
import { auditKeyFromBytes, type AuditKey } from './crypto/audit-key.ts';
import { appendAudit } from './audit.ts';
import { rewrapSsoSecret, ssoSecretNeedsKek } from './auth/oidc-settings.ts';
import { systemClock, type Clock } from './deps.ts';

/** A step cannot be taken now; the message says why and what to do. */
export class KekRotationRefused extends Error {}

export type KekCommandOptions = {
  kekFile: string;
  auditKeyFile: string;
  dataDir: string;
  databaseUrl?: string;
  pgSchema?: string;
  clock?: Clock;
  /** Key versions re-wrapped per transaction (small, so reveals never wait long on a lock). */
  batchSize?: number;
  /** How long `rewrap-kek` waits for every running instance to hold the new KEK. */
  waitForInstancesMs?: number;
  /** Instances not seen for this long are taken to be stopped. */
  instanceStaleMs?: number;
  say?: (line: string) => void;
};

export function kekAddSteps(kekFile: string): string[] {
  const added = addedKekPath(kekFile);
  return [
    `1. Copy ${added} beside the KEK file of every other instance (same name, mode 0600). Running instances load it within seconds (or send them SIGHUP); no restart.`,
    `2. Run: keyward rewrap-kek --kek-file ${kekFile} (with the same --database). It waits until every running instance holds the new KEK, then re-wraps every key; safe to stop and run again.`,
    `3. On every other instance, move ${basename(added)} over ${basename(kekFile)} (their old KEK is then no longer needed), back up the new KEK, and run keyward kek-retire --kek-file ${kekFile} to delete the old one.`,
  ];
}

/** Step 1: a new KEK in `<kek>.new` (kept if one is already there, so the step can be repeated). */
export function addKek(kekFile: string): { kek: Kek; path: string; created: boolean } {
  if (!existsSync(kekFile)) throw new KekRotationRefused(`no KEK file at ${kekFile}: name the one your instances use (--kek-file, or --data for <data>/kek.key)`);
  const path = addedKekPath(kekFile);
  if (existsSync(path)) return { kek: kekFromBytes(readKeyFile(path)), path, created: false };
  const kek = generateKek();
  writeFileSync(path, kek.key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return { kek, path, created: true };
}

type Opened = { db: Kysely<Database>; kind: DbKind; close(): Promise<void> };

async function openExisting(o: KekCommandOptions): Promise<Opened> {
  return openDatabase({ dataDir: o.dataDir, databaseUrl: o.databaseUrl, pgSchema: o.pgSchema, existingOnly: true });
}

function loadAuditKey(path: string): AuditKey {
  if (!existsSync(path)) throw new KekRotationRefused(`no audit key at ${path}: the rotation is audited, so name the service's audit key (--audit-key-file, or --data for <data>/audit.key)`);
  return auditKeyFromBytes(readKeyFile(path));
}

/** Running instances (seen lately) that do not hold `kekId` yet. */
async function instancesWithout(db: Kysely<Database>, kekId: string, now: Date, staleMs: number): Promise<string[]> {
  const since = new Date(now.getTime() - staleMs).toISOString();
  const rows = await db.selectFrom('kek_instances').selectAll().where('seen_at', '>=', since).execute();
  return rows.filter((r) => !(JSON.parse(r.kek_ids) as string[]).includes(kekId)).map((r) => r.instance);
}

export type RewrapResult = { count: number; from: string[]; to: string };

/** Step 2. Resumable: whatever it did before it stopped is kept, and it carries on from there. */
export async function rewrapAllKeys(o: KekCommandOptions): Promise<RewrapResult> {
  const say = o.say ?? (() => undefined);
  const clock = o.clock ?? systemClock;
  const ring = readKekRing(o.kekFile);
  const addedPath = addedKekPath(o.kekFile);
  // After the local file swap of an interrupted run, the KEK file itself is the target.
  const next = existsSync(addedPath) ? kekFromBytes(readKeyFile(addedPath)) : ring.current;
  const keks = [ring.current, ...ring.previous];
  const find = (id: string) => keks.find((k) => k.id === id);
  const auditKey = loadAuditKey(o.auditKeyFile);
  const opened = await openExisting(o);
  const deps = { dbKind: opened.kind, auditKey };
  try {
    const current = await opened.db.selectFrom('kek_ring').select('kek_id').where('state', '=', 'current').executeTakeFirst();
    const remaining = await opened.db.selectFrom('key_versions').select('kek_id').where('kek_id', '!=', next.id).where('wrapped_key', '!=', '').limit(1).executeTakeFirst();
    const ssoRemaining = await opened.db.selectFrom('sso_config').select('id').where('secret_kek_id', '!=', next.id).where('secret_wrapped_key', '!=', '').executeTakeFirst();
    if (next.id === ring.current.id && current?.kek_id === next.id && !remaining && !ssoRemaining) {
      throw new KekRotationRefused(`every key is already sealed under the current KEK ${next.id}; to rotate, run keyward kek-add --kek-file ${o.kekFile} first`);
    }
    // Nobody may be handed a row they cannot open: wait for every running instance to hold the new KEK.
    const deadline = Date.now() + (o.waitForInstancesMs ?? 30_000);
    for (;;) {
      const lacking = await instancesWithout(opened.db, next.id, clock.now(), o.instanceStaleMs ?? 60_000);
      if (lacking.length === 0) break;
      if (Date.now() >= deadline) {
        throw new KekRotationRefused(`instance${lacking.length > 1 ? 's' : ''} ${lacking.join(', ')} do${lacking.length > 1 ? '' : 'es'} not hold the new KEK ${next.id} yet: copy ${addedPath} beside their KEK file (they load it within seconds, or on SIGHUP) and run rewrap-kek again; nothing was changed`);
      }
      say(`keyward: waiting for ${lacking.join(', ')} to load the new KEK ${next.id}…`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const from = [...new Set(keks.map((k) => k.id).filter((id) => id !== next.id))];
    await opened.db.transaction().execute(async (trx) => {
      const at = clock.now().toISOString();
      await trx.updateTable('kek_ring').set({ state: 'previous', updated_at: at }).where('state', '=', 'current').where('kek_id', '!=', next.id).execute();
      await trx.insertInto('kek_ring').values({ kek_id: next.id, state: 'current', updated_at: at }).onConflict((oc) => oc.column('kek_id').doUpdateSet({ state: 'current', updated_at: at })).execute();
      await appendAudit(trx, deps, at, { actorId: null, actorKind: 'system', action: 'kek.rewrap_started', detail: { to: next.id, from } });
    });
    let count = 0;
    for (;;) {
      const done = await opened.db.transaction().execute(async (trx) => {
        const rows = await trx
          .selectFrom('key_versions')
          .innerJoin('devices', 'devices.id', 'key_versions.device_id')
          .select(['key_versions.id', 'key_versions.device_id', 'key_versions.version', 'key_versions.ciphertext', 'key_versions.wrapped_key', 'key_versions.kek_id', 'devices.key_kind'])
          .where('key_versions.kek_id', '!=', next.id)
          .where('key_versions.wrapped_key', '!=', '')
          .limit(o.batchSize ?? 100)
          .execute();
        for (const r of rows) {
          const sealed = rewrapRecord(find, next, { recordId: r.id, deviceId: r.device_id, kind: r.key_kind, version: r.version }, {
            ciphertext: r.ciphertext, wrappedKey: r.wrapped_key, kekId: r.kek_id,
          });
          // Only if nobody changed the row meanwhile (a retention purge empties wrapped_key).
          await trx.updateTable('key_versions').set({ wrapped_key: sealed.wrappedKey, kek_id: sealed.kekId }).where('id', '=', r.id).where('kek_id', '=', r.kek_id).where('wrapped_key', '=', r.wrapped_key).execute();
        }
        return rows.length;
      });
      count += done;
      if (done === 0) break;
      say(`keyward: re-wrapped ${count} key versions…`);
    }
    // The single sign-on client secret is sealed with the KEK too.
    const ssoSecret = await rewrapSsoSecret(opened.db, find, next);
    await opened.db.transaction().execute(async (trx) => {
      await appendAudit(trx, deps, clock.now().toISOString(), { actorId: null, actorKind: 'system', action: 'kek.rewrapped', detail: { to: next.id, count, ssoSecret } });
    });
    if (next.id !== ring.current.id) {
      // Copy, then replace in one rename: a running instance never sees the ring without its KEK file.
      copyFileSync(o.kekFile, `${o.kekFile}.old-${ring.current.id}`);
      renameSync(addedPath, o.kekFile);
    }
    return { count, from, to: next.id };
  } finally {
    await opened.close();
  }
}

export type RetireResult = { retired: string[]; kept: { id: string; rows: number }[] };

/** Step 3: deletes each `<kek>.old-<id>` that no key version and no ring state needs. */
export async function retireOldKeks(o: KekCommandOptions): Promise<RetireResult> {
  const clock = o.clock ?? systemClock;
  const auditKey = loadAuditKey(o.auditKeyFile);
  const ring = readKekRing(o.kekFile);
  const opened = await openExisting(o);
  const result: RetireResult = { retired: [], kept: [] };
  try {
    for (const file of kekRingFiles(o.kekFile).filter((f) => f.startsWith(`${o.kekFile}.old-`))) {
      const kek = kekFromBytes(readKeyFile(file));
      if (kek.id === ring.current.id) continue;
      const used = await opened.db.selectFrom('key_versions').select((eb) => eb.fn.countAll<string | number>().as('n')).where('kek_id', '=', kek.id).where('wrapped_key', '!=', '').executeTakeFirstOrThrow();
      const rows = Number(used.n);
      const state = await opened.db.selectFrom('kek_ring').select('state').where('kek_id', '=', kek.id).executeTakeFirst();
      if (rows > 0 || state?.state === 'current' || (await ssoSecretNeedsKek(opened.db, kek.id))) {
        result.kept.push({ id: kek.id, rows });
        continue;
      }
      await opened.db.transaction().execute(async (trx) => {
        const at = clock.now().toISOString();
        await trx.insertInto('kek_ring').values({ kek_id: kek.id, state: 'retired', updated_at: at }).onConflict((oc) => oc.column('kek_id').doUpdateSet({ state: 'retired', updated_at: at })).execute();
        await appendAudit(trx, { dbKind: opened.kind, auditKey }, at, { actorId: null, actorKind: 'system', action: 'kek.retired', detail: { kek: kek.id } });
      });
      rmSync(file);
      result.retired.push(kek.id);
    }
    return result;
  } finally {
    await opened.close();
  }
}
