/** What the tests check outside the browser: the service's audit log, screenshot paths. */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KeywardServer } from '../../server/main.ts';

const SCREENSHOTS = resolve(import.meta.dirname, '../../docs/screenshots');

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, name);
}

/** The audit actions recorded for a device, oldest first. */
export async function auditActions(service: KeywardServer, deviceId: string): Promise<string[]> {
  const rows = await service.db.selectFrom('audit_events').select(['action']).where('device_id', '=', deviceId).orderBy('seq').execute();
  return rows.map((r) => r.action);
}

/** How many key versions and operations the service holds for a device (a store request adds both). */
export async function keyWrites(service: KeywardServer, deviceId: string): Promise<{ keyVersions: number; operations: number }> {
  const [versions, operations] = await Promise.all([
    service.db.selectFrom('key_versions').select(({ fn }) => fn.countAll<number>().as('n')).where('device_id', '=', deviceId).executeTakeFirstOrThrow(),
    service.db.selectFrom('operations').select(({ fn }) => fn.countAll<number>().as('n')).where('device_id', '=', deviceId).executeTakeFirstOrThrow(),
  ]);
  return { keyVersions: Number(versions.n), operations: Number(operations.n) };
}
