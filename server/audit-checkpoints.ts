/**
 * Signed checkpoints of the audit chain's head, kept outside the database: an append-only
 * JSON-lines file (default `<dataDir>/audit-checkpoints.jsonl`, mode 0600) of
 * `{seq, hash, at, instance, key, sig}`, signed with the audit key's Ed25519 key (RFC 8032):
 * `sig` (base64url) signs the UTF-8 JSON `["keyward-audit-checkpoint/v1", seq, hash, at,
 * instance]`, `key` is the raw public key (base64url), so a copy shipped elsewhere can be
 * checked with the pinned public key alone (the service prints it at start). Each service
 * instance writes its own file every few seconds when the head has moved, and on stop;
 * optionally it also prints each line on stdout for syslog/journald. A head that went
 * backwards, or an event a checkpoint recorded whose hash has changed, is reported at once on
 * stderr. `verify-audit` checks the chain against every checkpoint it is given: each line is a
 * standalone fact, so files of several instances sharing one PostgreSQL can be checked
 * together in any order. On PostgreSQL each checkpoint first links the events committed so far
 * into the chain (audit-chain.ts).
 */
import { sign, verify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { AppDeps } from './deps.ts';
import type { AuditAnchor } from './audit.ts';
import type { AuditKey } from './crypto/audit-key.ts';
import { chainAuditEvents, newAuditChainer } from './audit-chain.ts';

export type Checkpoint = { seq: number; hash: string; at: string; instance: string; key: string; sig: string };

/** A line of a checkpoint file that cannot be trusted, and why. */
export type BadCheckpoint = { source: string; problem: string };

export type CheckpointFile = {
  anchors: AuditAnchor[];
  bad: BadCheckpoint[];
  /** A last line without its newline: a write interrupted by a crash, not counted as bad. */
  tornTail: boolean;
};

export function defaultCheckpointPath(dataDir: string): string {
  return join(dataDir, 'audit-checkpoints.jsonl');
}

/** Names this process in its checkpoints. */
export function defaultInstanceName(): string {
  return `${hostname()}/${process.pid}`;
}

function signedBytes(c: Pick<Checkpoint, 'seq' | 'hash' | 'at' | 'instance'>): Buffer {
  return Buffer.from(JSON.stringify(['keyward-audit-checkpoint/v1', c.seq, c.hash, c.at, c.instance]), 'utf8');
}

export function signCheckpoint(key: AuditKey, c: Pick<Checkpoint, 'seq' | 'hash' | 'at' | 'instance'>): Checkpoint {
  return { seq: c.seq, hash: c.hash, at: c.at, instance: c.instance, key: key.publicKey, sig: sign(null, signedBytes(c), key.signing).toString('base64url') };
}

const checkpointLine = z.object({
  seq: z.number().int().min(0),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.string(),
  instance: z.string(),
  key: z.string(),
  sig: z.string(),
});

function parseCheckpoint(line: string): Checkpoint | null {
  try {
    const parsed = checkpointLine.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

type CheckedLine = { ok: true; checkpoint: Checkpoint } | { ok: false; problem: string };

/** The checkpoint on a line if `key` signed it, or why the line cannot be trusted. */
function checkLine(line: string, key: AuditKey): CheckedLine {
  const checkpoint = parseCheckpoint(line);
  if (!checkpoint) return { ok: false, problem: 'not a checkpoint line' };
  if (checkpoint.key !== key.publicKey) return { ok: false, problem: `signed with another key (${checkpoint.key}), not this audit key` };
  const sig = Buffer.from(checkpoint.sig, 'base64url');
  if (!verify(null, signedBytes(checkpoint), key.verifying, sig)) return { ok: false, problem: `bad checkpoint signature (it claims event ${checkpoint.seq})` };
  return { ok: true, checkpoint };
}

/** Reads a whole checkpoint file; every complete line must be a checkpoint signed by `key`. */
export function readCheckpointFile(path: string, key: AuditKey): CheckpointFile {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  const anchors: AuditAnchor[] = [];
  const bad: BadCheckpoint[] = [];
  lines.forEach((line, i) => {
    const source = `${path}:${i + 1}`;
    const checked = checkLine(line, key);
    if (!checked.ok) bad.push({ source, problem: checked.problem });
    else anchors.push({ seq: checked.checkpoint.seq, hash: checked.checkpoint.hash, at: checked.checkpoint.at, source });
  });
  return { anchors, bad, tornTail: tail !== '' };
}

/** Whether this key has signed any checkpoint in the file (the log was keyed when it did). */
export function hasOwnCheckpoint(path: string, key: AuditKey): boolean {
  return existsSync(path) && readCheckpointFile(path, key).anchors.length > 0;
}

const TAIL_BYTES = 64 * 1024;

export type CheckpointWriterOptions = {
  deps: Pick<AppDeps, 'db' | 'dbKind' | 'auditKey' | 'clock'>;
  path: string;
  instance: string;
  intervalMs: number;
  /** Where alarms go (one line each): stderr. */
  alert: (line: string) => void;
  /** When set, each checkpoint is also printed as one line here (stdout, for syslog/journald). */
  print?: (line: string) => void;
};

export type CheckpointWriter = {
  /** Checks the head against the last checkpoint and writes a new one if it moved. */
  checkpoint(): Promise<Checkpoint | null>;
  /** Stops the timer and writes a final checkpoint. */
  stop(): Promise<void>;
};

/** Drops an interrupted last line (so the next append starts a line) and returns the newest checkpoint. */
async function resumeFile(path: string, key: AuditKey, alert: (line: string) => void): Promise<Checkpoint | null> {
  if (!existsSync(path)) return null;
  const size = (await stat(path)).size;
  if (size === 0) return null;
  const file = await open(path, 'r+');
  try {
    const start = Math.max(0, size - TAIL_BYTES);
    const { buffer } = await file.read({ buffer: Buffer.alloc(size - start), position: start });
    const complete = buffer.lastIndexOf(0x0a) + 1;
    if (complete < buffer.length) {
      await file.truncate(start + complete);
      await file.sync();
      alert(`keyward: dropped an incomplete last line of ${path} (a checkpoint write was interrupted)`);
    }
    // Complete lines only; when the chunk starts mid-file its first line is partial.
    const lines = buffer.subarray(0, complete).toString('utf8').split('\n').slice(start === 0 ? 0 : 1, -1);
    for (let i = lines.length - 1; i >= 0; i--) {
      const checked = checkLine(lines[i], key);
      if (checked.ok) return checked.checkpoint;
      if (i === lines.length - 1) alert(`keyward: AUDIT ALARM: the last checkpoint in ${path} cannot be trusted: ${checked.problem}`);
    }
    return null;
  } finally {
    await file.close();
  }
}

async function appendLine(path: string, line: string): Promise<void> {
  const file = await open(path, 'a', 0o600);
  try {
    await file.appendFile(line + '\n', 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Starts writing checkpoints: checks and writes one at once, then every `intervalMs`. */
export async function startCheckpointWriter(o: CheckpointWriterOptions): Promise<CheckpointWriter> {
  const { db, auditKey, clock } = o.deps;
  let last = await resumeFile(o.path, auditKey, o.alert);

  const chainer = newAuditChainer();
  /** PostgreSQL: links what has committed, so the checkpoint covers every event written so far. */
  const chainCommitted = async () => {
    for (let steps = 0; steps < 100; steps++) {
      const step = await chainAuditEvents({ db, auditKey }, chainer);
      if (step.problem) o.alert(`keyward: AUDIT ALARM: ${step.problem}`);
      if (step.chained === 0) return;
    }
  };

  const once = async (): Promise<Checkpoint | null> => {
    if (o.deps.dbKind === 'postgres') await chainCommitted();
    const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
    const seen = last;
    if (seen) {
      if (head.seq < seen.seq) {
        o.alert(`keyward: AUDIT ALARM: the audit log went backwards: its head is event ${head.seq}, but the checkpoint written at ${seen.at} in ${o.path} recorded event ${seen.seq}; events were deleted (truncation)`);
      } else if (seen.seq > 0) {
        const event = await db.selectFrom('audit_events').select('hash').where('seq', '=', seen.seq).executeTakeFirst();
        if (event?.hash !== seen.hash) {
          o.alert(`keyward: AUDIT ALARM: audit event ${seen.seq} ${event ? 'has changed' : 'is missing'} since the checkpoint written at ${seen.at} in ${o.path} recorded it; the log was rewritten`);
        }
      }
      if (head.seq === seen.seq && head.hash === seen.hash) return null;
    } else if (head.seq === 0) {
      return null;
    }
    const checkpoint = signCheckpoint(auditKey, { seq: head.seq, hash: head.hash, at: clock.now().toISOString(), instance: o.instance });
    const line = JSON.stringify(checkpoint);
    await appendLine(o.path, line);
    last = checkpoint;
    o.print?.(`keyward-audit-checkpoint ${line}`);
    return checkpoint;
  };

  // One at a time: a tick, a test's call and the final checkpoint never interleave their appends.
  let queue: Promise<unknown> = Promise.resolve();
  const checkpoint = () => {
    const run = queue.then(once);
    queue = run.catch(() => null);
    return run;
  };
  await checkpoint();
  const timer = setInterval(() => {
    checkpoint().catch((error: unknown) => o.alert(`keyward: writing an audit checkpoint failed: ${error instanceof Error ? error.message : String(error)}`));
  }, o.intervalMs);
  timer.unref();
  return {
    checkpoint,
    stop: async () => {
      clearInterval(timer);
      await checkpoint();
    },
  };
}
