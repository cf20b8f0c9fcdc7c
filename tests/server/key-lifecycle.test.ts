/**
 * The key-version and operation state machine (services/key-lifecycle.ts), on both databases:
 * every transition function tried from every state moves exactly the rows in a state it starts
 * from, to its target, and nothing else; every move it makes is in the published transition
 * table, and every entry of the table is made by some function. Activation retires what the
 * new key replaces and keeps another BitLocker protector's key. On PostgreSQL, transactions
 * claiming the same operation at once: exactly one wins, and a claim racing a supersede lets
 * only one of them happen.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationTable } from '../../server/db/schema.ts';
import type { KeyVersionState, OperationKind, OperationState } from '../../server/db/states.ts';
import {
  activateVersion, claimOperation, destroyKeyVersion, failOperation, failOperationsOfRetiredDevice, handOutAgain, KEY_VERSION_TRANSITIONS, OPERATION_TRANSITIONS,
  rejectCandidate, rejectUnconfirmed, rejectUnconfirmedOfDevice, retireActive, retireProtectorsGone, succeedOperation, succeedUploads, supersedeOperation,
} from '../../server/services/key-lifecycle.ts';
import type { Trx } from '../../server/services/key-versions.ts';
import { createHarness, type Harness } from './harness.ts';

const KEY_VERSION_STATES: readonly KeyVersionState[] = ['candidate', 'pending', 'active', 'retired', 'rejected'];
const OPERATION_STATES: readonly OperationState[] = ['queued', 'in_progress', 'succeeded', 'failed'];

type Place = { deviceId: string; volumeId: string };
type VersionRow = { id: string; state: KeyVersionState; protectorId: string | null };

/** A transition on one key version, applied the way its service applies it. */
type VersionTransition = { name: string; from: readonly KeyVersionState[]; to: KeyVersionState; protectorId?: string; apply(trx: Trx, place: Place, v: VersionRow, at: string): Promise<unknown> };

const versionTransitions: VersionTransition[] = [
  { name: 'activateVersion', from: ['pending', 'active'], to: 'active', apply: (trx, p, v, at) => activateVersion(trx, { volumeId: p.volumeId, versionId: v.id, protectorId: null, rotatedId: null }, at) },
  { name: 'rejectCandidate', from: ['candidate'], to: 'rejected', apply: (trx, _p, v, at) => rejectCandidate(trx, v.id, at) },
  { name: 'rejectUnconfirmed', from: ['candidate', 'pending'], to: 'rejected', apply: (trx, _p, v, at) => rejectUnconfirmed(trx, [v.id], at) },
  { name: 'rejectUnconfirmedOfDevice', from: ['candidate', 'pending'], to: 'rejected', apply: (trx, p, _v, at) => rejectUnconfirmedOfDevice(trx, p.deviceId, at) },
  { name: 'retireActive', from: ['active'], to: 'retired', apply: (trx, _p, v, at) => retireActive(trx, [v.id], at) },
  { name: 'retireProtectorsGone', from: ['active'], to: 'retired', protectorId: 'GONE', apply: (trx, p, _v, at) => retireProtectorsGone(trx, p.volumeId, ['STILL-THERE'], at) },
  { name: 'destroyKeyVersion', from: ['candidate', 'pending', 'active'], to: 'retired', apply: (trx, _p, v) => destroyKeyVersion(trx, v) },
];

/** A transition on one operation. */
type OperationTransition = { name: string; from: readonly OperationState[]; to: OperationState; kind?: OperationKind; apply(trx: Trx, place: Place, opId: string, at: string): Promise<unknown> };

const operationTransitions: OperationTransition[] = [
  { name: 'claimOperation', from: ['queued'], to: 'in_progress', apply: (trx, _p, id, at) => claimOperation(trx, id, at) },
  { name: 'handOutAgain', from: ['in_progress'], to: 'in_progress', apply: (trx, _p, id, at) => handOutAgain(trx, id, at) },
  { name: 'supersedeOperation', from: ['queued'], to: 'failed', apply: (trx, _p, id, at) => supersedeOperation(trx, id, at) },
  { name: 'succeedOperation', from: ['queued', 'in_progress'], to: 'succeeded', apply: (trx, _p, id, at) => succeedOperation(trx, id, at) },
  { name: 'failOperation', from: ['queued', 'in_progress'], to: 'failed', apply: (trx, _p, id, at) => failOperation(trx, id, 'wrong_key', null, at) },
  { name: 'succeedUploads', from: ['in_progress'], to: 'succeeded', kind: 'upload', apply: (trx, p, _id, at) => succeedUploads(trx, p.volumeId, at) },
  { name: 'failOperationsOfRetiredDevice', from: ['queued', 'in_progress'], to: 'failed', apply: (trx, p, _id, at) => failOperationsOfRetiredDevice(trx, p.deviceId, at) },
];

function pairs<S extends string>(table: Readonly<Record<S, readonly S[]>>): string[] {
  return Object.entries<readonly S[]>(table).flatMap(([from, tos]) => tos.map((to) => `${from}→${to}`)).sort();
}

describe('transition table', () => {
  it('lists exactly the moves the key-version functions make', () => {
    const made = new Set(versionTransitions.flatMap((t) => t.from.map((from) => `${from}→${t.to}`)));
    expect(pairs(KEY_VERSION_TRANSITIONS)).toEqual([...made].sort());
    expect(KEY_VERSION_TRANSITIONS.retired).toEqual([]);
    expect(KEY_VERSION_TRANSITIONS.rejected).toEqual([]);
  });

  it('lists exactly the moves the operation functions make', () => {
    const made = new Set(operationTransitions.flatMap((t) => t.from.map((from) => `${from}→${t.to}`)));
    expect(pairs(OPERATION_TRANSITIONS)).toEqual([...made].sort());
    expect(OPERATION_TRANSITIONS.succeeded).toEqual([]);
    expect(OPERATION_TRANSITIONS.failed).toEqual([]);
  });
});

const at = '2026-11-30T12:00:00.000Z';
const later = '2026-11-30T12:05:00.000Z';

/** A device of its own with one volume, so one case's rows never meet another's. */
async function freshPlace(h: Harness): Promise<Place> {
  const orgId = (await h.deps.db.selectFrom('org').select('id').executeTakeFirstOrThrow()).id;
  const deviceId = randomUUID();
  const volumeId = randomUUID();
  await h.deps.db.insertInto('devices').values({
    id: deviceId, org_id: orgId, owner_id: h.people.owner.id, name: 'Lifecycle Mac', ownership: 'corporate', platform: 'macos', key_kind: 'bitlocker', escrow_enabled: 1,
    last_checkin_at: at, checkin_requested_at: null, agent_credential_hash: `lifecycle-${deviceId}`, enrolled_at: at, updated_at: at, retired_at: null, credential_issued_at: at, next_credential_hash: null,
  }).execute();
  await h.deps.db.insertInto('volumes').values({ id: volumeId, device_id: deviceId, ref: 'C:', name: 'OS', encrypted: 1, created_at: at, escrow_problem: null, escrow_checked_at: null, key_verified_at: null }).execute();
  return { deviceId, volumeId };
}

async function addVersion(h: Harness, place: Place, state: KeyVersionState, protectorId: string | null): Promise<VersionRow> {
  const id = randomUUID();
  const last = await h.deps.db.selectFrom('key_versions').select('version').where('volume_id', '=', place.volumeId).orderBy('version', 'desc').limit(1).executeTakeFirst();
  await h.deps.db.insertInto('key_versions').values({
    id, device_id: place.deviceId, volume_id: place.volumeId, version: (last?.version ?? 0) + 1, state, source: 'agent', protector_id: protectorId,
    ciphertext: 'sealed', wrapped_key: 'wrapped', kek_id: 'kek', exposed: 0, created_at: at, updated_at: at,
  }).execute();
  return { id, state, protectorId };
}

async function addOperation(h: Harness, place: Place, state: OperationState, opKind: OperationKind = 'rotate'): Promise<string> {
  const id = randomUUID();
  await h.deps.db.insertInto('operations').values({
    id, device_id: place.deviceId, volume_id: place.volumeId, kind: opKind, state, failure_cause: null, candidate_version_id: null, pending_version_id: null,
    requested_by: h.people.admin.id, detail: null, claimed_at: state === 'in_progress' ? at : null, created_at: at, updated_at: at,
  }).execute();
  return id;
}

async function versionState(h: Harness, id: string): Promise<{ state: KeyVersionState; updated_at: string }> {
  return h.deps.db.selectFrom('key_versions').select(['state', 'updated_at']).where('id', '=', id).executeTakeFirstOrThrow();
}

async function operation(h: Harness, id: string): Promise<OperationTable> {
  return h.deps.db.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

describe.each(['sqlite', 'postgres'] as const)('key lifecycle (%s)', (kind) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  for (const t of versionTransitions) {
    it(`${t.name}: moves a key version from ${t.from.join(' or ')} to ${t.to}, and from no other state`, async () => {
      for (const from of KEY_VERSION_STATES) {
        const place = await freshPlace(h);
        const row = await addVersion(h, place, from, t.protectorId ?? null);
        await h.deps.db.transaction().execute((trx) => t.apply(trx, place, row, later));
        const after = await versionState(h, row.id);
        const expected = t.from.includes(from) ? t.to : from;
        expect([from, after.state]).toEqual([from, expected]);
        if (after.state !== from) expect(KEY_VERSION_TRANSITIONS[from]).toContain(after.state);
      }
    });
  }

  for (const t of operationTransitions) {
    it(`${t.name}: moves an operation from ${t.from.join(' or ')} to ${t.to}, and from no other state`, async () => {
      for (const from of OPERATION_STATES) {
        const place = await freshPlace(h);
        const id = await addOperation(h, place, from, t.kind);
        await h.deps.db.transaction().execute((trx) => t.apply(trx, place, id, later));
        const after = await operation(h, id);
        const moves = t.from.includes(from);
        expect([from, after.state]).toEqual([from, moves ? t.to : from]);
        expect([from, after.updated_at]).toEqual([from, moves ? later : at]);
        if (moves) expect(OPERATION_TRANSITIONS[from]).toContain(after.state);
      }
    });
  }

  it('each function says whether its row moved', async () => {
    const place = await freshPlace(h);
    const op = await addOperation(h, place, 'queued');
    const results = await h.deps.db.transaction().execute(async (trx) => [
      await claimOperation(trx, op, later), await claimOperation(trx, op, later), await supersedeOperation(trx, op, later), await succeedOperation(trx, op, later), await failOperation(trx, op, 'device_error', 'x', later),
    ]);
    expect(results).toEqual([true, false, false, true, false]);
    const candidate = await addVersion(h, place, 'candidate', null);
    const pending = await addVersion(h, place, 'pending', null);
    const moved = await h.deps.db.transaction().execute(async (trx) => [
      await rejectUnconfirmed(trx, [candidate.id, pending.id], later), await rejectUnconfirmed(trx, [candidate.id, pending.id], later), await rejectCandidate(trx, candidate.id, later),
    ]);
    expect(moved).toEqual([2, 0, false]);
  });

  it('a failed operation keeps its cause and the device’s detail; a superseded one says so', async () => {
    const place = await freshPlace(h);
    const failed = await addOperation(h, place, 'in_progress');
    const superseded = await addOperation(h, place, 'queued');
    await h.deps.db.transaction().execute(async (trx) => {
      await failOperation(trx, failed, 'permission_denied', 'manage-bde: access denied', later);
      await supersedeOperation(trx, superseded, later);
    });
    expect(await operation(h, failed)).toMatchObject({ state: 'failed', failure_cause: 'permission_denied', detail: 'manage-bde: access denied' });
    expect(await operation(h, superseded)).toMatchObject({ state: 'failed', failure_cause: null, detail: 'superseded' });
  });

  it('activation retires the unconfirmed keys and the key it replaces, and keeps another protector’s key', async () => {
    const place = await freshPlace(h);
    const otherProtector = await addVersion(h, place, 'active', 'P-OTHER');
    const sameProtector = await addVersion(h, place, 'active', 'P-NEW');
    const noProtector = await addVersion(h, place, 'active', null);
    const candidate = await addVersion(h, place, 'candidate', null);
    const rejected = await addVersion(h, place, 'rejected', null);
    const pending = await addVersion(h, place, 'pending', null);
    const activated = await h.deps.db.transaction().execute((trx) => activateVersion(trx, { volumeId: place.volumeId, versionId: pending.id, protectorId: 'P-NEW', rotatedId: null }, later));
    expect(activated).toBe(true);
    const states = await Promise.all([otherProtector, sameProtector, noProtector, candidate, rejected, pending].map(async (v) => (await versionState(h, v.id)).state));
    expect(states).toEqual(['active', 'retired', 'retired', 'retired', 'rejected', 'active']);
    const row = await h.deps.db.selectFrom('key_versions').select('protector_id').where('id', '=', pending.id).executeTakeFirstOrThrow();
    expect(row.protector_id).toBe('P-NEW');
  });

  it('activation retires the active key a rotation carried, even of another protector', async () => {
    const place = await freshPlace(h);
    const rotated = await addVersion(h, place, 'active', 'P-OLD');
    const kept = await addVersion(h, place, 'active', 'P-KEPT');
    const pending = await addVersion(h, place, 'pending', null);
    await h.deps.db.transaction().execute((trx) => activateVersion(trx, { volumeId: place.volumeId, versionId: pending.id, protectorId: 'P-NEW', rotatedId: rotated.id }, later));
    expect((await versionState(h, rotated.id)).state).toBe('retired');
    expect((await versionState(h, kept.id)).state).toBe('active');
  });

  it('an activation refused changes nothing on the volume', async () => {
    const place = await freshPlace(h);
    const active = await addVersion(h, place, 'active', null);
    const candidate = await addVersion(h, place, 'candidate', null);
    const retired = await addVersion(h, place, 'retired', null);
    const activated = await h.deps.db.transaction().execute((trx) => activateVersion(trx, { volumeId: place.volumeId, versionId: retired.id, protectorId: null, rotatedId: null }, later));
    expect(activated).toBe(false);
    expect([(await versionState(h, active.id)).state, (await versionState(h, candidate.id)).state, (await versionState(h, retired.id)).state]).toEqual(['active', 'candidate', 'retired']);
  });

  it('destroying a key erases its material whatever its state', async () => {
    const place = await freshPlace(h);
    const rows: VersionRow[] = [];
    for (const state of KEY_VERSION_STATES) rows.push(await addVersion(h, place, state, `P-${state}`));
    await h.deps.db.transaction().execute(async (trx) => {
      for (const r of rows) await destroyKeyVersion(trx, r);
    });
    const after = await h.deps.db.selectFrom('key_versions').select(['ciphertext', 'wrapped_key']).where('volume_id', '=', place.volumeId).execute();
    expect(after.every((r) => r.ciphertext === '' && r.wrapped_key === '')).toBe(true);
  });
});

describe('key lifecycle under concurrency (postgres)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness('postgres');
  });
  afterAll(async () => {
    await h?.close();
  });

  /**
   * Runs each move in its own transaction; all of them first read the operation and wait for
   * one another, so the moves really meet. Returns what each move said.
   */
  async function contend(opId: string, moves: ((trx: Trx) => Promise<boolean>)[]): Promise<boolean[]> {
    let arrived = 0;
    let release: () => void = () => {};
    const allThere = new Promise<void>((resolve) => {
      release = resolve;
    });
    return Promise.all(moves.map((move) => h.deps.db.transaction().execute(async (trx) => {
      await trx.selectFrom('operations').select('id').where('id', '=', opId).execute();
      arrived += 1;
      if (arrived === moves.length) release();
      await allThere;
      return move(trx);
    })));
  }

  it('transactions claiming the same operation at once: exactly one wins', async () => {
    for (let round = 0; round < 5; round++) {
      const op = await addOperation(h, await freshPlace(h), 'queued');
      const claims = await contend(op, [1, 2, 3].map(() => (trx: Trx) => claimOperation(trx, op, later)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect((await operation(h, op)).state).toBe('in_progress');
    }
  });

  it('a claim racing a supersede: only one of them happens', async () => {
    for (let round = 0; round < 5; round++) {
      const op = await addOperation(h, await freshPlace(h), 'queued');
      const [claimed, superseded] = await contend(op, [(trx) => claimOperation(trx, op, later), (trx) => supersedeOperation(trx, op, later)]);
      expect(claimed !== superseded).toBe(true);
      expect((await operation(h, op)).state).toBe(claimed ? 'in_progress' : 'failed');
    }
  });
});
