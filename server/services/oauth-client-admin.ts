/**
 * Admins' edits of the allowed browser extensions (the OAuth client allow-list in
 * auth/oauth-clients.ts): add an entry, or remove one and revoke every grant made through it.
 * Each edit is one transaction with its `policy.clients_changed` audit event.
 */
import type { AppDeps } from '../deps.ts';
import { appendAudit } from '../audit.ts';
import type { OAuthClient } from '../auth/extension-clients.ts';

export type ClientChange = { actorId: string; ip: string; at: string };

/** Adds an entry (audited); false when the id or its redirect is already listed. */
export async function addClient(deps: AppDeps, client: OAuthClient, change: ClientChange): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    const taken = await trx.selectFrom('oauth_clients').select('id').where((eb) => eb.or([eb('id', '=', client.id), eb('redirect_uri', '=', client.redirectUri)])).executeTakeFirst();
    if (taken) return false;
    // The same form sent twice at once: the second insert finds the id taken here.
    const inserted = await trx
      .insertInto('oauth_clients')
      .values({ id: client.id, name: client.name, browser: client.browser, redirect_uri: client.redirectUri, created_at: change.at })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
    await appendAudit(trx, deps, change.at, {
      actorId: change.actorId, actorKind: 'user', action: 'policy.clients_changed', ip: change.ip,
      detail: { change: 'added', extensionId: client.id, name: client.name, browser: client.browser, redirectUri: client.redirectUri },
    });
    return true;
  });
}

/** Removes an entry and revokes every grant made through it, with one audit event; false if unknown. */
export async function removeClient(deps: AppDeps, id: string, change: ClientChange): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('oauth_clients').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return false;
    const deleted = await trx.deleteFrom('oauth_clients').where('id', '=', id).executeTakeFirst();
    if (Number(deleted.numDeletedRows) !== 1) return false;
    const revoked = await trx.updateTable('oauth_grants').set({ revoked_at: change.at }).where('extension_id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    await appendAudit(trx, deps, change.at, {
      actorId: change.actorId, actorKind: 'user', action: 'policy.clients_changed', ip: change.ip,
      detail: { change: 'removed', extensionId: row.id, name: row.name, browser: row.browser, redirectUri: row.redirect_uri, grantsRevoked: Number(revoked.numUpdatedRows) },
    });
    return true;
  });
}
