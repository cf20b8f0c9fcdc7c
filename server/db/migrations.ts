/**
 * The schema, as one ordered list of migrations that run unchanged on SQLite and PostgreSQL
 * (only portable column types: text, integer). Applied at start-up with Kysely's Migrator.
 */
import { Migrator, PostgresAdapter, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { defaultClients } from '../auth/extension-clients.ts';

const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('org')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('support_contact', 'text', (c) => c.notNull())
      .addColumn('escrow_enabled', 'integer', (c) => c.notNull())
      .addColumn('rotate_after_reveal', 'integer', (c) => c.notNull())
      .addColumn('checkin_threshold_minutes', 'integer', (c) => c.notNull())
      .addColumn('offline_cache', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('org.id'))
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('locale', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('devices')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('org.id'))
      .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('ownership', 'text', (c) => c.notNull())
      .addColumn('platform', 'text', (c) => c.notNull())
      .addColumn('key_kind', 'text', (c) => c.notNull())
      .addColumn('escrow_enabled', 'integer', (c) => c.notNull())
      .addColumn('last_checkin_at', 'text')
      .addColumn('checkin_requested_at', 'text')
      .addColumn('agent_credential_hash', 'text', (c) => c.notNull().unique())
      .addColumn('enrolled_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('devices_owner').on('devices').column('owner_id').execute();

    await db.schema
      .createTable('volumes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
      .addColumn('ref', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('encrypted', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('volumes_device_ref', ['device_id', 'ref'])
      .execute();

    await db.schema
      .createTable('key_versions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
      .addColumn('volume_id', 'text', (c) => c.notNull().references('volumes.id'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('protector_id', 'text')
      .addColumn('ciphertext', 'text', (c) => c.notNull())
      .addColumn('wrapped_key', 'text', (c) => c.notNull())
      .addColumn('kek_id', 'text', (c) => c.notNull())
      .addColumn('exposed', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('key_versions_volume_version', ['volume_id', 'version'])
      .execute();
    await db.schema.createIndex('key_versions_device').on('key_versions').column('device_id').execute();

    await db.schema
      .createTable('operations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
      .addColumn('volume_id', 'text', (c) => c.notNull().references('volumes.id'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('failure_cause', 'text')
      .addColumn('candidate_version_id', 'text')
      .addColumn('pending_version_id', 'text')
      .addColumn('requested_by', 'text', (c) => c.notNull())
      .addColumn('detail', 'text')
      .addColumn('claimed_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('operations_device_state').on('operations').columns(['device_id', 'state']).execute();

    await db.schema
      .createTable('enrollment_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('ownership', 'text', (c) => c.notNull())
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('used_at', 'text')
      .addColumn('device_id', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('audit_events')
      .addColumn('seq', 'integer', (c) => c.primaryKey())
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text')
      .addColumn('actor_kind', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('device_id', 'text')
      .addColumn('volume_id', 'text')
      .addColumn('detail', 'text', (c) => c.notNull())
      .addColumn('ip', 'text')
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_events_device').on('audit_events').column('device_id').execute();

    await db.schema
      .createTable('audit_head')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute();
    await sql`insert into audit_head (id, seq, hash) values (1, 0, ${'0'.repeat(64)})`.execute(db);

    await db.schema
      .createTable('oauth_codes')
      .addColumn('code_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('redirect_uri', 'text', (c) => c.notNull())
      .addColumn('code_challenge', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('used_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('oauth_grants')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_used_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .execute();

    await db.schema
      .createTable('oauth_tokens')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('grant_id', 'text', (c) => c.notNull().references('oauth_grants.id'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('used_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('oauth_tokens_grant').on('oauth_tokens').column('grant_id').execute();

    await db.schema
      .createTable('sessions')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('csrf_token', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('idempotency')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('result', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
  },
};

/**
 * The allow-list of extensions sign-in codes may go to, seeded with the built extension's own
 * Chrome/Edge and Firefox entries; codes and grants record which entry they were for.
 */
const oauthClients: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('oauth_clients')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('browser', 'text', (c) => c.notNull())
      .addColumn('redirect_uri', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.alterTable('oauth_codes').addColumn('extension_id', 'text').execute();
    await db.schema.alterTable('oauth_grants').addColumn('extension_id', 'text').execute();
    await db.schema.alterTable('oauth_grants').addColumn('os', 'text').execute();
    await db.schema.createIndex('oauth_grants_extension').on('oauth_grants').column('extension_id').execute();
    const at = new Date().toISOString();
    for (const client of defaultClients()) {
      await sql`insert into oauth_clients (id, name, browser, redirect_uri, created_at) values (${client.id}, ${client.name}, ${client.browser}, ${client.redirectUri}, ${at})`.execute(db);
    }
    // Grants from before the allow-list may belong to any extension: those browsers sign in again.
    await sql`update oauth_grants set revoked_at = ${at} where revoked_at is null`.execute(db);
  },
};


/**
 * Audit views page through the whole log by `seq` with filters: each filter has an index that
 * also orders by `seq`, so a page costs the same at any log size.
 */
const auditViews: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('audit_events_device').execute();
    await db.schema.createIndex('audit_events_device_seq').on('audit_events').columns(['device_id', 'seq']).execute();
    await db.schema.createIndex('audit_events_actor_seq').on('audit_events').columns(['actor_id', 'seq']).execute();
    await db.schema.createIndex('audit_events_action_seq').on('audit_events').columns(['action', 'seq']).execute();
    await db.schema.createIndex('audit_events_at_seq').on('audit_events').columns(['at', 'seq']).execute();
  },
};

/**
 * Sign-in and reveal throttling shared by instances on one PostgreSQL (http/rate-limit.ts):
 * one row per hashed key and window length. And secrets the service makes for itself on first
 * use, such as the MAC key of sign-in device cookies (auth/device-cookies.ts).
 */
const rateLimits: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('rate_limits')
      .addColumn('bucket', 'text', (c) => c.primaryKey())
      .addColumn('window_index', 'integer', (c) => c.notNull())
      .addColumn('hits', 'integer', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rate_limits_expires').on('rate_limits').column('expires_at').execute();
    await db.schema
      .createTable('service_secrets')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
  },
};

/**
 * Device lifecycle and continuous proof of escrow: a device can be retired (credential
 * revoked, keys kept for the retention period); its credential rotates (the next one waits in
 * `next_credential_hash` until the agent first uses it); each volume records what the agent last
 * reported about its escrowed key (`escrow_problem`) and when the key was last proved to open it.
 */
const deviceLifecycle: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('devices').addColumn('retired_at', 'text').execute();
    await db.schema.alterTable('devices').addColumn('credential_issued_at', 'text').execute();
    await db.schema.alterTable('devices').addColumn('next_credential_hash', 'text').execute();
    await db.schema.createIndex('devices_next_credential').on('devices').column('next_credential_hash').execute();
    // Retention finds retired devices whose keys are due for destruction.
    await db.schema.createIndex('devices_retired').on('devices').column('retired_at').execute();
    await db.schema.alterTable('volumes').addColumn('escrow_problem', 'text').execute();
    await db.schema.alterTable('volumes').addColumn('escrow_checked_at', 'text').execute();
    await db.schema.alterTable('volumes').addColumn('key_verified_at', 'text').execute();
    await sql`update devices set credential_issued_at = enrolled_at`.execute(db);
  },
};

/**
 * Fleet scale: an index for every hot lookup (checked against the query plans by
 * tests/server/query-plans.test.ts), and the columns the IT console and delta sync read.
 * `devices.change_seq` is the monotonic sync cursor: NULL marks a device whose view changed;
 * the device index (services/device-index.ts) numbers such devices after commit, one step at
 * a time, and stores what the console filters on (statuses, escrow missing, search text).
 * `bulk_actions` records the console's bulk rotations and their progress.
 */
const fleet: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('devices').addColumn('change_seq', 'integer').execute();
    await db.schema.alterTable('devices').addColumn('key_status', 'text').execute();
    await db.schema.alterTable('devices').addColumn('key_status_stale', 'text').execute();
    await db.schema.alterTable('devices').addColumn('escrow_missing', 'integer').execute();
    await db.schema.alterTable('devices').addColumn('search_text', 'text').execute();
    await db.schema.createIndex('devices_change_seq').on('devices').column('change_seq').execute();
    await db.schema.createIndex('devices_owner_change_seq').on('devices').columns(['owner_id', 'change_seq']).execute();
    await db.schema.createIndex('devices_name_id').on('devices').columns(['name', 'id']).execute();
    await db.schema.createIndex('devices_checkin_id').on('devices').columns(['last_checkin_at', 'id']).execute();
    await db.schema.createIndex('operations_volume_kind_state').on('operations').columns(['volume_id', 'kind', 'state']).execute();
    await db.schema.createIndex('operations_device_created').on('operations').columns(['device_id', 'created_at']).execute();
    await db.schema.createIndex('operations_volume_created').on('operations').columns(['volume_id', 'created_at']).execute();
    await db.schema.createIndex('operations_state_updated').on('operations').columns(['state', 'updated_at']).execute();
    await db.schema.createIndex('key_versions_volume_state_version').on('key_versions').columns(['volume_id', 'state', 'version']).execute();
    await db.schema.createIndex('key_versions_state_updated').on('key_versions').columns(['state', 'updated_at']).execute();
    await db.schema.createIndex('idempotency_created').on('idempotency').column('created_at').execute();
    await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();
    await db.schema.createIndex('org_created').on('org').columns(['created_at', 'id']).execute();
    // Counting the fleet per status reads this index alone, not the device rows.
    await db.schema.createIndex('devices_status_counts').on('devices').columns(['key_status', 'key_status_stale', 'last_checkin_at', 'escrow_missing']).execute();
    await db.schema.createIndex('devices_escrow_missing_id').on('devices').columns(['escrow_missing', 'id']).execute();
    // The last change number handed out; numbers are never reused, even for a device changed again.
    await db.schema
      .createTable('device_change_counter')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .execute();
    await sql`insert into device_change_counter (id, seq) values (1, 0)`.execute(db);
    await db.schema
      .createTable('bulk_actions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('requested_by', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('total', 'integer', (c) => c.notNull())
      .addColumn('done', 'integer', (c) => c.notNull())
      .addColumn('queued', 'integer', (c) => c.notNull())
      .addColumn('last_device_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
  },
};

/**
 * Single sign-on and account management: people signed in through the organisation's OpenID
 * Connect provider are matched by (issuer, sub); accounts can be disabled, given a temporary
 * password, or deleted (the row stays, reduced to its name, so audit events keep naming the
 * person and devices point at an owner that no longer exists). Sessions, sign-in codes and
 * extension grants record how their sign-in happened, so an SSO sign-in older than the
 * provider's maximum session age stops refreshing. One row of provider settings; one row per
 * sign-in in progress (state, nonce, PKCE verifier), bound to the browser by a cookie.
 */
const ssoAccounts: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('users').addColumn('disabled_at', 'text').execute();
    await db.schema.alterTable('users').addColumn('deleted_at', 'text').execute();
    await db.schema.alterTable('users').addColumn('oidc_issuer', 'text').execute();
    await db.schema.alterTable('users').addColumn('oidc_subject', 'text').execute();
    await db.schema.alterTable('users').addColumn('password_temporary_until', 'text').execute();
    await db.schema.createIndex('users_oidc').unique().on('users').columns(['oidc_issuer', 'oidc_subject']).execute();
    await db.schema.alterTable('sessions').addColumn('auth_method', 'text', (c) => c.notNull().defaultTo('password')).execute();
    await db.schema.alterTable('sessions').addColumn('label', 'text', (c) => c.notNull().defaultTo('')).execute();
    await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
    await db.schema.alterTable('oauth_codes').addColumn('auth_method', 'text').execute();
    await db.schema.alterTable('oauth_codes').addColumn('auth_time', 'text').execute();
    await db.schema.alterTable('oauth_grants').addColumn('auth_method', 'text').execute();
    await db.schema.alterTable('oauth_grants').addColumn('auth_time', 'text').execute();
    await db.schema.createIndex('oauth_grants_user').on('oauth_grants').column('user_id').execute();

    await db.schema
      .createTable('sso_config')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('issuer', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('client_auth', 'text', (c) => c.notNull())
      .addColumn('secret_ciphertext', 'text', (c) => c.notNull())
      .addColumn('secret_wrapped_key', 'text', (c) => c.notNull())
      .addColumn('secret_kek_id', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('redirect_uri', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('role_claim', 'text', (c) => c.notNull())
      .addColumn('admin_values', 'text', (c) => c.notNull())
      .addColumn('helpdesk_values', 'text', (c) => c.notNull())
      .addColumn('max_session_hours', 'integer', (c) => c.notNull())
      .addColumn('local_passwords', 'integer', (c) => c.notNull())
      .addColumn('break_glass_user_id', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('sso_logins')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('nonce', 'text', (c) => c.notNull())
      .addColumn('code_verifier', 'text', (c) => c.notNull())
      .addColumn('next', 'text', (c) => c.notNull())
      .addColumn('link_user_id', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sso_logins_expires').on('sso_logins').column('expires_at').execute();
  },
};

/** The KEK key ring's shared state: which KEK seals new keys, which KEKs each running instance holds. */
const operate: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('kek_ring')
      .addColumn('kek_id', 'text', (c) => c.primaryKey())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('kek_instances')
      .addColumn('instance', 'text', (c) => c.primaryKey())
      .addColumn('kek_ids', 'text', (c) => c.notNull())
      .addColumn('seen_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('key_versions_kek').on('key_versions').column('kek_id').execute();
  },
};

/**
 * The hardware serial number each device's agent reports, and what the IT console's search
 * matches it by: `serial_search`, the serial in lower case, written by the device index step
 * (device-index.ts) like `search_text`. Its index serves exact and prefix matches as a range
 * (`>= prefix and < prefix-successor`), which needs byte order: PostgreSQL compares this
 * column with the "C" collation whatever the database's own is; SQLite compares bytes already.
 */
const deviceSerial: Migration = {
  async up(db: Kysely<unknown>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await db.schema.alterTable('devices').addColumn('serial_number', 'text').execute();
    await db.schema.alterTable('devices').addColumn('serial_search', 'text', (c) => (postgres ? c.modifyEnd(sql`collate "C"`) : c)).execute();
    await db.schema.createIndex('devices_serial_search').on('devices').column('serial_search').execute();
  },
};

/**
 * The audit chain after commit (audit-chain.ts): on PostgreSQL an event takes its `seq` from a
 * sequence when it is written, with no lock shared by other writers, and is linked into the
 * chain after its transaction committed. SQLite, with one writer, links events as they are
 * written and needs nothing new.
 */
const auditChainAfterCommit: Migration = {
  async up(db: Kysely<unknown>) {
    if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
    await sql`create sequence audit_event_seq minvalue 1`.execute(db);
    await sql`select setval('audit_event_seq', max(seq)) from audit_events having max(seq) > 0`.execute(db);
  },
};

const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_oauth_clients': oauthClients,
  '0004_audit_views': auditViews,
  '0005_rate_limits': rateLimits,
  '0006_device_lifecycle': deviceLifecycle,
  '0010_fleet': fleet,
  '0007_sso_accounts': ssoAccounts,
  '0008_operate': operate,
  '0011_audit_chain_after_commit': auditChainAfterCommit,
  '0012_device_serial': deviceSerial,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

function migrator(db: Kysely<unknown>, schema?: string): Migrator {
  return new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
}

/**
 * Brings the schema up to date; throws if a migration fails. On PostgreSQL confined to one
 * schema, the migration bookkeeping tables live in that schema too.
 */
export async function migrateToLatest(db: Kysely<unknown>, schema?: string): Promise<void> {
  const { error, results } = await migrator(db, schema).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Brings the schema to exactly the migration `name` (tests of an upgrade from an older schema). */
export async function migrateTo(db: Kysely<unknown>, name: string, schema?: string): Promise<void> {
  const { error } = await migrator(db, schema).migrateTo(name);
  if (error) throw error instanceof Error ? error : new Error(String(error));
}
