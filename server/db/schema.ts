/**
 * Row types of the escrow service's tables, as Kysely sees them. Portable across SQLite and
 * PostgreSQL: ids are text (UUIDs), times are ISO-8601 text, flags are integers 0/1,
 * ciphertexts are base64 text.
 */


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
};

export type VolumeTable = {
  id: string;
  device_id: string;
  ref: string;
  name: string;
  encrypted: number;
  created_at: string;
};

export type KeyVersionTable = {
  id: string;
  device_id: string;
  volume_id: string;
  version: number;
  state: string;
  source: string;
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
  kind: string;
  state: string;
  failure_cause: string | null;
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
  ownership: string;
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

/** A KEK the service knows of: `current` seals new keys, `previous` still opens some, `retired` none. */
export type KekRingTable = {
  kek_id: string;
  state: string;
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
  kek_ring: KekRingTable;
  kek_instances: KekInstanceTable;
};
