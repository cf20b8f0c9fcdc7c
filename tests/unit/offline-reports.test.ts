/**
 * The extension sends its queued offline reveals in reports the service accepts (at most
 * `OFFLINE_REVEALS_PER_REPORT` each). When the service refuses a report for one entry it
 * names, that entry is set aside and the rest are still reported, so one stale entry cannot
 * keep every later offline reveal out of the audit log.
 */
import { describe, expect, it } from 'vitest';
import { OFFLINE_REVEALS_PER_REPORT, type OfflineRevealReport } from '../../lib/api/contract.ts';
import type { ApiResult } from '../../utils/client/api-client.ts';
import { reportOfflineReveals, type QueuedOfflineReveal } from '../../utils/client/offline-reports.ts';

const entry = (n: number): QueuedOfflineReveal => ({ deviceId: 'mac', volumeId: 'disk1', version: 1, at: '2026-11-20T10:00:00.000Z', idempotencyKey: `reveal-${String(n).padStart(4, '0')}` });

/** A fake service: refuses any report holding one of `stale`, naming its index; answers `failWith` to everything when set. */
function fakeService(stale: Set<string>, failWith?: ApiResult<unknown>) {
  const reports: string[][] = [];
  const settled = new Map<string, string | null>();
  return {
    reports,
    settled,
    ports: {
      async send(report: OfflineRevealReport): Promise<ApiResult<unknown>> {
        reports.push(report.reveals.map((r) => r.idempotencyKey));
        if (failWith) return failWith;
        const index = report.reveals.findIndex((r) => stale.has(r.idempotencyKey));
        if (index >= 0) return { ok: false, error: { code: 'offline_reveal_invalid', message: 'no', status: 400, field: `reveals.${index}.version` } };
        return { ok: true, data: { recorded: report.reveals.length, duplicates: 0 } };
      },
      async settle(keys: string[], error: string | null) {
        for (const key of keys) settled.set(key, error);
      },
    },
  };
}

describe('reporting queued offline reveals', () => {
  it('sends a long queue in reports the service accepts, every entry once', async () => {
    const queue = Array.from({ length: 2 * OFFLINE_REVEALS_PER_REPORT + 5 }, (_, i) => entry(i));
    const service = fakeService(new Set());
    await reportOfflineReveals(queue, service.ports);
    expect(service.reports.map((r) => r.length)).toEqual([OFFLINE_REVEALS_PER_REPORT, OFFLINE_REVEALS_PER_REPORT, 5]);
    expect([...service.settled.entries()]).toEqual(queue.map((e) => [e.idempotencyKey, null]));
  });

  it('sets aside the entries the service names and reports all the others', async () => {
    const queue = Array.from({ length: 6 }, (_, i) => entry(i));
    const service = fakeService(new Set(['reveal-0001', 'reveal-0004']));
    await reportOfflineReveals(queue, service.ports);
    expect(service.settled.get('reveal-0001')).toBe('offline_reveal_invalid');
    expect(service.settled.get('reveal-0004')).toBe('offline_reveal_invalid');
    for (const ok of ['reveal-0000', 'reveal-0002', 'reveal-0003', 'reveal-0005']) expect(service.settled.get(ok)).toBeNull();
    expect(service.reports.at(-1)).toEqual(['reveal-0000', 'reveal-0002', 'reveal-0003', 'reveal-0005']);
  });

  it('stops at a failure that is not one entry’s (offline, rate limited) and marks that report failed', async () => {
    const queue = Array.from({ length: OFFLINE_REVEALS_PER_REPORT + 1 }, (_, i) => entry(i));
    const service = fakeService(new Set(), { ok: false, error: { code: 'rate_limited', message: 'wait', status: 429 } });
    await reportOfflineReveals(queue, service.ports);
    expect(service.reports).toHaveLength(1);
    expect(service.settled.size).toBe(OFFLINE_REVEALS_PER_REPORT);
    expect([...service.settled.values()].every((v) => v === 'rate_limited')).toBe(true);
  });
});
