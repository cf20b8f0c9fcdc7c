/**
 * The Keyward API contract (`/api/v1`): the shapes every client and the service agree on.
 * Zod schemas are the single source of truth; types are inferred from them. The service
 * validates every request body with these schemas; clients validate what they receive.
 * Written with `zod/mini` (functions instead of methods), so the extension's bundles carry
 * only the parts of zod these schemas use; the service parses, reports and documents them
 * (`z.toJSONSchema`) as any zod schema.
 */
import { z } from 'zod/mini';

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
  failureCause: z.nullable(FailureCause),
  /** What the device said about a failure, in its own (technical, English) words; never a key. */
  detail: z.optional(z.nullable(z.string())),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Operation = z.infer<typeof Operation>;

export const Volume = z.object({
  id: z.string(),
  /** Shown to people: "Macintosh HD", "C:", "/dev/nvme0n1p3". */
  name: z.string(),
  keyStatus: KeyStatus,
  activeVersion: z.nullable(z.int()),
  /** BitLocker Numerical Password protector IDs with an escrowed password. */
  protectorIds: z.array(z.string()),
  /** False for a volume the device reports as not encrypted (e.g. a non-LUKS member of a set). */
  encrypted: z.optional(z.boolean()),
  /** Set while the device reports that the escrowed key no longer works (`keyStatus` is `broken`). */
  escrowProblem: z.optional(z.nullable(EscrowProblem)),
  /** When the device last proved that the escrowed key opens the volume. */
  keyVerifiedAt: z.optional(z.nullable(z.string())),
});
export type Volume = z.infer<typeof Volume>;

/** The latest outcome shown on the device page: M3 (with its cause) or M4. */
export const DeviceNotice = z.object({
  message: z.enum(['M3', 'M4']),
  cause: z.nullable(FailureCause),
  at: z.string(),
  /** M4 only: what was done — a key the owner stored, a rotation the owner asked for, or one IT asked for. */
  origin: z.optional(z.nullable(z.enum(['stored', 'owner_rotation', 'it_rotation']))),
});
export type DeviceNotice = z.infer<typeof DeviceNotice>;

/** Longest hardware serial number accepted (SMBIOS strings of virtual machines run to about 60). */
export const SERIAL_NUMBER_MAX = 64;

/**
 * A device's hardware serial number as its firmware reports it: printable ASCII, no space at
 * either end (a space inside is kept: some virtual machines have them).
 */
export const SerialNumber = z.string().check(z.maxLength(SERIAL_NUMBER_MAX), z.regex(/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/));

export const Device = z.object({
  id: z.string(),
  name: z.string(),
  /** The hardware serial number the device's agent reported; null until it reports one. */
  serialNumber: z.optional(z.nullable(z.string())),
  platform: Platform,
  ownership: Ownership,
  keyKind: KeyKind,
  /** null when the owner's account was deleted (the device has no owner). */
  ownerId: z.nullable(z.string()),
  ownerName: z.nullable(z.string()),
  escrowEnabled: z.boolean(),
  lastCheckinAt: z.nullable(z.string()),
  keyStatus: KeyStatus,
  volumes: z.array(Volume),
  operation: z.nullable(Operation),
  notice: z.nullable(DeviceNotice),
  /** Set once IT retired the device: its credential is revoked and its keys are kept for the retention period. */
  retiredAt: z.optional(z.nullable(z.string())),
  updatedAt: z.string(),
});
export type Device = z.infer<typeof Device>;

export const Me = z.object({
  user: z.object({ id: z.string(), email: z.string(), name: z.string(), role: Role, /** Picked by the person; null until they pick one (then the browser's language is used). */ locale: z.nullable(Locale) }),
  org: z.object({
    name: z.string(),
    supportContact: z.string(),
    /** Policy `offlineCache`: may the extension keep keys in its vault (`keys`) or only statuses (`metadata`). */
    offlineCache: z.optional(z.enum(['keys', 'metadata'])),
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
  scope: z.optional(z.string()),
  cursor: z.optional(z.string()),
  since: z.optional(z.string()),
  q: z.optional(z.string()),
  platform: z.optional(z.string()),
  ownership: z.optional(z.string()),
  status: z.optional(z.string()),
  stale: z.optional(z.string()),
  escrowMissing: z.optional(z.string()),
  sort: z.optional(z.string()),
  after: z.optional(z.string()),
  limit: z.optional(z.string()),
});
export type DeviceListQuery = z.input<typeof DeviceListQuery>;

/** POST /api/v1/devices/:id/rotate — which volume (default: the device's first). */
export const RotateRequest = z.object({ volumeId: z.optional(z.string().check(z.maxLength(100))) });
export type RotateRequest = z.infer<typeof RotateRequest>;

/** `PUT /api/v1/me/locale`: the person's language for portal and extension; null goes back to following the browser. */
export const SetLocaleRequest = z.object({ locale: z.nullable(Locale) });
export type SetLocaleRequest = z.infer<typeof SetLocaleRequest>;

/** `cursor`: the delta-sync cursor to send next time; `next`: the following page of `scope=all`. */
export const DeviceList = z.object({ devices: z.array(Device), cursor: z.string(), next: z.optional(z.string()) });
export type DeviceList = z.infer<typeof DeviceList>;

/** POST /api/v1/devices/:id/keys — store a personal recovery key (becomes a `candidate`). */
export const StoreKeyRequest = z.object({
  volumeId: z.optional(z.string()),
  key: z.string().check(z.maxLength(200)),
  confirmKey: z.string().check(z.maxLength(200)),
  idempotencyKey: z.optional(z.string().check(z.minLength(8), z.maxLength(100))),
});
export type StoreKeyRequest = z.infer<typeof StoreKeyRequest>;

/** POST /api/v1/devices/:id/reveal — IT must give a reason; owners may. */
export const RevealRequest = z.object({
  volumeId: z.optional(z.string()),
  reason: z.optional(z.string().check(z.maxLength(500))),
  /** BitLocker: reveal the password of this protector (default: the newest active key). */
  protectorId: z.optional(z.string().check(z.maxLength(64))),
});
export type RevealRequest = z.infer<typeof RevealRequest>;

export const RevealedKey = z.object({
  deviceId: z.string(),
  volumeId: z.string(),
  volumeName: z.string(),
  kind: KeyKind,
  version: z.int(),
  /** Formatted for display (grouped). */
  key: z.string(),
  protectorId: z.nullable(z.string()),
  revealedAt: z.string(),
  /** Seconds until clients must hide the key again (five minutes). */
  hideAfterSeconds: z.int(),
});
export type RevealedKey = z.infer<typeof RevealedKey>;

/** Most offline reveals one report may carry; the extension sends larger backlogs in several. */
export const OFFLINE_REVEALS_PER_REPORT = 100;

/**
 * A moment as the audit filters and offline reports give it: `2026-11-20`, `2026-11-20T10:00`,
 * `2026-11-20T10:00:00.000Z` or with an offset; without a zone it is UTC. The date must exist.
 */
export const Instant = z.string().check(z.maxLength(40), z.refine((value) => instantMs(value) !== null, { message: 'not a date' }));

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
    deviceId: z.string().check(z.maxLength(100)),
    volumeId: z.string().check(z.maxLength(100)),
    version: z.int().check(z.gte(1)),
    at: Instant,
    idempotencyKey: z.string().check(z.minLength(8), z.maxLength(100)),
  })).check(z.maxLength(OFFLINE_REVEALS_PER_REPORT)),
});

export type OfflineRevealReport = z.infer<typeof OfflineRevealReport>;

export const OfflineRevealResponse = z.object({ recorded: z.int(), duplicates: z.int() });

/** POST /oauth/token request, as a form or JSON: a code with its PKCE verifier, or a refresh token. */
export const TokenRequest = z.discriminatedUnion('grant_type', [
  z.object({
    grant_type: z.literal('authorization_code'),
    code: z.string().check(z.minLength(10), z.maxLength(200)),
    code_verifier: z.string().check(z.minLength(43), z.maxLength(128)),
    redirect_uri: z.string().check(z.maxLength(300)),
    client_id: z.string().check(z.maxLength(100)),
  }),
  z.object({ grant_type: z.literal('refresh_token'), refresh_token: z.string().check(z.minLength(10), z.maxLength(200)), client_id: z.optional(z.string().check(z.maxLength(100))) }),
]);
export type TokenRequest = z.infer<typeof TokenRequest>;

/** POST /oauth/token answer (RFC 6749 §5.1). */
export const TokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.int(),
  refresh_token: z.string(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

/** One entry of the append-only audit log (GET /api/v1/audit). */
export const AuditEvent = z.object({
  seq: z.int(),
  at: z.string(),
  actorId: z.nullable(z.string()),
  actorName: z.nullable(z.string()),
  actorKind: z.enum(['user', 'agent', 'system']),
  action: z.string(),
  deviceId: z.nullable(z.string()),
  /** The device's name now (null for events about no device). */
  deviceName: z.nullable(z.string()),
  volumeId: z.nullable(z.string()),
  detail: z.record(z.string(), z.unknown()),
  hash: z.string(),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

/** Largest page of audit events one request may ask for. */
export const AUDIT_PAGE_MAX = 200;

/** A positive integer given as query text (`before`, `limit`). */
const QueryInteger = z.pipe(z.pipe(z.string().check(z.regex(/^[0-9]{1,15}$/)), z.transform(Number)), z.int().check(z.gte(1)));

/**
 * Filters of GET /api/v1/audit (and of the admin console's audit page and export): all given
 * ones must match. `from` is inclusive, `to` exclusive (a date alone as `to` includes that day).
 * `before`: only events older than this `seq` (the `nextCursor` of the previous page).
 */
export const AuditQuery = z.strictObject({
  deviceId: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
  actorId: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
  action: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
  from: z.optional(Instant),
  to: z.optional(Instant),
  before: z.optional(QueryInteger),
  limit: z.optional(z.pipe(QueryInteger, z.number().check(z.lte(AUDIT_PAGE_MAX)))),
});
export type AuditQuery = z.input<typeof AuditQuery>;

/** One page of audit events, newest first; `nextCursor` is the `before` of the next (older) page, null on the last. */
export const AuditList = z.object({ events: z.array(AuditEvent), nextCursor: z.nullable(z.int()) });
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
  error: z.object({ code: ErrorCode, message: z.string(), field: z.optional(z.string()) }),
});
export type ApiError = z.infer<typeof ApiError>;

// ---------------------------------------------------------------------------------------
// Agent API (`/api/v1/agent`), authenticated with the per-device credential (Bearer).

/** The cheap check of the escrowed key the agent makes at every check-in (its slot/protector is still there, unchanged). */
export const EscrowCheck = z.object({ state: z.enum(['ok', 'broken']), problem: z.optional(EscrowProblem) });
export type EscrowCheck = z.infer<typeof EscrowCheck>;

export const AgentVolumeReport = z.object({
  /** Stable identifier the driver uses for the volume ("C:", a LUKS UUID, "disk1s1"). */
  ref: z.string().check(z.minLength(1), z.maxLength(200)),
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  encrypted: z.boolean(),
  /** BitLocker Numerical Password protector IDs currently on the volume. */
  protectorIds: z._default(z.array(z.string()).check(z.maxLength(64)), []),
  /** Absent when the agent has nothing to compare with (no escrowed key it created or verified). */
  escrowCheck: z.optional(EscrowCheck),
});
export type AgentVolumeReport = z.infer<typeof AgentVolumeReport>;

export const EnrollRequest = z.object({
  token: z.string().check(z.minLength(8), z.maxLength(200)),
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  platform: Platform,
  keyKind: KeyKind,
  volumes: z.array(AgentVolumeReport).check(z.minLength(1), z.maxLength(32)),
  /** Absent when the agent cannot read it (a virtual machine, no permission). */
  serialNumber: z.optional(SerialNumber),
});
export const EnrollResponse = z.object({ deviceId: z.string(), credential: z.string() });

export const CheckinRequest = z.object({
  volumes: z.array(AgentVolumeReport).check(z.maxLength(32)),
  /**
   * Operations this agent is still working on. When present, any other operation handed to the
   * device and not finished is handed out again (the agent that took it is gone).
   */
  inHand: z.optional(z.array(z.string().check(z.maxLength(100))).check(z.maxLength(64))),
  /** The hardware serial number as read now; absent when unknown (the one stored is kept). */
  serialNumber: z.optional(SerialNumber),
});

/** Work for the agent. `candidateKey` is present for verify-and-rotate (normalized form). */
export const AgentTask = z.object({
  operationId: z.string(),
  kind: OperationKind,
  volumeRef: z.string(),
  candidateKey: z.nullable(z.string()),
  /** The currently escrowed key the agent may use as its authority to rotate. */
  currentKey: z.nullable(z.string()),
});
export type AgentTask = z.infer<typeof AgentTask>;
export const CheckinResponse = z.object({
  tasks: z.array(AgentTask),
  nextCheckinSeconds: z.int(),
  /** Volumes (refs) due for a full check: the agent fetches the escrowed key and proves it opens the volume. */
  verifyVolumes: z._default(z.array(z.string()), []),
  /** A new device credential (automatic rotation): the agent stores it and uses it from now on. */
  credential: z.optional(z.string()),
});

/** An agent asks to escrow a new key of its own for a volume (at enrollment, or to repair a broken escrow). */
export const StartEscrowRequest = z.object({ volumeRef: z.string().check(z.minLength(1), z.maxLength(200)), purpose: z.enum(['enroll', 'repair']) });

/** The full check: the escrowed key, fetched over the agent's channel (audited), never shown to a person. */
export const VerificationKeyRequest = z.object({ volumeRef: z.string().check(z.minLength(1), z.maxLength(200)) });
export const VerificationKeyResponse = z.object({ keyVersionId: z.string(), key: z.string() });
export const VerificationResultRequest = z.object({
  volumeRef: z.string().check(z.minLength(1), z.maxLength(200)),
  keyVersionId: z.string().check(z.maxLength(100)),
  works: z.boolean(),
});

/** Step 1 of a rotation: escrow the new key durably as `pending`, before it touches the disk. */
export const EscrowPendingRequest = z.object({
  key: z.string().check(z.minLength(1), z.maxLength(200)),
  protectorId: z.optional(z.string().check(z.maxLength(64))),
});
export const EscrowPendingResponse = z.object({ keyVersionId: z.string() });

/** Step 2: report the outcome. `ok` promotes the pending version to active, retires the old. */
export const CompleteOperationRequest = z.discriminatedUnion('result', [
  z.object({
    result: z.literal('ok'),
    keyVersionId: z.string(),
    /** BitLocker: the id of the protector the new password was added as (known only after the add). */
    protectorId: z.optional(z.string().check(z.maxLength(64))),
  }),
  z.object({ result: z.literal('wrong_key') }),
  z.object({ result: z.literal('error'), detail: z.string().check(z.maxLength(500)), cause: z.optional(DeviceErrorCause) }),
]);

/** The operation's state after the report (a repeated report of the same outcome answers it again). */
export const CompleteOperationResponse = z.object({ state: z.string() });

/** The full check's outcome as recorded; `stale`: the key checked is no longer the active one. */
export const VerificationResultResponse = z.object({ state: z.enum(['ok', 'broken', 'stale']) });
/** Upload of keys already on the disk (BitLocker protectors found with manage-bde). */
export const UploadProtectorsRequest = z.object({
  volumeRef: z.string(),
  protectors: z.array(z.object({ protectorId: z.string(), key: z.string().check(z.maxLength(200)) })).check(z.minLength(1), z.maxLength(32)),
});

/** How many of the uploaded protectors' keys were new to the escrow. */
export const UploadProtectorsResponse = z.object({ stored: z.int() });
