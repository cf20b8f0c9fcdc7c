/**
 * The allow-list of OAuth clients: the browser extensions the service sends sign-in codes to.
 * A public client's redirect URIs must be registered and compared exactly (RFC 6749 §3.1.2.2,
 * RFC 9700 §2.1 and §4.1.1). Each entry is one extension build: its id, a display name, the
 * browser, and the one redirect URI only that extension can receive. The list starts with the
 * built extension's own Chrome/Edge and Firefox entries; admins add and remove entries on the
 * Policy page (services/oauth-client-admin.ts). Removing an entry signs out every browser that
 * signed in through it.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { CLIENT_BROWSERS, redirectUriFor, type OAuthClient } from './extension-clients.ts';
import type { Database, OauthClientTable } from '../db/schema.ts';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import type { Trx } from '../db/schema.ts';

function toClient(row: OauthClientTable): OAuthClient {
  const browser = CLIENT_BROWSERS.find((b) => b === row.browser) ?? 'chrome';
  return { id: row.id, name: row.name, browser, redirectUri: row.redirect_uri };
}

export async function listClients(db: Kysely<Database>): Promise<OAuthClient[]> {
  const rows = await db.selectFrom('oauth_clients').selectAll().orderBy('browser').orderBy('name').execute();
  return rows.map(toClient);
}

/**
 * The entry whose redirect URI is exactly `redirectUri`, or null. Inside a transaction on
 * PostgreSQL the row is share-locked, so an admin removing it waits until the grant being
 * written is committed, and then revokes that grant too.
 */
export async function findClientByRedirect(db: Kysely<Database> | Trx, deps: Pick<AppDeps, 'dbKind'>, redirectUri: string, lock = false): Promise<OAuthClient | null> {
  let q = db.selectFrom('oauth_clients').selectAll().where('redirect_uri', '=', redirectUri);
  if (lock && deps.dbKind === 'postgres') q = q.forShare();
  const row = await q.executeTakeFirst();
  return row ? toClient(row) : null;
}

/** Whether `id` is an allow-listed Chrome or Edge extension (for CORS). */
export async function isAllowedChromiumExtension(db: Kysely<Database>, id: string): Promise<boolean> {
  const row = await db.selectFrom('oauth_clients').select('id').where('id', '=', id).where('browser', '!=', 'firefox').executeTakeFirst();
  return row !== undefined;
}

const CHROMIUM_ID = /^[a-p]{32}$/;
// Firefox add-on ids: an email-like id or a GUID in braces (as AMO and Firefox accept them).
const GECKO_ID = /^(?:[A-Za-z0-9._-]{0,64}@[A-Za-z0-9._-]{1,80}|\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\})$/;

const trimmedField = () => z.string().optional().transform((value) => (value ?? '').trim());
const clientName = trimmedField().pipe(z.string().min(1).max(100));

/** The browser first, then the id as that browser writes it, then the name. */
const ClientForm = z.discriminatedUnion('browser', [
  z.object({ browser: z.literal('firefox'), extensionId: trimmedField().pipe(z.string().regex(GECKO_ID)), name: clientName }),
  z.object({ browser: z.enum(['chrome', 'edge']), extensionId: trimmedField().pipe(z.string().regex(CHROMIUM_ID)), name: clientName }),
]);

/** An admin's "add an extension" form, checked field by field (400 `invalid_input` naming the field). */
export function parseClientForm(form: Record<string, string>): OAuthClient {
  const parsed = ClientForm.safeParse(form);
  if (!parsed.success) throw new ApiFailure(400, 'invalid_input', { field: String(parsed.error.issues[0]?.path[0] ?? 'browser') });
  const { browser, extensionId: id, name } = parsed.data;
  return { id, name, browser, redirectUri: redirectUriFor(browser, id) };
}
