/** Helpers shared by the benchmarks: timing runs and printing one JSON line per figure. */
export function summarize(samples: number[]): { median: number; p95: number; runs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))];
  return { median: round(at(0.5)), p95: round(at(0.95)), runs: sorted.length };
}

export function round(n: number): number {
  return Math.round(n * 10) / 10;
}

export function report(metric: string, samples: number[], unit: string, note: string): void {
  console.log(JSON.stringify({ metric, ...summarize(samples), unit, note }));
}

export function reportValue(metric: string, value: number, unit: string, note: string): void {
  console.log(JSON.stringify({ metric, value: round(value), unit, note }));
}
