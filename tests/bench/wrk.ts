/**
 * Drives an HTTP service with `wrk` (the Debian package; `.ci/setup` installs it), so the
 * figures measure the server and not a load generator written in JavaScript. The requests
 * (method, path, headers, body — Bearer tokens and JSON bodies included) go into a small Lua
 * script that hands them out round-robin; its `done` hook prints one JSON line of totals and
 * latency percentiles, which `runWrk` parses. wrk runs as a child process, asynchronously, so
 * a service in the calling process keeps its event loop.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type WrkRequest = { method: 'GET' | 'POST'; path: string; headers?: Record<string, string>; body?: string };
export type WrkPlan = { url: string; requests: WrkRequest[]; connections: number; durationMs: number; threads?: number };
export type WrkResult = {
  rps: number;
  requests: number;
  /** Answers with a status of 400 or more, and connect/read/write errors and timeouts. */
  errors: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
};

/** A Lua string literal; JSON's escapes are Lua's for printable ASCII, which is all a bench sends. */
function luaString(s: string): string {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new Error('wrk requests must be printable ASCII');
  return JSON.stringify(s);
}

function luaScript(requests: WrkRequest[]): string {
  const rows = requests.map((r) => {
    const headers = Object.entries(r.headers ?? {}).map(([k, v]) => `[${luaString(k)}]=${luaString(v)}`).join(',');
    const body = r.body === undefined ? 'nil' : luaString(r.body);
    return `{${luaString(r.method)},${luaString(r.path)},{${headers}},${body}}`;
  });
  return `local plan = {\n${rows.join(',\n')}\n}
local formatted = {}
local n = 0
function init(args)
  for i, r in ipairs(plan) do formatted[i] = wrk.format(r[1], r[2], r[3], r[4]) end
  n = math.random(#formatted)
end
function request()
  n = n % #formatted + 1
  return formatted[n]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_RESULT {"requests":%d,"durationUs":%d,"errors":%d,"p50Us":%d,"p99Us":%d,"meanUs":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
`;
}

/** Runs wrk once against `plan.url` and returns what it measured. */
export async function runWrk(plan: WrkPlan): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-wrk-'));
  try {
    const script = join(dir, 'plan.lua');
    writeFileSync(script, luaScript(plan.requests));
    const args = ['-t', String(plan.threads ?? 2), '-c', String(plan.connections), '-d', `${Math.max(1, Math.round(plan.durationMs / 1000))}s`, '--timeout', '10s', '-s', script, plan.url];
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}: ${err.trim()}`))));
    });
    const line = output.split('\n').find((l) => l.startsWith('WRK_RESULT '));
    if (!line) throw new Error(`wrk printed no result: ${output.trim()}`);
    const r = JSON.parse(line.slice('WRK_RESULT '.length)) as { requests: number; durationUs: number; errors: number; p50Us: number; p99Us: number; meanUs: number };
    return { rps: r.requests / (r.durationUs / 1e6), requests: r.requests, errors: r.errors, p50Ms: r.p50Us / 1000, p99Ms: r.p99Us / 1000, meanMs: r.meanUs / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
