/**
 * The Keyward API contract (`/api/v1`): the shapes every client and the service agree on.
 * Zod schemas are the single source of truth; types are inferred from them. The service
 * validates every request body with these schemas; clients validate what they receive.
 */
import { z } from 'zod';

export const KeyKind = z.enum(['filevault', 'bitlocker', 'luks']);
export type KeyKind = z.infer<typeof KeyKind>;

export const Platform = z.enum(['macos', 'windows', 'linux']);
export type Platform = z.infer<typeof Platform>;

export const Ownership = z.enum(['corporate', 'personal']);
export type Ownership = z.infer<typeof Ownership>;

export const Role = z.enum(['user', 'helpdesk', 'admin']);
export type Role = z.infer<typeof Role>;

export const Locale = z.enum(['en', 'sv', 'nl', 'ja', 'da']);
export type Locale = z.infer<typeof Locale>;

/** Lifecycle of one escrowed key version (see DESIGN.md, Key lifecycle). */
export const KeyVersionState = z.enum(['candidate', 'pending', 'active', 'retired', 'rejected']);
export type KeyVersionState = z.infer<typeof KeyVersionState>;

/**
 * What a device page and the popup badge show for a volume or a device. `broken`: a key is
 * escrowed but the device reports that it no longer opens the volume.
 */
export const KeyStatus = z.enum(['escrowed', 'missing', 'pending', 'failed', 'broken']);
export type KeyStatus = z.infer<typeof KeyStatus>;

export const OperationKind = z.enum(['verify-and-rotate', 'rotate', 'upload']);
export type OperationKind = z.infer<typeof OperationKind>;

export const OperationState = z.enum(['queued', 'in_progress', 'succeeded', 'failed']);
export type OperationState = z.infer<typeof OperationState>;

/**
 * Why an operation failed, as a device reports it (each has its own words and guidance on the
 * device page): not an encrypted volume, the volume is gone, the agent lacks permission, the
 * platform tool is missing, no escrowed key opens the volume any more; `device_error` for the rest.
 */
export const DeviceErrorCause = z.enum(['not_encrypted', 'volume_missing', 'permission_denied', 'driver_unavailable', 'escrowed_key_rejected', 'device_error']);
export type DeviceErrorCause = z.infer<typeof DeviceErrorCause>;

/** Why a key could not be uploaded: the three causes of message M3, the device's own causes, and a retired device. */
export const FailureCause = z.enum(['wrong_key', 'not_checked_in', 'escrow_disabled', 'device_retired', ...DeviceErrorCause.options]);
export type FailureCause = z.infer<typeof FailureCause>;

/**
 * Why the escrowed key no longer works, as the agent found it: its LUKS key slot (or BitLocker
 * protector) is gone, the slot was changed (e.g. `cryptsetup luksChangeKey`), or the key itself
 * no longer opens the volume (full check).
 */
export const EscrowProblem = z.enum(['slot_removed', 'slot_changed', 'key_rejected']);
export type EscrowProblem = z.infer<typeof EscrowProblem>;

export const Operation = z.object({
  id: z.string(),
  deviceId: z.string(),
  volumeId: z.string(),
  kind: OperationKind,
  state: OperationState,
  failureCause: FailureCause.nullable(),
  /** What the device said about a failure, in its own (technical, English) words; never a key. */
  detail: z.string().nullable().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Operation = z.infer<typeof Operation>;

export const Volume = z.object({
  id: z.string(),
  /** Shown to people: "Macintosh HD", "C:", "/dev/nvme0n1p3". */
  name: z.string(),
  keyStatus: KeyStatus,
  activeVersion: z.number().int().nullable(),
  /** BitLocker Numerical Password protector IDs with an escrowed password. */
  protectorIds: z.array(z.string()),
  /** False for a volume the device reports as not encrypted (e.g. a non-LUKS member of a set). */
  encrypted: z.boolean().optional(),
  /** Set while the device reports that the escrowed key no longer works (`keyStatus` is `broken`). */
  escrowProblem: EscrowProblem.nullable().optional(),
  /** When the device last proved that the escrowed key opens the volume. */
  keyVerifiedAt: z.string().nullable().optional(),
});
export type Volume = z.infer<typeof Volume>;

/** The latest outcome shown on the device page: M3 (with its cause) or M4. */
export const DeviceNotice = z.object({
  message: z.enum(['M3', 'M4']),
  cause: FailureCause.nullable(),
  at: z.string(),
  /** M4 only: what was done — a key the owner stored, a rotation the owner asked for, or one IT asked for. */
  origin: z.enum(['stored', 'owner_rotation', 'it_rotation']).nullable().optional(),
});
export type DeviceNotice = z.infer<typeof DeviceNotice>;

export const Device = z.object({
  id: z.string(),
  name: z.string(),
  platform: Platform,
  ownership: Ownership,
  keyKind: KeyKind,
  /** null when the owner's account was deleted (the device has no owner). */
  ownerId: z.string().nullable(),
  ownerName: z.string().nullable(),
  escrowEnabled: z.boolean(),
  lastCheckinAt: z.string().nullable(),
  keyStatus: KeyStatus,
  volumes: z.array(Volume),
  operation: Operation.nullable(),
  notice: DeviceNotice.nullable(),
  /** Set once IT retired the device: its credential is revoked and its keys are kept for the retention period. */
  retiredAt: z.string().nullable().optional(),
  updatedAt: z.string(),
});
export type Device = z.infer<typeof Device>;

export const Me = z.object({
  user: z.object({ id: z.string(), email: z.string(), name: z.string(), role: Role, /** Picked by the person; null until they pick one (then the browser's language is used). */ locale: Locale.nullable() }),
  org: z.object({
    name: z.string(),
    supportContact: z.string(),
    /** Policy `offlineCache`: may the extension keep keys in its vault (`keys`) or only statuses (`metadata`). */
    offlineCache: z.enum(['keys', 'metadata']).optional(),
  }),
});
export type Me = z.infer<typeof Me>;

/**
 * Query of GET /api/v1/devices. Own devices: `cursor` (or its older name `since`) asks only for
 * what changed after an earlier answer. IT with `scope=all`: the whole fleet a page at a time
 * (`after` = the previous page's `next`), filtered like the console (`q`, `platform`,
 * `ownership`, `status`, `stale`, `escrowMissing`, `sort`, `limit`); the service checks those.
 */
export const DeviceListQuery = z.object({
  scope: z.string().optional(),
  cursor: z.string().optional(),
  since: z.string().optional(),
  q: z.string().optional(),
  platform: z.string().optional(),
  ownership: z.string().optional(),
  status: z.string().optional(),
  stale: z.string().optional(),
  escrowMissing: z.string().optional(),
  sort: z.string().optional(),
  after: z.string().optional(),
  limit: z.string().optional(),
});
export type DeviceListQuery = z.input<typeof DeviceListQuery>;

/** POST /api/v1/devices/:id/rotate — which volume (default: the device's first). */
export const RotateRequest = z.object({ volumeId: z.string().max(100).optional() });
export type RotateRequest = z.infer<typeof RotateRequest>;

/** `PUT /api/v1/me/locale`: the person's language for portal and extension; null goes back to following the browser. */
export const SetLocaleRequest = z.object({ locale: Locale.nullable() });
export type SetLocaleRequest = z.infer<typeof SetLocaleRequest>;

/** `cursor`: the delta-sync cursor to send next time; `next`: the following page of `scope=all`. */
export const DeviceList = z.object({ devices: z.array(Device), cursor: z.string(), next: z.string().optional() });
export type DeviceList = z.infer<typeof DeviceList>;

/** POST /api/v1/devices/:id/keys — store a personal recovery key (becomes a `candidate`). */
export const StoreKeyRequest = z.object({
  volumeId: z.string().optional(),
  key: z.string().max(200),
  confirmKey: z.string().max(200),
  idempotencyKey: z.string().min(8).max(100).optional(),
});
export type StoreKeyRequest = z.infer<typeof StoreKeyRequest>;

/** POST /api/v1/devices/:id/reveal — IT must give a reason; owners may. */
export const RevealRequest = z.object({
  volumeId: z.string().optional(),
  reason: z.string().max(500).optional(),
  /** BitLocker: reveal the password of this protector (default: the newest active key). */
  protectorId: z.string().max(64).optional(),
});
export type RevealRequest = z.infer<typeof RevealRequest>;

export const RevealedKey = z.object({
  deviceId: z.string(),
  volumeId: z.string(),
  volumeName: z.string(),
  kind: KeyKind,
  version: z.number().int(),
  /** Formatted for display (grouped). */
  key: z.string(),
  protectorId: z.string().nullable(),
  revealedAt: z.string(),
  /** Seconds until clients must hide the key again (five minutes). */
  hideAfterSeconds: z.number().int(),
});
export type RevealedKey = z.infer<typeof RevealedKey>;

/** Most offline reveals one report may carry; the extension sends larger backlogs in several. */
export const OFFLINE_REVEALS_PER_REPORT = 100;

/**
 * A moment as the audit filters and offline reports give it: `2026-11-20`, `2026-11-20T10:00`,
 * `2026-11-20T10:00:00.000Z` or with an offset; without a zone it is UTC. The date must exist.
 */
export const Instant = z.string().max(40).refine((value) => instantMs(value) !== null, { message: 'not a date' });

/** Milliseconds since the epoch of an `Instant` string, or null when it is not one. */
export function instantMs(value: string): number | null {
  const m = /^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(value);
  if (!m) return null;
  const day = Date.parse(`${m[1]}T00:00:00Z`);
  // Date.parse rolls 2026-02-30 over into March: only days that exist are dates.
  if (Number.isNaN(day) || new Date(day).toISOString().slice(0, 10) !== m[1]) return null;
  const ms = Date.parse(m[2] ? `${m[1]}${m[2]}${m[3] ? '' : 'Z'}` : `${m[1]}T00:00:00Z`);
  return Number.isNaN(ms) ? null : ms;
}

/** Offline reveals done from the local vault, reported when back online. */
export const OfflineRevealReport = z.object({
  reveals: z.array(z.object({
    deviceId: z.string().max(100),
    volumeId: z.string().max(100),
    version: z.number().int().min(1),
    at: Instant,
    idempotencyKey: z.string().min(8).max(100),
  })).max(OFFLINE_REVEALS_PER_REPORT),
});

export type OfflineRevealReport = z.infer<typeof OfflineRevealReport>;

export const OfflineRevealResponse = z.object({ recorded: z.number().int(), duplicates: z.number().int() });

/** POST /oauth/token request, as a form or JSON: a code with its PKCE verifier, or a refresh token. */
export const TokenRequest = z.discriminatedUnion('grant_type', [
  z.object({
    grant_type: z.literal('authorization_code'),
    code: z.string().min(10).max(200),
    code_verifier: z.string().min(43).max(128),
    redirect_uri: z.string().max(300),
    client_id: z.string().max(100),
  }),
  z.object({ grant_type: z.literal('refresh_token'), refresh_token: z.string().min(10).max(200), client_id: z.string().max(100).optional() }),
]);
export type TokenRequest = z.infer<typeof TokenRequest>;

/** POST /oauth/token answer (RFC 6749 §5.1). */
export const TokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  refresh_token: z.string(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

/** One entry of the append-only audit log (GET /api/v1/audit). */
export const AuditEvent = z.object({
  seq: z.number().int(),
  at: z.string(),
  actorId: z.string().nullable(),
  actorName: z.string().nullable(),
  actorKind: z.enum(['user', 'agent', 'system']),
  action: z.string(),
  deviceId: z.string().nullable(),
  /** The device's name now (null for events about no device). */
  deviceName: z.string().nullable(),
  volumeId: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
  hash: z.string(),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

/** Largest page of audit events one request may ask for. */
export const AUDIT_PAGE_MAX = 200;

/** A positive integer given as query text (`before`, `limit`). */
const QueryInteger = z.string().regex(/^[0-9]{1,15}$/).transform(Number).pipe(z.number().int().min(1));

/**
 * Filters of GET /api/v1/audit (and of the admin console's audit page and export): all given
 * ones must match. `from` is inclusive, `to` exclusive (a date alone as `to` includes that day).
 * `before`: only events older than this `seq` (the `nextCursor` of the previous page).
 */
export const AuditQuery = z.strictObject({
  deviceId: z.string().min(1).max(100).optional(),
  actorId: z.string().min(1).max(100).optional(),
  action: z.string().min(1).max(100).optional(),
  from: Instant.optional(),
  to: Instant.optional(),
  before: QueryInteger.optional(),
  limit: QueryInteger.pipe(z.number().max(AUDIT_PAGE_MAX)).optional(),
});
export type AuditQuery = z.input<typeof AuditQuery>;

/** One page of audit events, newest first; `nextCursor` is the `before` of the next (older) page, null on the last. */
export const AuditList = z.object({ events: z.array(AuditEvent), nextCursor: z.number().int().nullable() });
export type AuditList = z.infer<typeof AuditList>;

/** Every error answer: `{ error: { code, message } }`, message in the caller's language. */
export const ErrorCode = z.enum([
  'invalid_input', 'invalid_key', 'keys_mismatch', 'not_found', 'unauthenticated', 'session_expired',
  'forbidden', 'personal_device', 'reason_required', 'escrow_disabled', 'no_key', 'rate_limited',
  'conflict', 'csrf_failed', 'invalid_grant', 'invalid_client', 'payload_too_large', 'unsupported_media_type',
  'internal_error',
  'offline_reveal_invalid',
  'cross_origin', 'reason_too_short',
  // device agent and lifecycle
  'enrollment_token_invalid', 'no_encrypted_volume', 'credential_revoked', 'credential_expired', 'device_retired', 'luks_passphrase_refused',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ApiError = z.object({
  error: z.object({ code: ErrorCode, message: z.string(), field: z.string().optional() }),
});
export type ApiError = z.infer<typeof ApiError>;

// ---------------------------------------------------------------------------------------
// Agent API (`/api/v1/agent`), authenticated with the per-device credential (Bearer).

/** The cheap check of the escrowed key the agent makes at every check-in (its slot/protector is still there, unchanged). */
export const EscrowCheck = z.object({ state: z.enum(['ok', 'broken']), problem: EscrowProblem.optional() });
export type EscrowCheck = z.infer<typeof EscrowCheck>;

export const AgentVolumeReport = z.object({
  /** Stable identifier the driver uses for the volume ("C:", a LUKS UUID, "disk1s1"). */
  ref: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  encrypted: z.boolean(),
  /** BitLocker Numerical Password protector IDs currently on the volume. */
  protectorIds: z.array(z.string()).max(64).default([]),
  /** Absent when the agent has nothing to compare with (no escrowed key it created or verified). */
  escrowCheck: EscrowCheck.optional(),
});
export type AgentVolumeReport = z.infer<typeof AgentVolumeReport>;

export const EnrollRequest = z.object({
  token: z.string().min(8).max(200),
  name: z.string().min(1).max(200),
  platform: Platform,
  keyKind: KeyKind,
  volumes: z.array(AgentVolumeReport).min(1).max(32),
});
export const EnrollResponse = z.object({ deviceId: z.string(), credential: z.string() });

export const CheckinRequest = z.object({
  volumes: z.array(AgentVolumeReport).max(32),
  /**
   * Operations this agent is still working on. When present, any other operation handed to the
   * device and not finished is handed out again (the agent that took it is gone).
   */
  inHand: z.array(z.string().max(100)).max(64).optional(),
});

/** Work for the agent. `candidateKey` is present for verify-and-rotate (normalized form). */
export const AgentTask = z.object({
  operationId: z.string(),
  kind: OperationKind,
  volumeRef: z.string(),
  candidateKey: z.string().nullable(),
  /** The currently escrowed key the agent may use as its authority to rotate. */
  currentKey: z.string().nullable(),
});
export type AgentTask = z.infer<typeof AgentTask>;
export const CheckinResponse = z.object({
  tasks: z.array(AgentTask),
  nextCheckinSeconds: z.number().int(),
  /** Volumes (refs) due for a full check: the agent fetches the escrowed key and proves it opens the volume. */
  verifyVolumes: z.array(z.string()).default([]),
  /** A new device credential (automatic rotation): the agent stores it and uses it from now on. */
  credential: z.string().optional(),
});

/** An agent asks to escrow a new key of its own for a volume (at enrollment, or to repair a broken escrow). */
export const StartEscrowRequest = z.object({ volumeRef: z.string().min(1).max(200), purpose: z.enum(['enroll', 'repair']) });

/** The full check: the escrowed key, fetched over the agent's channel (audited), never shown to a person. */
export const VerificationKeyRequest = z.object({ volumeRef: z.string().min(1).max(200) });
export const VerificationKeyResponse = z.object({ keyVersionId: z.string(), key: z.string() });
export const VerificationResultRequest = z.object({
  volumeRef: z.string().min(1).max(200),
  keyVersionId: z.string().max(100),
  works: z.boolean(),
});

/** Step 1 of a rotation: escrow the new key durably as `pending`, before it touches the disk. */
export const EscrowPendingRequest = z.object({
  key: z.string().min(1).max(200),
  protectorId: z.string().max(64).optional(),
});
export const EscrowPendingResponse = z.object({ keyVersionId: z.string() });

/** Step 2: report the outcome. `ok` promotes the pending version to active, retires the old. */
export const CompleteOperationRequest = z.discriminatedUnion('result', [
  z.object({
    result: z.literal('ok'),
    keyVersionId: z.string(),
    /** BitLocker: the id of the protector the new password was added as (known only after the add). */
    protectorId: z.string().max(64).optional(),
  }),
  z.object({ result: z.literal('wrong_key') }),
  z.object({ result: z.literal('error'), detail: z.string().max(500), cause: DeviceErrorCause.optional() }),
]);

/** The operation's state after the report (a repeated report of the same outcome answers it again). */
export const CompleteOperationResponse = z.object({ state: z.string() });

/** The full check's outcome as recorded; `stale`: the key checked is no longer the active one. */
export const VerificationResultResponse = z.object({ state: z.enum(['ok', 'broken', 'stale']) });
/** Upload of keys already on the disk (BitLocker protectors found with manage-bde). */
export const UploadProtectorsRequest = z.object({
  volumeRef: z.string(),
  protectors: z.array(z.object({ protectorId: z.string(), key: z.string().max(200) })).min(1).max(32),
});

/** How many of the uploaded protectors' keys were new to the escrow. */
export const UploadProtectorsResponse = z.object({ stored: z.number().int() });
