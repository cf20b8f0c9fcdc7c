/**
 * `keyward sso show|configure` — single sign-on from the command line, for installations set up
 * by script. `configure` changes only the options given (the rest keep their saved values) and
 * goes through the same checks and audit event as the Policy page. The client secret comes
 * from a file or the environment (`KEYWARD_SSO_CLIENT_SECRET`), never from the command line,
 * where other users of the machine could read it.
 *
 *   keyward sso show [--data ./data] [--database postgres://…]
 *   keyward sso configure --name "Contoso" --issuer https://login.example.com --client-id keyward
 *     [--client-secret-file F | --private-key-file F.pem [--key-id K]] [--client-auth client_secret_basic|client_secret_post|private_key_jwt]
 *     [--redirect-uri https://keyward.example.com/sso/callback] [--scopes "openid email profile"]
 *     [--role-claim groups] [--admin-values a,b] [--helpdesk-values c] [--max-session-hours 12]
 *     [--local-passwords on|off] [--break-glass admin@example.com] [--enable | --disable]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultConfig, nowIso, systemClock, type AppDeps } from './deps.ts';
import { openDatabase } from './db/open.ts';
import { defaultKekPath, loadOrCreateKekFile, loadPreviousKeks } from './crypto/kek.ts';
import { defaultAuditKeyPath, loadOrCreateAuditKeyFile } from './crypto/audit-key.ts';
import { ApiFailure } from './errors.ts';
import { DEFAULT_MAX_SESSION_HOURS, DEFAULT_SCOPES, loadSso, openClientCredential, parseSsoForm, saveSso } from './auth/oidc-settings.ts';
import { publicJwk } from './auth/oidc-client-key.ts';

export type CliOutput = { out(line: string): void; err(line: string): void };

const consoleOutput: CliOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };

const USAGE = 'usage: keyward sso show | keyward sso configure --name … --issuer … --client-id … [--client-secret-file F | --private-key-file F] … (see README › Single sign-on)';

export async function runSsoCommand(argv: string[], io: CliOutput = consoleOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') {
    io.out(USAGE);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        data: { type: 'string', default: './data' },
        database: { type: 'string' },
        name: { type: 'string' },
        issuer: { type: 'string' },
        'client-id': { type: 'string' },
        'client-auth': { type: 'string' },
        'client-secret-file': { type: 'string' },
        'private-key-file': { type: 'string' },
        'key-id': { type: 'string' },
        'redirect-uri': { type: 'string' },
        scopes: { type: 'string' },
        'role-claim': { type: 'string' },
        'admin-values': { type: 'string' },
        'helpdesk-values': { type: 'string' },
        'max-session-hours': { type: 'string' },
        'local-passwords': { type: 'string' },
        'break-glass': { type: 'string' },
        enable: { type: 'boolean', default: false },
        disable: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const { positionals, values: o } = parsed;
  const command = positionals[0];
  if (command !== 'show' && command !== 'configure') {
    io.err(USAGE);
    return 2;
  }
  const opened = await openDatabase({ dataDir: o.data, databaseUrl: o.database });
  try {
    // The same key files `serve` uses (the secret is sealed with the KEK, the change audited).
    const kekPath = process.env.KEYWARD_KEK_FILE ?? defaultKekPath(o.data);
    const kek = loadOrCreateKekFile(kekPath).kek;
    const { auditKey } = loadOrCreateAuditKeyFile(process.env.KEYWARD_AUDIT_KEY_FILE ?? defaultAuditKeyPath(o.data));
    const deps: AppDeps = { db: opened.db, dbKind: opened.kind, kek, previousKeks: loadPreviousKeks(kekPath, kek), auditKey, clock: systemClock, config: defaultConfig };
    const stored = await loadSso(deps.db);
    if (command === 'show') {
      if (!stored) {
        io.out('single sign-on: not configured (local accounts only)');
        return 0;
      }
      const s = stored.settings;
      const breakGlass = s.breakGlassUserId ? await deps.db.selectFrom('users').select('email').where('id', '=', s.breakGlassUserId).executeTakeFirst() : undefined;
      io.out(`single sign-on: ${s.enabled ? 'on' : 'off'} ("Sign in with ${s.name}")`);
      io.out(`issuer: ${s.issuer}\nclient id: ${s.clientId}\nclient authentication: ${s.clientAuth}${s.keyId ? ` (key id ${s.keyId})` : ''}`);
      io.out(`redirect URI (register it at the provider): ${s.redirectUri}\nscopes: ${s.scopes}`);
      io.out(`role claim: ${s.roleClaim}; admin values: ${s.adminValues.join(', ') || '—'}; helpdesk values: ${s.helpdeskValues.join(', ') || '—'}`);
      io.out(`longest SSO sign-in: ${s.maxSessionHours} h\nlocal passwords: ${s.localPasswords ? 'on' : `off, except for ${breakGlass?.email ?? '(no break-glass account)'}`}`);
      if (s.clientAuth === 'private_key_jwt') {
        const jwk = publicJwk(openClientCredential(deps, stored.sealed), s.keyId);
        if (jwk) io.out(`public key for the provider (also served at /sso/jwks.json): ${JSON.stringify({ keys: [jwk] })}`);
      }
      return 0;
    }
    const current = stored?.settings;
    const clientAuth = o['client-auth'] ?? (o['private-key-file'] ? 'private_key_jwt' : o['client-secret-file'] ? (current?.clientAuth === 'client_secret_post' ? 'client_secret_post' : 'client_secret_basic') : current?.clientAuth ?? 'client_secret_basic');
    const secret = o['client-secret-file'] ? readFileSync(o['client-secret-file'], 'utf8').trim() : (env.KEYWARD_SSO_CLIENT_SECRET ?? '');
    const breakGlassEmail = o['break-glass'] ?? (current?.breakGlassUserId ? (await deps.db.selectFrom('users').select('email').where('id', '=', current.breakGlassUserId).executeTakeFirst())?.email : undefined) ?? '';
    const localPasswords = o['local-passwords'] ?? (current?.localPasswords === false ? 'off' : 'on');
    if (localPasswords !== 'on' && localPasswords !== 'off') {
      io.err('--local-passwords is on or off');
      return 2;
    }
    const form: Record<string, string> = {
      enabled: o.disable ? '' : o.enable || current?.enabled ? '1' : '',
      name: o.name ?? current?.name ?? '',
      issuer: o.issuer ?? current?.issuer ?? '',
      clientId: o['client-id'] ?? current?.clientId ?? '',
      clientAuth,
      clientSecret: secret,
      privateKey: o['private-key-file'] ? readFileSync(o['private-key-file'], 'utf8') : '',
      keyId: o['key-id'] ?? current?.keyId ?? '',
      redirectUri: o['redirect-uri'] ?? current?.redirectUri ?? '',
      scopes: o.scopes ?? current?.scopes ?? DEFAULT_SCOPES,
      roleClaim: o['role-claim'] ?? current?.roleClaim ?? 'groups',
      adminValues: o['admin-values'] ?? current?.adminValues.join('\n') ?? '',
      helpdeskValues: o['helpdesk-values'] ?? current?.helpdeskValues.join('\n') ?? '',
      maxSessionHours: o['max-session-hours'] ?? String(current?.maxSessionHours ?? DEFAULT_MAX_SESSION_HOURS),
      localPasswords: localPasswords === 'on' ? '1' : '',
      breakGlass: breakGlassEmail,
    };
    try {
      await saveSso(deps, parseSsoForm(form), { actorId: null, actorKind: 'system', ip: null, at: nowIso(deps) });
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      io.err(`not saved: ${error.field ? `--${error.field.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)} is missing or not valid` : error.code}`);
      return 1;
    }
    io.out(`single sign-on saved (${form.enabled ? 'on' : 'off'}); register ${form.redirectUri} as a redirect URI at the provider`);
    return 0;
  } finally {
    await opened.close();
  }
}
