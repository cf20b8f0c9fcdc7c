/** Finding the volume a request is about (explicit id, or the device's only/first volume; an agent names it by its ref). */
import type { VolumeTable } from '../db/schema.ts';
import { ApiFailure } from '../errors.ts';
import type { Db } from './device-views.ts';
import type { Trx } from './key-versions.ts';

export async function pickVolume(db: Db | Trx, deviceId: string, volumeId: string | undefined): Promise<VolumeTable> {
  const volumes = await db.selectFrom('volumes').selectAll().where('device_id', '=', deviceId).orderBy('name').execute();
  if (volumeId) {
    const found = volumes.find((v) => v.id === volumeId);
    if (!found) throw new ApiFailure(404, 'not_found', { field: 'volumeId' });
    return found;
  }
  if (volumes.length === 0) throw new ApiFailure(404, 'not_found', { field: 'volumeId' });
  return volumes[0];
}

/** The device's own volume an agent names by its ref; 404 (`volumeRef`) when it has none such. */
export async function ownVolumeByRef(trx: Trx, deviceId: string, ref: string): Promise<VolumeTable> {
  const volume = await trx.selectFrom('volumes').selectAll().where('device_id', '=', deviceId).where('ref', '=', ref).executeTakeFirst();
  if (!volume) throw new ApiFailure(404, 'not_found', { field: 'volumeRef' });
  return volume;
}
