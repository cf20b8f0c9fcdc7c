/**
 * The load generator for the service benchmarks, run in a worker thread so it does not share
 * the service's event loop: `concurrency` clients each send requests back to back over
 * keep-alive HTTP for `durationMs`; returns completions per second and every latency.
 */
import { parentPort, workerData } from 'node:worker_threads';

export type LoadRequest = { url: string; method: 'GET' | 'POST'; headers: Record<string, string>; body?: string };
export type LoadPlan = { requests: LoadRequest[]; concurrency: number; durationMs: number };
export type LoadResult = { perSecond: number[]; latenciesMs: number[]; errors: number; statuses: Record<string, number> };

export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const start = performance.now();
  const end = start + plan.durationMs;
  const perSecond: number[] = new Array(Math.ceil(plan.durationMs / 1000)).fill(0);
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  async function client(): Promise<void> {
    while (performance.now() < end) {
      const req = plan.requests[next++ % plan.requests.length];
      const t0 = performance.now();
      try {
        const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status >= 400) errors += 1;
      } catch {
        errors += 1;
      }
      const t1 = performance.now();
      if (t1 <= end) {
        latenciesMs.push(t1 - t0);
        perSecond[Math.floor((t1 - start) / 1000)] += 1;
      }
    }
  }
  await Promise.all(Array.from({ length: plan.concurrency }, () => client()));
  return { perSecond, latenciesMs, errors, statuses };
}

if (parentPort && workerData) {
  const port = parentPort;
  runLoad(workerData as LoadPlan).then((result) => port.postMessage(result));
}
