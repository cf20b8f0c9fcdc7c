/**
 * What the one-shot admin commands (`init`, `demo-remove`) run with: the service's database
 * (migrated, as `serve` would) and its key files, created with the same loud backup warnings
 * when this is the very first command run on a new data directory.
 */
import { openDatabase } from './db/open.ts';
import { systemClock, defaultConfig, type AppDeps } from './deps.ts';
import { defaultKekPath, kekBackupWarning, loadOrCreateKekFile } from './crypto/kek.ts';
import { auditKeyBackupWarning, defaultAuditKeyPath, loadOrCreateAuditKeyFile } from './crypto/audit-key.ts';
import { ensurePrivateDir } from './private-files.ts';

export type AdminSessionOptions = { dataDir: string; databaseUrl?: string; pgSchema?: string; kekFile?: string; auditKeyFile?: string; warn?: (line: string) => void };

export async function openAdminSession(o: AdminSessionOptions): Promise<{ deps: AppDeps; close(): Promise<void> }> {
  const warn = o.warn ?? ((line: string) => console.error(line));
  ensurePrivateDir(o.dataDir);
  const opened = await openDatabase({ dataDir: o.dataDir, databaseUrl: o.databaseUrl, pgSchema: o.pgSchema });
  const kek = loadOrCreateKekFile(o.kekFile ?? defaultKekPath(o.dataDir));
  if (kek.created) warn(kekBackupWarning(kek.path));
  const audit = loadOrCreateAuditKeyFile(o.auditKeyFile ?? defaultAuditKeyPath(o.dataDir));
  if (audit.created) warn(auditKeyBackupWarning(audit.path));
  const deps: AppDeps = { db: opened.db, dbKind: opened.kind, kek: kek.kek, auditKey: audit.auditKey, clock: systemClock, config: defaultConfig };
  return { deps, close: () => opened.close() };
}
