/**
 * Device enrollment: a one-time enrollment token (stored hashed, expiring) becomes a device
 * with its volumes and a per-device agent credential (returned once, stored hashed).
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

export type EnrollInput = z.infer<typeof EnrollRequest>;

export type NewEnrollmentToken = { ownerId: string; ownership: 'corporate' | 'personal'; label: string; validDays?: number; token?: string };

/** Creates a one-time token; returns the token text (shown once). */
export async function createEnrollmentToken(deps: AppDeps, t: NewEnrollmentToken): Promise<string> {
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
      device_id: null,
      created_at: now.toISOString(),
    })
    .execute();
  return token;
}

export async function enrollDevice(deps: AppDeps, req: EnrollInput, ip: string | null): Promise<{ deviceId: string; credential: string }> {
  const at = nowIso(deps);
  const tokenHash = hashToken(req.token);
  const credential = `kwa_${randomToken(32)}`;
  const deviceId = randomUUID();
  return deps.db.transaction().execute(async (trx) => {
    const token = await trx.selectFrom('enrollment_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    if (!token || token.used_at || token.expires_at <= at) throw new ApiFailure(400, 'invalid_grant', { field: 'token' });
    const claimed = await trx
      .updateTable('enrollment_tokens')
      .set({ used_at: at, device_id: deviceId })
      .where('id', '=', token.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) throw new ApiFailure(400, 'invalid_grant', { field: 'token' });
    const owner = await trx.selectFrom('users').select(['org_id']).where('id', '=', token.owner_id).executeTakeFirstOrThrow();
    const device: DeviceTable = {
      id: deviceId,
      org_id: owner.org_id,
      owner_id: token.owner_id,
      name: req.name,
      ownership: token.ownership,
      platform: req.platform,
      key_kind: req.keyKind,
      escrow_enabled: 1,
      last_checkin_at: at,
      checkin_requested_at: null,
      agent_credential_hash: hashToken(credential),
      enrolled_at: at,
      updated_at: at,
    };
    await trx.insertInto('devices').values(device).execute();
    const refs = new Set<string>();
    for (const v of req.volumes) {
      if (refs.has(v.ref)) continue;
      refs.add(v.ref);
      await trx.insertInto('volumes').values({ id: randomUUID(), device_id: deviceId, ref: v.ref, name: v.name, encrypted: v.encrypted ? 1 : 0, created_at: at }).execute();
    }
    await appendAudit(trx, deps, at, {
      actorId: deviceId, actorKind: 'agent', action: 'device.enrolled', deviceId, detail: { name: req.name, ownership: token.ownership, token: token.label }, ip,
    });
    return { deviceId, credential };
  });
}

/** The device an agent credential belongs to, or `unauthenticated`. */
export async function authenticateAgent(deps: AppDeps, bearer: string | null): Promise<DeviceTable> {
  if (!bearer) throw new ApiFailure(401, 'unauthenticated');
  const device = await deps.db.selectFrom('devices').selectAll().where('agent_credential_hash', '=', hashToken(bearer)).executeTakeFirst();
  if (!device) throw new ApiFailure(401, 'unauthenticated');
  return device;
}
