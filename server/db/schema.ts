/**
 * Row types of the escrow service's tables, as Kysely sees them. Portable across SQLite and
 * PostgreSQL: ids are text (UUIDs), times are ISO-8601 text, flags are integers 0/1,
 * ciphertexts are base64 text. State and kind columns are typed with the values they hold
 * (db/states.ts).
 */
import type { Transaction } from 'kysely';
import type {
  BulkActionKind, BulkActionState, EscrowProblem, FailureCause, KekState, KeyStatus, KeyVersionSource, KeyVersionState, OperationKind, OperationState, Ownership,
} from './states.ts';

export type OrgTable = {
  id: string;
  name: string;
  support_contact: string;
  escrow_enabled: number;
  rotate_after_reveal: number;
  checkin_threshold_minutes: number;
  offline_cache: string;
  created_at: string;
};

export type UserTable = {
  id: string;
  org_id: string;
  email: string;
  name: string;
  password_hash: string;
  role: string;
  locale: string;
  created_at: string;
  /** Set while an admin has the account disabled: no sign-in, no session, no extension. */
  disabled_at: string | null;
  /** Set when deleted: the row keeps only id and name (for the audit log); it never signs in again. */
  deleted_at: string | null;
  /** The OpenID Connect provider and subject this person signs in as (null: local account only). */
  oidc_issuer: string | null;
  oidc_subject: string | null;
  /** Set when the password is a temporary one from an admin: valid until then, and must be changed. */
  password_temporary_until: string | null;
};

export type DeviceTable = {
  id: string;
  org_id: string;
  owner_id: string;
  name: string;
  ownership: string;
  platform: string;
  key_kind: string;
  escrow_enabled: number;
  last_checkin_at: string | null;
  checkin_requested_at: string | null;
  agent_credential_hash: string;
  enrolled_at: string;
  updated_at: string;
  /** Retired by IT: the credential no longer works; keys are kept for the retention period. */
  retired_at: string | null;
  /** When the current credential was issued (it is rotated, and refused once too old). */
  credential_issued_at: string | null;
  /** A rotated credential handed to the agent and not yet used; the first use makes it current. */
  next_credential_hash: string | null;
  /** Delta-sync cursor; NULL until the device index numbers the latest change (device-index.ts). */
  change_seq?: number | null;
  /** KeyStatus while the device checks in, and once it has not checked in for the threshold. */
  key_status?: KeyStatus | null;
  key_status_stale?: KeyStatus | null;
  /** 1 when an encrypted volume has no active key (seed 004). */
  escrow_missing?: number | null;
  /** Lower-case device name, owner name and email: what the console's search matches. */
  search_text?: string | null;
  /** The hardware serial number as the device's agent last reported it (null: never reported). */
  serial_number?: string | null;
  /** `serial_number` in lower case (device index): the console's exact and prefix serial match. */
  serial_search?: string | null;
};

export type VolumeTable = {
  id: string;
  device_id: string;
  ref: string;
  name: string;
  encrypted: number;
  created_at: string;
  /** What the agent last reported about the escrowed key (EscrowProblem), or null while it works. */
  escrow_problem: EscrowProblem | null;
  escrow_checked_at: string | null;
  /** When the device last proved that the active escrowed key opens the volume. */
  key_verified_at: string | null;
};

export type KeyVersionTable = {
  id: string;
  device_id: string;
  volume_id: string;
  version: number;
  state: KeyVersionState;
  source: KeyVersionSource;
  protector_id: string | null;
  ciphertext: string;
  wrapped_key: string;
  kek_id: string;
  exposed: number;
  created_at: string;
  updated_at: string;
};

export type OperationTable = {
  id: string;
  device_id: string;
  volume_id: string;
  kind: OperationKind;
  state: OperationState;
  failure_cause: FailureCause | null;
  candidate_version_id: string | null;
  pending_version_id: string | null;
  requested_by: string;
  detail: string | null;
  claimed_at: string | null;
  created_at: string;
  updated_at: string;
};

export type EnrollmentTokenTable = {
  id: string;
  token_hash: string;
  owner_id: string;
  ownership: Ownership;
  label: string;
  expires_at: string;
  used_at: string | null;
  device_id: string | null;
  created_at: string;
};

export type AuditEventTable = {
  seq: number;
  id: string;
  at: string;
  actor_id: string | null;
  actor_kind: string;
  action: string;
  device_id: string | null;
  volume_id: string | null;
  detail: string;
  ip: string | null;
  prev_hash: string;
  hash: string;
};

export type AuditHeadTable = { id: number; seq: number; hash: string };

export type OauthCodeTable = {
  code_hash: string;
  user_id: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  expires_at: string;
  used_at: string | null;
  created_at: string;
  /** The allow-listed extension (oauth_clients.id) the code was issued for. */
  extension_id: string | null;
  /** How and when the portal sign-in behind this code happened ('password' | 'sso'). */
  auth_method: string | null;
  auth_time: string | null;
};

export type OauthGrantTable = {
  id: string;
  user_id: string;
  client_id: string;
  label: string;
  created_at: string;
  last_used_at: string;
  revoked_at: string | null;
  /** The allow-listed extension (oauth_clients.id) signed in; null only for grants revoked by 0002. */
  extension_id: string | null;
  /** The operating system named by the browser's user agent at sign-in ('' if none). */
  os: string | null;
  /** How and when the portal sign-in behind this grant happened (null: before 0007, a password). */
  auth_method: string | null;
  auth_time: string | null;
};

/** An extension sign-in codes may be sent to (the OAuth client allow-list). */
export type OauthClientTable = {
  id: string;
  name: string;
  browser: string;
  redirect_uri: string;
  created_at: string;
};

export type OauthTokenTable = {
  token_hash: string;
  grant_id: string;
  kind: string;
  expires_at: string;
  used_at: string | null;
  created_at: string;
};

export type SessionTable = {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
  /** 'password' or 'sso'. */
  auth_method: string;
  /** The browser as its user agent named it at sign-in ("Firefox on Linux"). */
  label: string;
};

/** The organisation's OpenID Connect provider (one row, id 1) and whether local passwords still work. */
export type SsoConfigTable = {
  id: number;
  enabled: number;
  /** Shown on the button: "Sign in with <name>". */
  name: string;
  issuer: string;
  client_id: string;
  /** 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'. */
  client_auth: string;
  /** The client secret, or the PKCS#8 private key for private_key_jwt, sealed with the KEK. */
  secret_ciphertext: string;
  secret_wrapped_key: string;
  secret_kek_id: string;
  /** `kid` of the private key ('' for none). */
  key_id: string;
  redirect_uri: string;
  scopes: string;
  role_claim: string;
  /** Claim values that make someone an admin / helpdesk, one per line. */
  admin_values: string;
  helpdesk_values: string;
  max_session_hours: number;
  local_passwords: number;
  /** The one account that may still sign in with a password when local passwords are off. */
  break_glass_user_id: string | null;
  updated_at: string;
};

/** A sign-in at the provider in progress, found by the hash of the browser's `kw_sso` cookie. */
export type SsoLoginTable = {
  id_hash: string;
  state: string;
  nonce: string;
  code_verifier: string;
  next: string;
  /** Set when a signed-in local account asked to connect its provider account. */
  link_user_id: string | null;
  created_at: string;
  expires_at: string;
};

export type IdempotencyTable = {
  key: string;
  scope: string;
  result: string;
  created_at: string;
};

/** Throttling counts (PostgreSQL instances share them): one row per hashed key and window length. */
export type RateLimitTable = {
  bucket: string;
  window_index: number;
  hits: number;
  expires_at: string;
};

/** Secrets the service makes for itself on first use (e.g. `device_cookie_mac`). */
export type ServiceSecretTable = {
  name: string;
  value: string;
  created_at: string;
};

/** One row: the last device change number handed out (device-index.ts). */
export type DeviceChangeCounterTable = { id: number; seq: number };

/** A bulk action started from the IT console, and how far it has got (bulk-rotation.ts). */
export type BulkActionTable = {
  id: string;
  kind: BulkActionKind;
  requested_by: string;
  state: BulkActionState;
  /** Devices matching when it was started. */
  total: number;
  /** Devices handled so far. */
  done: number;
  /** Rotations queued so far. */
  queued: number;
  /** Devices are handled in id order; the last one handled ('' before the first). */
  last_device_id: string;
  created_at: string;
  updated_at: string;
};

/** A KEK the service knows of: `current` seals new keys, `previous` still opens some, `retired` none. */
export type KekRingTable = {
  kek_id: string;
  state: KekState;
  updated_at: string;
};

/** The KEK ids a running instance holds (JSON array), refreshed while it runs. */
export type KekInstanceTable = {
  instance: string;
  kek_ids: string;
  seen_at: string;
};

export type Database = {
  org: OrgTable;
  users: UserTable;
  devices: DeviceTable;
  volumes: VolumeTable;
  key_versions: KeyVersionTable;
  operations: OperationTable;
  enrollment_tokens: EnrollmentTokenTable;
  audit_events: AuditEventTable;
  audit_head: AuditHeadTable;
  oauth_clients: OauthClientTable;
  oauth_codes: OauthCodeTable;
  oauth_grants: OauthGrantTable;
  oauth_tokens: OauthTokenTable;
  sessions: SessionTable;
  idempotency: IdempotencyTable;
  rate_limits: RateLimitTable;
  service_secrets: ServiceSecretTable;
  bulk_actions: BulkActionTable;
  device_change_counter: DeviceChangeCounterTable;
  sso_config: SsoConfigTable;
  sso_logins: SsoLoginTable;
  kek_ring: KekRingTable;
  kek_instances: KekInstanceTable;
};

/** A transaction on the service's database, as services pass it to each other. */
export type Trx = Transaction<Database>;
