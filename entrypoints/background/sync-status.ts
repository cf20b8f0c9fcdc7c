/** The last sync's outcome (online, when) and the delta cursor, as kept in `syncStatusItem`. */
import { syncStatusItem, type SyncStatus } from './storage-items.ts';

export function readSyncStatus(): Promise<SyncStatus> {
  return syncStatusItem.getValue();
}

export async function updateSyncStatus(change: Partial<SyncStatus>): Promise<void> {
  await syncStatusItem.setValue({ ...(await readSyncStatus()), ...change });
}
