/**
 * Device enrollment and the device credential: a one-time enrollment token (stored hashed,
 * expiring) becomes a device with its volumes and a per-device agent credential (returned once,
 * stored hashed). A token made to re-enroll a retired device brings that device back (its
 * volumes, matched by ref, keep their history) with a new credential. An enrollment that is
 * refused leaves the token unused. Credentials rotate (`next_credential_hash` becomes current
 * on its first use) and are refused once revoked, too old, or the device is retired.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { EnrollRequest } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { appendAudit } from '../audit.ts';
import { hashToken, randomToken } from '../crypto/secrets.ts';
import type { DeviceTable } from '../db/schema.ts';
import type { Trx } from './key-versions.ts';

export type EnrollInput = z.infer<typeof EnrollRequest>;

export type NewEnrollmentToken = {
  ownerId: string;
  ownership: 'corporate' | 'personal';
  label: string;
  validDays?: number;
  token?: string;
  /** Re-enrollment of this (retired) device instead of a new one. */
  deviceId?: string;
};

export function newAgentCredential(): string {
  return `kwa_${randomToken(32)}`;
}

/** Creates a one-time token; returns the token text (shown once). */
export async function createEnrollmentToken(deps: Pick<AppDeps, 'db' | 'clock'>, t: NewEnrollmentToken): Promise<string> {
  const token = t.token ?? `kwe_${randomToken(24)}`;
  const now = deps.clock.now();
  await deps.db
    .insertInto('enrollment_tokens')
    .values({
      id: randomUUID(),
      token_hash: hashToken(token),
      owner_id: t.ownerId,
      ownership: t.ownership,
      label: t.label,
      expires_at: new Date(now.getTime() + (t.validDays ?? 30) * 86_400_000).toISOString(),
      used_at: null,
      device_id: t.deviceId ?? null,
      created_at: now.toISOString(),
    })
    .execute();
  return token;
}

export async function enrollDevice(deps: AppDeps, req: EnrollInput, ip: string | null): Promise<{ deviceId: string; credential: string }> {
  const at = nowIso(deps);
  const tokenHash = hashToken(req.token);
  const credential = newAgentCredential();
  // Checked before the token is claimed: a refused enrollment leaves the token usable.
  if (!req.volumes.some((v) => v.encrypted)) throw new ApiFailure(400, 'no_encrypted_volume', { field: 'volumes' });
  return deps.db.transaction().execute(async (trx) => {
    const token = await trx.selectFrom('enrollment_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    if (!token || token.used_at || token.expires_at <= at) throw new ApiFailure(400, 'enrollment_token_invalid', { field: 'token' });
    const reenrolled = token.device_id ? await trx.selectFrom('devices').selectAll().where('id', '=', token.device_id).executeTakeFirst() : undefined;
    if (reenrolled && reenrolled.key_kind !== req.keyKind) throw new ApiFailure(400, 'invalid_input', { field: 'keyKind' });
    const deviceId = reenrolled?.id ?? randomUUID();
    const claimed = await trx
      .updateTable('enrollment_tokens')
      .set({ used_at: at, device_id: deviceId })
      .where('id', '=', token.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) throw new ApiFailure(400, 'enrollment_token_invalid', { field: 'token' });
    if (reenrolled) {
      await trx
        .updateTable('devices')
        .set({ name: req.name, ...(req.serialNumber ? { serial_number: req.serialNumber } : {}), agent_credential_hash: hashToken(credential), next_credential_hash: null, credential_issued_at: at, retired_at: null, last_checkin_at: at, updated_at: at, change_seq: null })
        .where('id', '=', deviceId)
        .execute();
    } else {
      const owner = await trx.selectFrom('users').select(['org_id']).where('id', '=', token.owner_id).executeTakeFirstOrThrow();
      const device: DeviceTable = {
        id: deviceId,
        org_id: owner.org_id,
        owner_id: token.owner_id,
        name: req.name,
        serial_number: req.serialNumber ?? null,
        ownership: token.ownership,
        platform: req.platform,
        key_kind: req.keyKind,
        escrow_enabled: 1,
        last_checkin_at: at,
        checkin_requested_at: null,
        agent_credential_hash: hashToken(credential),
        enrolled_at: at,
        updated_at: at,
        retired_at: null,
        credential_issued_at: at,
        next_credential_hash: null,
      };
      await trx.insertInto('devices').values(device).execute();
    }
    await addVolumes(trx, deviceId, req.volumes, at);
    await appendAudit(trx, deps, at, {
      actorId: deviceId, actorKind: 'agent', action: reenrolled ? 'device.reenrolled' : 'device.enrolled', deviceId,
      detail: { name: req.name, ownership: token.ownership, token: token.label, ...(req.serialNumber ? { serialNumber: req.serialNumber } : {}) }, ip,
    });
    return { deviceId, credential };
  });
}

/** Volumes not yet known by ref (a volume listed twice counts once, its first entry). */
async function addVolumes(trx: Trx, deviceId: string, volumes: EnrollInput['volumes'], at: string): Promise<void> {
  const known = new Set((await trx.selectFrom('volumes').select('ref').where('device_id', '=', deviceId).execute()).map((v) => v.ref));
  for (const v of volumes) {
    if (known.has(v.ref)) continue;
    known.add(v.ref);
    await trx.insertInto('volumes').values({
      id: randomUUID(), device_id: deviceId, ref: v.ref, name: v.name, encrypted: v.encrypted ? 1 : 0, created_at: at, escrow_problem: null, escrow_checked_at: null, key_verified_at: null,
    }).execute();
  }
}

/**
 * The device an agent credential belongs to. The first use of a rotated credential makes it
 * the current one (the old one stops working). Refused (401, with a code the agent stops on):
 * unknown or replaced credential, credential older than the policy allows, retired device.
 */
export async function authenticateAgent(deps: AppDeps, bearer: string | null): Promise<DeviceTable> {
  if (!bearer) throw new ApiFailure(401, 'unauthenticated');
  const hash = hashToken(bearer);
  let device: DeviceTable | undefined = await deps.db.selectFrom('devices').selectAll().where('agent_credential_hash', '=', hash).executeTakeFirst();
  if (!device) {
    const rotated = await deps.db.selectFrom('devices').selectAll().where('next_credential_hash', '=', hash).executeTakeFirst();
    if (!rotated) throw new ApiFailure(401, 'credential_revoked');
    device = await promoteCredential(deps, rotated, hash);
  }
  if (device.retired_at) throw new ApiFailure(401, 'device_retired');
  const issued = Date.parse(device.credential_issued_at ?? device.enrolled_at);
  if (deps.clock.now().getTime() - issued > deps.config.agentCredentialMaxDays * 86_400_000) throw new ApiFailure(401, 'credential_expired');
  return device;
}

async function promoteCredential(deps: AppDeps, device: DeviceTable, hash: string): Promise<DeviceTable> {
  const at = nowIso(deps);
  return deps.db.transaction().execute(async (trx) => {
    const promoted = await trx
      .updateTable('devices')
      .set({ agent_credential_hash: hash, next_credential_hash: null, credential_issued_at: at })
      .where('id', '=', device.id)
      .where('next_credential_hash', '=', hash)
      .executeTakeFirst();
    // A second request with the same new credential may have promoted it first.
    if (Number(promoted.numUpdatedRows) === 1) {
      await appendAudit(trx, deps, at, { actorId: device.id, actorKind: 'agent', action: 'agent.credential_rotated', deviceId: device.id });
    }
    const current = await trx.selectFrom('devices').selectAll().where('id', '=', device.id).where('agent_credential_hash', '=', hash).executeTakeFirst();
    if (!current) throw new ApiFailure(401, 'credential_revoked');
    return current;
  });
}

/** At check-in: a new credential once the current one is older than the policy's rotation period. */
export async function rotateCredentialIfDue(trx: Trx, deps: AppDeps, device: DeviceTable): Promise<string | undefined> {
  const issued = Date.parse(device.credential_issued_at ?? device.enrolled_at);
  if (deps.clock.now().getTime() - issued < deps.config.agentCredentialRotateDays * 86_400_000) return undefined;
  const credential = newAgentCredential();
  // A credential handed out before and never used (its answer was lost) is simply replaced.
  await trx.updateTable('devices').set({ next_credential_hash: hashToken(credential) }).where('id', '=', device.id).execute();
  return credential;
}
