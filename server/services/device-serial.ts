/**
 * The hardware serial number a device's agent reports at check-in: stored when it differs
 * from the one on record (a new board, or a credential copied to another machine), and each
 * change is audited with the serial before and after. An agent that cannot read the serial
 * sends none, and the one on record stays.
 */
import type { AppDeps } from '../deps.ts';
import type { DeviceTable } from '../db/schema.ts';
import { appendAudit } from '../audit.ts';
import type { Trx } from './key-versions.ts';

/** True when the serial number on record changed (the device's view changed with it). */
export async function recordSerialNumber(trx: Trx, deps: AppDeps, device: DeviceTable, serialNumber: string | undefined, at: string): Promise<boolean> {
  if (serialNumber === undefined || serialNumber === device.serial_number) return false;
  // Conditional: of two check-ins racing with the same news, one records it and audits it.
  const updated = await trx
    .updateTable('devices')
    .set({ serial_number: serialNumber })
    .where('id', '=', device.id)
    .where((eb) => eb.or([eb('serial_number', 'is', null), eb('serial_number', '!=', serialNumber)]))
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) return false;
  await appendAudit(trx, deps, at, {
    actorId: device.id, actorKind: 'agent', action: 'device.serial_changed', deviceId: device.id,
    detail: { ...(device.serial_number ? { from: device.serial_number } : {}), to: serialNumber },
  });
  return true;
}
