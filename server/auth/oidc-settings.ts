/**
 * The organisation's OpenID Connect provider as an admin configures it (Policy page or
 * `keyward sso`): issuer, client id, how Keyward authenticates to the provider (a client
 * secret, or `private_key_jwt` with a private key), the redirect URI registered there, scopes,
 * the claim whose values make someone helpdesk or admin, the longest an SSO sign-in counts, and
 * whether local passwords still work (always for the one break-glass admin). The secret or key
 * is stored sealed with the KEK (envelope encryption, as recovery keys are) and never shown again.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Role } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { findKek } from '../deps.ts';
import type { Database, SsoConfigTable } from '../db/schema.ts';
import { ApiFailure } from '../errors.ts';
import { appendAudit, type ActorKind } from '../audit.ts';
import { openSecret, rewrapRecord, sealSecret, type KekRing, type RecordBinding } from '../crypto/envelope.ts';
import type { Kek } from '../crypto/kek.ts';
import type { Trx } from '../services/key-versions.ts';
import { isUsableClientKey } from './oidc-client-key.ts';

export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

export const DEFAULT_SCOPES = 'openid email profile';
export const DEFAULT_MAX_SESSION_HOURS = 12;
const MAX_VALUES = 50;

export type SsoSettings = {
  enabled: boolean;
  name: string;
  issuer: string;
  clientId: string;
  clientAuth: ClientAuthMethod;
  keyId: string;
  redirectUri: string;
  scopes: string;
  roleClaim: string;
  adminValues: string[];
  helpdeskValues: string[];
  maxSessionHours: number;
  localPasswords: boolean;
  breakGlassUserId: string | null;
  updatedAt: string;
};

/** Settings with the sealed secret, as the sign-in flow needs them. */
export type StoredSso = { settings: SsoSettings; sealed: SsoConfigTable };

function clientAuthOf(value: string): ClientAuthMethod {
  return CLIENT_AUTH_METHODS.find((m) => m === value) ?? 'client_secret_basic';
}

function lines(text: string): string[] {
  return text.split('\n').filter((v) => v !== '');
}

function toSettings(row: SsoConfigTable): SsoSettings {
  return {
    enabled: row.enabled === 1,
    name: row.name,
    issuer: row.issuer,
    clientId: row.client_id,
    clientAuth: clientAuthOf(row.client_auth),
    keyId: row.key_id,
    redirectUri: row.redirect_uri,
    scopes: row.scopes,
    roleClaim: row.role_claim,
    adminValues: lines(row.admin_values),
    helpdeskValues: lines(row.helpdesk_values),
    maxSessionHours: row.max_session_hours,
    localPasswords: row.local_passwords === 1,
    breakGlassUserId: row.break_glass_user_id,
    updatedAt: row.updated_at,
  };
}

/** The stored provider settings, or null when none were ever saved (local accounts only). */
export async function loadSso(db: Kysely<Database> | Trx): Promise<StoredSso | null> {
  const row = await db.selectFrom('sso_config').selectAll().where('id', '=', 1).executeTakeFirst();
  return row ? { settings: toSettings(row), sealed: row } : null;
}

export async function loadSsoSettings(db: Kysely<Database> | Trx): Promise<SsoSettings | null> {
  return (await loadSso(db))?.settings ?? null;
}

/** The provider settings when single sign-on is switched on, else null. */
export async function enabledSso(db: Kysely<Database> | Trx): Promise<StoredSso | null> {
  const stored = await loadSso(db);
  return stored?.settings.enabled ? stored : null;
}

function binding(clientAuth: string): RecordBinding {
  return { recordId: 'sso_config', deviceId: '', kind: `oidc:${clientAuth}`, version: 1 };
}

/**
 * Re-wraps the sealed client secret under `next` (KEK rotation, server/rewrap.ts); true when
 * it changed. Only if nobody saved new settings meanwhile.
 */
export async function rewrapSsoSecret(db: Kysely<Database> | Trx, keks: KekRing, next: Kek): Promise<boolean> {
  const row = await db.selectFrom('sso_config').selectAll().where('secret_kek_id', '!=', next.id).where('secret_wrapped_key', '!=', '').executeTakeFirst();
  if (!row) return false;
  const sealed = rewrapRecord(keks, next, binding(row.client_auth), { ciphertext: row.secret_ciphertext, wrappedKey: row.secret_wrapped_key, kekId: row.secret_kek_id });
  await db
    .updateTable('sso_config')
    .set({ secret_wrapped_key: sealed.wrappedKey, secret_kek_id: sealed.kekId })
    .where('id', '=', row.id)
    .where('secret_wrapped_key', '=', row.secret_wrapped_key)
    .execute();
  return true;
}

/** Whether the sealed client secret still needs KEK `kekId` (it may not be retired then). */
export async function ssoSecretNeedsKek(db: Kysely<Database>, kekId: string): Promise<boolean> {
  return (await db.selectFrom('sso_config').select('id').where('secret_kek_id', '=', kekId).where('secret_wrapped_key', '!=', '').executeTakeFirst()) !== undefined;
}

/** The client secret (or PEM private key) in clear, for the moment a request needs it. */
export function openClientCredential(deps: Pick<AppDeps, 'kek' | 'previousKeks'>, row: SsoConfigTable): string {
  return openSecret(findKek(deps), binding(row.client_auth), { ciphertext: row.secret_ciphertext, wrappedKey: row.secret_wrapped_key, kekId: row.secret_kek_id });
}

/** The role the provider's claim gives: admin if any value is an admin value, else helpdesk, else user. */
export function roleFromClaim(settings: Pick<SsoSettings, 'adminValues' | 'helpdeskValues'>, values: readonly string[]): Role {
  if (values.some((v) => settings.adminValues.includes(v))) return 'admin';
  if (values.some((v) => settings.helpdeskValues.includes(v))) return 'helpdesk';
  return 'user';
}

/**
 * The values of the role claim: a string or a list of strings, found under the claim's whole
 * name first (`https://example.com/roles`) and else as a dotted path (`realm_access.roles`).
 */
export function claimValues(claims: Record<string, unknown>, claim: string): string[] {
  let value: unknown = claims[claim];
  if (value === undefined && claim.includes('.')) {
    value = claim.split('.').reduce<unknown>((node, part) => (node !== null && typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>)[part] : undefined), claims);
  }
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Plain http is allowed only to this machine (a provider run for testing); anything else is https. */
export function isLoopbackHttp(url: string): boolean {
  const parsed = URL.parse(url);
  return parsed !== null && parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname);
}

const text = () => z.string().optional().transform((value) => value ?? '');
const trimmed = () => text().transform((value) => value.trim());
const checkbox = () => text().transform((value) => value === '1');

/** An https address (http only to this machine) without fragment, credentials or query; empty is refused. */
const providerUrl = () =>
  z.string().refine((value) => {
    const parsed = URL.parse(value);
    return parsed !== null && value.length <= 300 && (parsed.protocol === 'https:' || isLoopbackHttp(value)) && !parsed.hash && !parsed.username && !parsed.password && !parsed.search;
  });

/** Values one per line or comma-separated, without blanks and repeats. */
const valueList = () =>
  text()
    .transform((value) => [...new Set(value.split(/[\n,]/).map((v) => v.trim()).filter((v) => v !== ''))])
    .pipe(z.array(z.string().max(200)).max(MAX_VALUES));

// The form is checked in the order it shows its fields: the provider, then its credential (which
// field depends on the method), then the rest. The first wrong field is the one named.
const ProviderFields = z.object({
  name: trimmed().pipe(z.string().min(1).max(60)),
  issuer: trimmed().transform((value) => value.replace(/\/+$/, '')).pipe(providerUrl()),
  clientId: trimmed().pipe(z.string().min(1).max(200)),
  clientAuth: z.enum(CLIENT_AUTH_METHODS),
});

const SecretField = z.object({ clientSecret: text().pipe(z.string().max(10_000)) }).transform((f) => f.clientSecret);
const PrivateKeyField = z.object({ privateKey: trimmed().refine((key) => key.length <= 10_000 && (key === '' || isUsableClientKey(key))) }).transform((f) => f.privateKey);

const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,100}$/;

const SignInFields = z.object({
  keyId: trimmed().pipe(z.string().max(100)),
  redirectUri: trimmed().pipe(providerUrl()),
  scopes: trimmed()
    .transform((value) => value.split(/\s+/).filter((scope) => scope !== ''))
    .pipe(z.array(z.string().regex(SCOPE)).max(20).refine((scopes) => scopes.includes('openid'))),
  roleClaim: trimmed().pipe(z.string().min(1).max(200)),
  maxSessionHours: z.coerce.number().int().min(1).max(720),
  adminValues: valueList(),
  helpdeskValues: valueList(),
  enabled: checkbox(),
  localPasswords: checkbox(),
  breakGlass: trimmed().transform((email) => email.toLowerCase()),
});

function parseFields<S extends z.ZodType>(schema: S, form: Record<string, string>): z.infer<S> {
  const parsed = schema.safeParse(form);
  if (!parsed.success) throw new ApiFailure(400, 'invalid_input', { field: String(parsed.error.issues[0]?.path[0] ?? '') });
  return parsed.data;
}

/** What an admin submits; `credential` is empty to keep the stored one. */
/** What an admin submits: the settings, plus the secret (or key) and the break-glass admin's email. */
export type SsoInput = Omit<SsoSettings, 'breakGlassUserId' | 'updatedAt'> & {
  /** The client secret, or the PEM private key for `private_key_jwt`. */
  credential: string;
  /** Email of the break-glass admin (required when local passwords are off). */
  breakGlassEmail: string;
};

/**
 * Checks a settings form field by field (400 `invalid_input` naming the field). The credential
 * is the client secret, or the PEM private key for `private_key_jwt`.
 */
export function parseSsoForm(form: Record<string, string>): SsoInput {
  const provider = parseFields(ProviderFields, form);
  const credential = parseFields(provider.clientAuth === 'private_key_jwt' ? PrivateKeyField : SecretField, form);
  const signIn = parseFields(SignInFields, form);
  return {
    enabled: signIn.enabled,
    name: provider.name,
    issuer: provider.issuer,
    clientId: provider.clientId,
    clientAuth: provider.clientAuth,
    credential,
    keyId: signIn.keyId,
    redirectUri: signIn.redirectUri,
    scopes: signIn.scopes.join(' '),
    roleClaim: signIn.roleClaim,
    adminValues: signIn.adminValues,
    helpdeskValues: signIn.helpdeskValues,
    maxSessionHours: signIn.maxSessionHours,
    localPasswords: signIn.localPasswords,
    breakGlassEmail: signIn.breakGlass,
  };
}

export type SsoChange = { actorId: string | null; actorKind: ActorKind; ip: string | null; at: string };

/**
 * Saves the settings with one `sso.configured` audit event (never the secret, only whether it
 * changed). A credential is required the first time and whenever the authentication method
 * changes; the break-glass account must be an active local admin when passwords are turned off.
 */
export async function saveSso(deps: AppDeps, input: SsoInput, change: SsoChange): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('sso_config').selectAll().where('id', '=', 1).executeTakeFirst();
    const keepCredential = input.credential === '' && current !== undefined && current.client_auth === input.clientAuth;
    if (input.credential === '' && !keepCredential) {
      throw new ApiFailure(400, 'invalid_input', { field: input.clientAuth === 'private_key_jwt' ? 'privateKey' : 'clientSecret' });
    }
    let breakGlassUserId: string | null = null;
    if (input.breakGlassEmail) {
      const admin = await trx
        .selectFrom('users')
        .select('id')
        .where('email', '=', input.breakGlassEmail)
        .where('role', '=', 'admin')
        .where('disabled_at', 'is', null)
        .where('deleted_at', 'is', null)
        .where('password_hash', '!=', '')
        .executeTakeFirst();
      if (!admin) throw new ApiFailure(400, 'invalid_input', { field: 'breakGlass' });
      breakGlassUserId = admin.id;
    } else if (!input.localPasswords) {
      throw new ApiFailure(400, 'invalid_input', { field: 'breakGlass' });
    }
    const sealed = keepCredential
      ? { ciphertext: current.secret_ciphertext, wrappedKey: current.secret_wrapped_key, kekId: current.secret_kek_id }
      : sealSecret(deps.kek, binding(input.clientAuth), input.credential);
    const row: SsoConfigTable = {
      id: 1,
      enabled: input.enabled ? 1 : 0,
      name: input.name,
      issuer: input.issuer,
      client_id: input.clientId,
      client_auth: input.clientAuth,
      secret_ciphertext: sealed.ciphertext,
      secret_wrapped_key: sealed.wrappedKey,
      secret_kek_id: sealed.kekId,
      key_id: input.keyId,
      redirect_uri: input.redirectUri,
      scopes: input.scopes,
      role_claim: input.roleClaim,
      admin_values: input.adminValues.join('\n'),
      helpdesk_values: input.helpdeskValues.join('\n'),
      max_session_hours: input.maxSessionHours,
      local_passwords: input.localPasswords ? 1 : 0,
      break_glass_user_id: breakGlassUserId,
      updated_at: change.at,
    };
    const { id: _id, ...fields } = row;
    await trx.insertInto('sso_config').values(row).onConflict((oc) => oc.column('id').doUpdateSet(fields)).execute();
    await appendAudit(trx, deps, change.at, {
      actorId: change.actorId, actorKind: change.actorKind, action: 'sso.configured', ip: change.ip,
      detail: {
        enabled: input.enabled, name: input.name, issuer: input.issuer, clientId: input.clientId, clientAuth: input.clientAuth, credentialChanged: !keepCredential,
        redirectUri: input.redirectUri, scopes: input.scopes, roleClaim: input.roleClaim, adminValues: input.adminValues, helpdeskValues: input.helpdeskValues,
        maxSessionHours: input.maxSessionHours, localPasswords: input.localPasswords, breakGlassUserId,
      },
    });
  });
}
