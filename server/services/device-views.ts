/**
 * Builds what people see of a device (the contract's `Device`): per-volume key status, the
 * latest operation and the notice (M3 with its cause, or M4). Statuses are derived from the
 * key versions and operations, never stored, so they cannot drift from them.
 */
import type { Kysely } from 'kysely';
import { DeviceErrorCause, type Device, type DeviceNotice, type EscrowProblem, type FailureCause, type KeyStatus, type Operation, type Volume } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import type { Database, DeviceTable, KeyVersionTable, OperationTable, OrgTable, VolumeTable } from '../db/schema.ts';
import { deviceKeyKind, deviceOwnership, devicePlatform } from '../db/states.ts';

export type Db = Kysely<Database>;

export async function getOrg(db: Db): Promise<OrgTable> {
  return db.selectFrom('org').selectAll().orderBy('created_at').limit(1).executeTakeFirstOrThrow();
}

/** The org row through the instance's cache when it has one; `db` is the executor in hand (a transaction or deps.db). */
export async function orgFor(deps: Pick<AppDeps, 'lookupCache'>, db: Db): Promise<OrgTable> {
  return deps.lookupCache ? deps.lookupCache.orgRow(db, () => getOrg(db)) : getOrg(db);
}

export async function findDevice(db: Db, id: string): Promise<DeviceTable | undefined> {
  return db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The instant before which a last check-in makes a device stale (the organisation's threshold). */
export function staleBefore(org: Pick<OrgTable, 'checkin_threshold_minutes'>, now: Date): string {
  return new Date(now.getTime() - org.checkin_threshold_minutes * 60_000).toISOString();
}

/** True when the device's last check-in is older than the organisation's threshold. */
export function hasNotCheckedIn(device: Pick<DeviceTable, 'last_checkin_at'>, org: OrgTable, now: Date): boolean {
  if (!device.last_checkin_at) return true;
  return Date.parse(device.last_checkin_at) < Date.parse(staleBefore(org, now));
}

export function escrowEnabledFor(device: Pick<DeviceTable, 'escrow_enabled'>, org: OrgTable): boolean {
  return org.escrow_enabled === 1 && device.escrow_enabled === 1;
}

function isOpen(op: OperationTable): boolean {
  return op.state === 'queued' || op.state === 'in_progress';
}

/** The cause shown for an operation: a queued one waiting on a silent device is `not_checked_in`. */
export function effectiveCause(op: OperationTable, stale: boolean): FailureCause | null {
  if (op.failure_cause) return op.failure_cause;
  if (op.state === 'queued' && stale) return 'not_checked_in';
  return null;
}

export function operationView(op: OperationTable, stale: boolean): Operation {
  return {
    id: op.id,
    deviceId: op.device_id,
    volumeId: op.volume_id,
    kind: op.kind,
    state: op.state,
    failureCause: effectiveCause(op, stale),
    // Only what a device reported (not, e.g., a request superseded by a newer one).
    detail: op.state === 'failed' && DeviceErrorCause.safeParse(op.failure_cause).success ? op.detail : null,
    createdAt: op.created_at,
    updatedAt: op.updated_at,
  };
}

/**
 * A refusal because escrow was off stops counting once IT turns escrow on: the person is not
 * left with "Needs attention" and "ask IT" for something IT has already fixed.
 */
function isOutdatedFailure(op: OperationTable, escrowOn: boolean): boolean {
  return op.state === 'failed' && op.failure_cause === 'escrow_disabled' && escrowOn;
}

function noticeFor(op: OperationTable | undefined, stale: boolean, device: DeviceTable, escrowOn: boolean): DeviceNotice | null {
  if (!op || isOutdatedFailure(op, escrowOn)) return null;
  const cause = effectiveCause(op, stale);
  if (op.state === 'failed') return { message: 'M3', cause: cause ?? 'device_error', at: op.updated_at };
  if (op.state === 'queued' && cause === 'not_checked_in') return { message: 'M3', cause, at: op.updated_at };
  if (op.state === 'succeeded' && op.kind !== 'upload') {
    const origin = op.kind === 'verify-and-rotate' ? 'stored' : op.requested_by === device.owner_id ? 'owner_rotation' : 'it_rotation';
    return { message: 'M4', cause: null, at: op.updated_at, origin };
  }
  return null;
}

const STATUS_RANK: Record<KeyStatus, number> = { broken: 4, failed: 3, missing: 2, pending: 1, escrowed: 0 };

function volumeStatus(latest: OperationTable | undefined, stale: boolean, hasActive: boolean, escrowProblem: EscrowProblem | null, escrowOn: boolean): KeyStatus {
  if (latest && isOpen(latest)) return effectiveCause(latest, stale) ? 'failed' : 'pending';
  // The device says the escrowed key no longer opens the volume: "escrowed" would be a false comfort.
  if (hasActive && escrowProblem !== null) return 'broken';
  if (latest && latest.state === 'failed' && !isOutdatedFailure(latest, escrowOn)) return 'failed';
  return hasActive ? 'escrowed' : 'missing';
}

/** What a device's view is built from, loaded for many devices at once. */
type ViewData = {
  owners: Map<string, { name: string; deleted_at: string | null }>;
  volumes: Map<string, VolumeTable[]>;
  active: Map<string, Pick<KeyVersionTable, 'volume_id' | 'version' | 'protector_id'>[]>;
  /** Each volume's newest operation, by volume id. */
  latestOps: Map<string, OperationTable>;
};

function group<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const row of rows) {
    const list = map.get(key(row));
    if (list) list.push(row);
    else map.set(key(row), [row]);
  }
  return map;
}

/** Newest first, as device pages order operations (ties: the smaller id first). */
function newer(a: OperationTable, b: OperationTable): boolean {
  return a.created_at > b.created_at || (a.created_at === b.created_at && a.id < b.id);
}

/** Four queries for any number of devices (no query per device). */
async function loadViewData(db: Db, devices: readonly DeviceTable[]): Promise<ViewData> {
  if (devices.length === 0) return { owners: new Map(), volumes: new Map(), active: new Map(), latestOps: new Map() };
  const deviceIds = devices.map((d) => d.id);
  const ownerIds = [...new Set(devices.map((d) => d.owner_id))];
  const [owners, volumes, versions, ops] = await Promise.all([
    db.selectFrom('users').select(['id', 'name', 'deleted_at']).where('id', 'in', ownerIds).execute(),
    db.selectFrom('volumes').selectAll().where('device_id', 'in', deviceIds).orderBy('name').orderBy('id').execute(),
    db
      .selectFrom('key_versions')
      .select(['device_id', 'volume_id', 'version', 'protector_id'])
      .where('device_id', 'in', deviceIds)
      .where('state', '=', 'active')
      .orderBy('version')
      .execute(),
    // Each volume's newest operation: none newer exists for the same volume.
    db
      .selectFrom('operations as o')
      .selectAll('o')
      .where('o.device_id', 'in', deviceIds)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('operations as n')
              .select('n.id')
              .whereRef('n.volume_id', '=', 'o.volume_id')
              .where((eb) => eb.or([eb('n.created_at', '>', eb.ref('o.created_at')), eb.and([eb('n.created_at', '=', eb.ref('o.created_at')), eb('n.id', '<', eb.ref('o.id'))])])),
          ),
        ),
      )
      .execute(),
  ]);
  return {
    owners: new Map(owners.map((o) => [o.id, { name: o.name, deleted_at: o.deleted_at }])),
    volumes: group(volumes, (v) => v.device_id),
    active: group(versions, (k) => k.device_id),
    latestOps: new Map(ops.map((o) => [o.volume_id, o])),
  };
}

function assembleView(org: OrgTable, device: DeviceTable, data: ViewData, stale: boolean): Device {
  const volumes = data.volumes.get(device.id) ?? [];
  const owner = data.owners.get(device.owner_id);
  const versions = data.active.get(device.id) ?? [];
  let latest: OperationTable | undefined;
  const escrowOn = escrowEnabledFor(device, org);
  const volumeViews: Volume[] = volumes.map((v) => {
    const active = versions.filter((k) => k.volume_id === v.id);
    const op = data.latestOps.get(v.id);
    if (op && (!latest || newer(op, latest))) latest = op;
    return {
      id: v.id,
      name: v.name,
      keyStatus: v.encrypted === 1 || active.length > 0 ? volumeStatus(op, stale, active.length > 0, v.escrow_problem, escrowOn) : 'missing',
      activeVersion: active.length ? active[active.length - 1].version : null,
      protectorIds: active.map((k) => k.protector_id).filter((p): p is string => p !== null),
      encrypted: v.encrypted === 1,
      escrowProblem: active.length > 0 ? v.escrow_problem : null,
      keyVerifiedAt: v.key_verified_at,
    };
  });
  // A volume the device reports as not encrypted has no key to escrow: it does not make the device "missing".
  const counted = volumeViews.filter((v) => v.encrypted !== false);
  const keyStatus = counted.reduce<KeyStatus>((worst, v) => (STATUS_RANK[v.keyStatus] > STATUS_RANK[worst] ? v.keyStatus : worst), 'escrowed');
  return {
    id: device.id,
    name: device.name,
    platform: devicePlatform(device),
    ownership: deviceOwnership(device),
    keyKind: deviceKeyKind(device),
    // A deleted account keeps its row (for the audit log's names); its devices have no owner.
    ownerId: owner && owner.deleted_at === null ? device.owner_id : null,
    ownerName: owner && owner.deleted_at === null ? owner.name : null,
    escrowEnabled: escrowOn,
    lastCheckinAt: device.last_checkin_at,
    keyStatus: counted.length ? keyStatus : 'missing',
    volumes: volumeViews,
    operation: latest ? operationView(latest, stale) : null,
    notice: noticeFor(latest, stale, device, escrowOn),
    retiredAt: device.retired_at,
    updatedAt: device.updated_at,
  };
}

/** Views of many devices, in the order given, with a fixed number of queries. */
export async function buildDeviceViews(db: Db, org: OrgTable, devices: readonly DeviceTable[], now: Date): Promise<Device[]> {
  const data = await loadViewData(db, devices);
  return devices.map((d) => assembleView(org, d, data, hasNotCheckedIn(d, org, now)));
}

export async function buildDeviceView(db: Db, org: OrgTable, device: DeviceTable, now: Date): Promise<Device> {
  return (await buildDeviceViews(db, org, [device], now))[0];
}

/** What the device index stores for the console's filters: statuses both while checking in and once stale. */
export type IndexedState = { keyStatus: KeyStatus; keyStatusStale: KeyStatus; escrowMissing: boolean; ownerName: string };

export async function indexedStates(db: Db, org: OrgTable, devices: readonly DeviceTable[]): Promise<IndexedState[]> {
  const data = await loadViewData(db, devices);
  return devices.map((d) => {
    const versions = data.active.get(d.id) ?? [];
    const owner = data.owners.get(d.owner_id);
    return {
      keyStatus: assembleView(org, d, data, false).keyStatus,
      keyStatusStale: assembleView(org, d, data, true).keyStatus,
      escrowMissing: (data.volumes.get(d.id) ?? []).some((v) => v.encrypted === 1 && !versions.some((k) => k.volume_id === v.id)),
      // A deleted owner's name is not searched for: the device has no owner now.
      ownerName: owner && owner.deleted_at === null ? owner.name : '',
    };
  });
}

/** Devices of one owner, changed after sync cursor `after` (a change_seq) when given. */
export async function listOwnDeviceViews(db: Db, org: OrgTable, now: Date, ownerId: string, after?: number): Promise<Device[]> {
  let q = db.selectFrom('devices').selectAll().where('owner_id', '=', ownerId).orderBy('name').orderBy('id');
  if (after !== undefined) q = q.where('change_seq', '>', after);
  return buildDeviceViews(db, org, await q.execute(), now);
}
