/**
 * `keyward rewrap-kek`: replaces the KEK. A new KEK is written to `<kek>.new` (next to the KEK
 * file, `kek.key` by default), every key version's data key is re-wrapped under it in one
 * transaction, then the files are swapped (the old KEK is kept as `<kek>.old-<id>` until you
 * choose to destroy it).
 */
import { renameSync, writeFileSync, existsSync } from 'node:fs';
import { openDatabase } from './db/open.ts';
import { defaultKekPath, generateKek, kekFromBytes, loadOrCreateKekFile, loadPreviousKeks, type Kek } from './crypto/kek.ts';
import { readKeyFile } from './crypto/key-file.ts';
import { rewrapRecord } from './crypto/envelope.ts';

export async function rewrapAllKeys(o: { dataDir: string; databaseUrl?: string; kekFile?: string }): Promise<number> {
  const kekPath = o.kekFile ?? defaultKekPath(o.dataDir);
  const current = loadOrCreateKekFile(kekPath).kek;
  const newPath = `${kekPath}.new`;
  const next: Kek = existsSync(newPath) ? kekFromBytes(readKeyFile(newPath)) : generateKek();
  writeFileSync(newPath, next.key.toString('base64') + '\n', { mode: 0o600 });
  const older = loadPreviousKeks(kekPath, current);
  const ring = (id: string) => (id === current.id ? current : id === next.id ? next : older.find((k) => k.id === id));
  const opened = await openDatabase({ dataDir: o.dataDir, databaseUrl: o.databaseUrl });
  let count = 0;
  try {
    await opened.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('key_versions')
        .innerJoin('devices', 'devices.id', 'key_versions.device_id')
        .select(['key_versions.id', 'key_versions.device_id', 'key_versions.version', 'key_versions.ciphertext', 'key_versions.wrapped_key', 'key_versions.kek_id', 'devices.key_kind'])
        .where('key_versions.kek_id', '!=', next.id)
        .where('key_versions.wrapped_key', '!=', '')
        .execute();
      for (const r of rows) {
        const sealed = rewrapRecord(ring, next, { recordId: r.id, deviceId: r.device_id, kind: r.key_kind, version: r.version }, {
          ciphertext: r.ciphertext, wrappedKey: r.wrapped_key, kekId: r.kek_id,
        });
        await trx.updateTable('key_versions').set({ wrapped_key: sealed.wrappedKey, kek_id: sealed.kekId }).where('id', '=', r.id).execute();
        count += 1;
      }
    });
  } finally {
    await opened.close();
  }
  renameSync(kekPath, `${kekPath}.old-${current.id}`);
  renameSync(newPath, kekPath);
  return count;
}
