/**
 * Builds what people see of a device (the contract's `Device`): per-volume key status, the
 * latest operation and the notice (M3 with its cause, or M4). Statuses are derived from the
 * key versions and operations, never stored, so they cannot drift from them.
 */
import type { Kysely } from 'kysely';
import type { Device, DeviceNotice, FailureCause, KeyStatus, Operation, Volume } from '../../lib/api/contract.ts';
import type { Database, DeviceTable, OperationTable, OrgTable } from '../db/schema.ts';

export type Db = Kysely<Database>;

export async function getOrg(db: Db): Promise<OrgTable> {
  return db.selectFrom('org').selectAll().orderBy('created_at').limit(1).executeTakeFirstOrThrow();
}

export async function findDevice(db: Db, id: string): Promise<DeviceTable | undefined> {
  return db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
}

/** True when the device's last check-in is older than the organisation's threshold. */
export function hasNotCheckedIn(device: Pick<DeviceTable, 'last_checkin_at'>, org: OrgTable, now: Date): boolean {
  if (!device.last_checkin_at) return true;
  return now.getTime() - Date.parse(device.last_checkin_at) > org.checkin_threshold_minutes * 60_000;
}

export function escrowEnabledFor(device: Pick<DeviceTable, 'escrow_enabled'>, org: OrgTable): boolean {
  return org.escrow_enabled === 1 && device.escrow_enabled === 1;
}

function isOpen(op: OperationTable): boolean {
  return op.state === 'queued' || op.state === 'in_progress';
}

/** The cause shown for an operation: a queued one waiting on a silent device is `not_checked_in`. */
export function effectiveCause(op: OperationTable, stale: boolean): FailureCause | null {
  if (op.failure_cause) return op.failure_cause as FailureCause;
  if (op.state === 'queued' && stale) return 'not_checked_in';
  return null;
}

export function operationView(op: OperationTable, stale: boolean): Operation {
  return {
    id: op.id,
    deviceId: op.device_id,
    volumeId: op.volume_id,
    kind: op.kind as Operation['kind'],
    state: op.state as Operation['state'],
    failureCause: effectiveCause(op, stale),
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

const STATUS_RANK: Record<KeyStatus, number> = { failed: 3, missing: 2, pending: 1, escrowed: 0 };

function volumeStatus(latest: OperationTable | undefined, stale: boolean, hasActive: boolean, escrowOn: boolean): KeyStatus {
  if (latest && isOpen(latest)) return effectiveCause(latest, stale) ? 'failed' : 'pending';
  if (latest && latest.state === 'failed' && !isOutdatedFailure(latest, escrowOn)) return 'failed';
  return hasActive ? 'escrowed' : 'missing';
}

export async function buildDeviceView(db: Db, org: OrgTable, device: DeviceTable, now: Date): Promise<Device> {
  const [owner, volumes, versions, ops] = await Promise.all([
    db.selectFrom('users').select(['name']).where('id', '=', device.owner_id).executeTakeFirst(),
    db.selectFrom('volumes').selectAll().where('device_id', '=', device.id).orderBy('name').execute(),
    db
      .selectFrom('key_versions')
      .select(['volume_id', 'version', 'protector_id'])
      .where('device_id', '=', device.id)
      .where('state', '=', 'active')
      .orderBy('version')
      .execute(),
    db.selectFrom('operations').selectAll().where('device_id', '=', device.id).orderBy('created_at', 'desc').orderBy('id').limit(50).execute(),
  ]);
  const stale = hasNotCheckedIn(device, org, now);
  const escrowOn = escrowEnabledFor(device, org);
  const volumeViews: Volume[] = volumes.map((v) => {
    const active = versions.filter((k) => k.volume_id === v.id);
    const latest = ops.find((o) => o.volume_id === v.id);
    return {
      id: v.id,
      name: v.name,
      keyStatus: volumeStatus(latest, stale, active.length > 0, escrowOn),
      activeVersion: active.length ? active[active.length - 1].version : null,
      protectorIds: active.map((k) => k.protector_id).filter((p): p is string => p !== null),
    };
  });
  const keyStatus = volumeViews.reduce<KeyStatus>((worst, v) => (STATUS_RANK[v.keyStatus] > STATUS_RANK[worst] ? v.keyStatus : worst), 'escrowed');
  const latest = ops[0];
  return {
    id: device.id,
    name: device.name,
    platform: device.platform as Device['platform'],
    ownership: device.ownership as Device['ownership'],
    keyKind: device.key_kind as Device['keyKind'],
    ownerId: device.owner_id,
    ownerName: owner?.name ?? '',
    escrowEnabled: escrowOn,
    lastCheckinAt: device.last_checkin_at,
    keyStatus: volumeViews.length ? keyStatus : 'missing',
    volumes: volumeViews,
    operation: latest ? operationView(latest, stale) : null,
    notice: noticeFor(latest, stale, device, escrowOn),
    updatedAt: device.updated_at,
  };
}

/** Devices of one owner, or all devices (`ownerId` undefined), optionally changed after `since`. */
export async function listDeviceViews(db: Db, now: Date, filter: { ownerId?: string; since?: string }): Promise<Device[]> {
  const org = await getOrg(db);
  let q = db.selectFrom('devices').selectAll().orderBy('name').orderBy('id');
  if (filter.ownerId) q = q.where('owner_id', '=', filter.ownerId);
  if (filter.since) q = q.where('updated_at', '>', filter.since);
  const devices = await q.execute();
  return Promise.all(devices.map((d) => buildDeviceView(db, org, d, now)));
}
