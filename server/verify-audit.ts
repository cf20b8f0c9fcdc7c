/**
 * `keyward verify-audit`: checks an existing audit log without changing anything. The keyed
 * chain is recomputed under the audit key and checked against the head row and against every
 * signed checkpoint in the given files (by default this data directory's own). The report is a
 * few lines; the exit code is 0 only when the log is intact, 1 when anything is broken (the first
 * bad event is named, with what is wrong), 2 when it cannot be checked at all (no database,
 * no audit key, an unreachable PostgreSQL).
 */
import { existsSync } from 'node:fs';
import { verifyAuditChain, type AuditAnchor } from './audit.ts';
import { defaultCheckpointPath, readCheckpointFile, type BadCheckpoint } from './audit-checkpoints.ts';
import { auditKeyFromBytes, defaultAuditKeyPath, type AuditKey } from './crypto/audit-key.ts';
import { readKeyFile } from './crypto/key-file.ts';
import { DatabaseUnavailable, openDatabase, type OpenedDatabase } from './db/open.ts';

export type VerifyAuditOptions = {
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL confined to one schema (tests). */
  pgSchema?: string;
  auditKeyFile?: string;
  /** Checkpoint files to check against; when none is given, `<dataDir>/audit-checkpoints.jsonl` if it exists. */
  checkpointFiles?: string[];
};

export type VerifyAuditReport = { exitCode: 0 | 1 | 2; lines: string[] };

const cannotCheck = (line: string): VerifyAuditReport => ({ exitCode: 2, lines: [`keyward verify-audit: ${line}`] });

function loadAuditKey(path: string): AuditKey | string {
  if (!existsSync(path)) return `no audit key at ${path}: the log can only be checked with the audit key file it was sealed with (--audit-key-file)`;
  try {
    return auditKeyFromBytes(readKeyFile(path));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

async function openExisting(o: VerifyAuditOptions): Promise<OpenedDatabase | string> {
  try {
    return await openDatabase({ dataDir: o.dataDir, databaseUrl: o.databaseUrl, pgSchema: o.pgSchema, existingOnly: true });
  } catch (error) {
    if (error instanceof DatabaseUnavailable) return error.message;
    throw error;
  }
}

export async function runVerifyAudit(o: VerifyAuditOptions): Promise<VerifyAuditReport> {
  const opened = await openExisting(o);
  if (typeof opened === 'string') return cannotCheck(opened);
  try {
    const auditKey = loadAuditKey(o.auditKeyFile ?? defaultAuditKeyPath(o.dataDir));
    if (typeof auditKey === 'string') return cannotCheck(auditKey);
    const explicit = o.checkpointFiles ?? [];
    const missing = explicit.find((f) => !existsSync(f));
    if (missing) return cannotCheck(`no checkpoint file at ${missing}`);
    const fallback = defaultCheckpointPath(o.dataDir);
    const files = explicit.length > 0 ? explicit : existsSync(fallback) ? [fallback] : [];

    const anchors: AuditAnchor[] = [];
    const bad: BadCheckpoint[] = [];
    const notes: string[] = [];
    for (const file of files) {
      const read = readCheckpointFile(file, auditKey);
      anchors.push(...read.anchors);
      bad.push(...read.bad);
      if (read.tornTail) notes.push(`note: ${file} ends with an incomplete line (an interrupted write); it was not checked`);
    }
    const result = await verifyAuditChain({ db: opened.db, auditKey }, anchors).catch((error: unknown) => (error instanceof Error ? error.message.split('\n')[0] : String(error)));
    if (typeof result === 'string') return cannotCheck(`cannot read the audit log in ${opened.location}: ${result}`);
    const lines: string[] = [];
    if (!result.ok) lines.push(`audit log BROKEN at event ${result.brokenAtSeq}: ${result.message} (${result.count} events verified before it)`);
    for (const b of bad) lines.push(`audit checkpoint BROKEN: ${b.source}: ${b.problem}`);
    if (result.ok && bad.length === 0) {
      const newest = anchors.reduce((max, a) => Math.max(max, a.seq), 0);
      lines.push(files.length > 0
        ? `audit log intact: ${result.count} events; checked against ${anchors.length} signed checkpoints (newest: event ${newest}) in ${files.join(', ')}`
        : `audit log intact: ${result.count} events`);
      if (result.pending > 0) lines.push(`note: ${result.pending === 1 ? 'the newest event is' : `the newest ${result.pending} events are`} written but not chained yet (each matches its own MAC); a running service links them within moments`);
      if (result.sealed) lines.push(`note: events 1–${result.sealed.legacyEvents} were written before keyed hashes and sealed under the audit key at ${result.sealed.at} (event ${result.sealed.seq})`);
    }
    if (files.length === 0) lines.push(`note: no checkpoint file was checked, so deleted newest events would go unnoticed; give the instances' files with --checkpoints`);
    lines.push(...notes);
    return { exitCode: result.ok && bad.length === 0 ? 0 : 1, lines };
  } finally {
    await opened.close();
  }
}
