/**
 * Sending the vault's queued offline reveals to the service's audit log, in reports of at
 * most `OFFLINE_REVEALS_PER_REPORT`. The service refuses a whole report when one entry does
 * not match a key the user revealed online, naming it (`reveals.<index>.<field>`): that entry
 * is set aside (failed, retried later with the outbox's backoff) and the others are sent
 * again, so one stale entry cannot keep every later reveal out of the log.
 */
import { OFFLINE_REVEALS_PER_REPORT, type OfflineRevealReport } from '../../lib/api/contract.ts';
import type { ApiResult, ClientError } from './api-client.ts';

export type QueuedOfflineReveal = OfflineRevealReport['reveals'][number];

export type OfflineReportPorts = {
  send(report: OfflineRevealReport): Promise<ApiResult<unknown>>;
  /** Marks entries sent (`error` null) or failed with the service's error code. */
  settle(idempotencyKeys: string[], error: string | null): Promise<void>;
};

/** The index of the entry the service refused the report for, if it named one of this batch. */
function refusedEntry(error: ClientError, batchSize: number): number | null {
  if (error.status !== 400 || !error.field) return null;
  const match = /^reveals\.(\d+)(?:\.|$)/.exec(error.field);
  const index = match ? Number(match[1]) : -1;
  return index >= 0 && index < batchSize ? index : null;
}

/** Reports everything queued; stops at the first failure that is not one entry's. */
export async function reportOfflineReveals(queued: QueuedOfflineReveal[], ports: OfflineReportPorts): Promise<void> {
  let pending = queued;
  while (pending.length > 0) {
    const batch = pending.slice(0, OFFLINE_REVEALS_PER_REPORT);
    const result = await ports.send({ reveals: batch });
    if (result.ok) {
      await ports.settle(batch.map((r) => r.idempotencyKey), null);
      pending = pending.slice(batch.length);
      continue;
    }
    const index = refusedEntry(result.error, batch.length);
    if (index === null) {
      await ports.settle(batch.map((r) => r.idempotencyKey), result.error.code);
      return;
    }
    await ports.settle([batch[index].idempotencyKey], result.error.code);
    pending = pending.filter((_, i) => i !== index);
  }
}
