/**
 * The KEK key ring of a running instance: the KEK file and the KEKs beside it (`<kek>.new`,
 * `<kek>.old-<id>`). The ring is re-read when its files change (polled), on SIGHUP, and when a
 * row names a KEK the instance does not hold yet, so a KEK added for a rotation is picked up
 * without a restart. The instance records the KEK ids it holds in `kek_instances`, which lets
 * `rewrap-kek` wait until every running instance can open what it is about to write.
 * At start, an instance that lacks a KEK the database still needs refuses to run.
 */
import { defaultInstanceName } from './audit-checkpoints.ts';
import { kekRingSignature, readKekRing } from './crypto/kek.ts';
import type { AppDeps } from './deps.ts';

export type KekRingWatcher = {
  /** Re-reads the ring now (SIGHUP); true when it changed. */
  reload(): boolean;
  stop(): Promise<void>;
};

/** Every KEK id the instance holds, current first. */
export function heldKekIds(deps: Pick<AppDeps, 'kek' | 'previousKeks'>): string[] {
  return [deps.kek.id, ...(deps.previousKeks ?? []).map((k) => k.id)];
}

/** Why this instance cannot serve the database's keys, or null when it holds every KEK they need. */
export async function missingKekProblem(deps: AppDeps, kekPath: string): Promise<string | null> {
  const held = heldKekIds(deps);
  const current = await deps.db.selectFrom('kek_ring').select('kek_id').where('state', '=', 'current').executeTakeFirst();
  if (current && !held.includes(current.kek_id)) {
    return `this instance does not hold KEK ${current.kek_id}, which the database now seals keys with (${kekPath} holds ${deps.kek.id}); copy the current KEK file from the instance where rewrap-kek ran, then start again`;
  }
  const stranded = await deps.db.selectFrom('key_versions').select('kek_id').where('kek_id', 'not in', held).where('wrapped_key', '!=', '').limit(1).executeTakeFirst();
  if (stranded) {
    return `escrowed keys are sealed under KEK ${stranded.kek_id}, which ${kekPath} and the files beside it do not hold; copy that KEK file (kek.key, kek.key.new or kek.key.old-${stranded.kek_id}) from another instance or the key backup, then start again`;
  }
  return null;
}

/** On a database that has never recorded one, this instance's KEK becomes the current one. */
export async function recordCurrentKek(deps: AppDeps, at: string): Promise<void> {
  const any = await deps.db.selectFrom('kek_ring').select('kek_id').where('state', '=', 'current').executeTakeFirst();
  if (any) return;
  await deps.db.insertInto('kek_ring').values({ kek_id: deps.kek.id, state: 'current', updated_at: at }).onConflict((oc) => oc.column('kek_id').doNothing()).execute();
}

export async function startKekRingWatcher(deps: AppDeps, o: { kekPath: string; instance?: string; intervalMs?: number; heartbeatMs?: number; alert: (line: string) => void }): Promise<KekRingWatcher> {
  const instance = o.instance ?? defaultInstanceName();
  let signature = kekRingSignature(o.kekPath);
  let lastFailure = '';
  let lastBeat = 0;

  const heartbeat = async () => {
    lastBeat = Date.now();
    const row = { instance, kek_ids: JSON.stringify(heldKekIds(deps)), seen_at: deps.clock.now().toISOString() };
    await deps.db.insertInto('kek_instances').values(row).onConflict((oc) => oc.column('instance').doUpdateSet({ kek_ids: row.kek_ids, seen_at: row.seen_at })).execute();
  };
  const beat = () => void heartbeat().catch((error: unknown) => o.alert(`keyward: recording this instance's KEKs failed: ${error instanceof Error ? error.message : String(error)}`));

  const reload = (): boolean => {
    const before = heldKekIds(deps).join(',');
    try {
      signature = kekRingSignature(o.kekPath);
      const ring = readKekRing(o.kekPath);
      deps.kek = ring.current;
      deps.previousKeks = ring.previous;
      lastFailure = '';
    } catch (error) {
      // A half-copied file: keep serving with the ring we have, say so once.
      const line = `keyward: the KEK ring at ${o.kekPath} could not be read (${error instanceof Error ? error.message : String(error)}); still using the KEKs loaded before`;
      if (line !== lastFailure) o.alert(line);
      lastFailure = line;
      return false;
    }
    const changed = heldKekIds(deps).join(',') !== before;
    if (changed) beat();
    return changed;
  };
  deps.reloadKeks = () => void reload();

  await heartbeat();
  const timer = setInterval(() => {
    if (kekRingSignature(o.kekPath) !== signature) reload();
    if (Date.now() - lastBeat >= (o.heartbeatMs ?? 10_000)) beat();
  }, o.intervalMs ?? 2_000);
  timer.unref();

  return {
    reload,
    stop: async () => {
      clearInterval(timer);
      await deps.db.deleteFrom('kek_instances').where('instance', '=', instance).execute().catch(() => undefined);
    },
  };
}
