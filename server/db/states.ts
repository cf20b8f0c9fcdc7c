/**
 * The values the service's state and kind columns hold, each defined once. Those the API also
 * speaks of (operation kinds and states, failure causes, key kinds, key statuses, escrow
 * problems, ownership) are the contract's own types; the rest exist only in the database.
 * A device's platform, key kind and ownership stay text in the row type (rows are built as text
 * in many places); they are read into their types here, checked.
 * Transitions between key-version and operation states: services/key-lifecycle.ts.
 */
import { KeyKind, Ownership, Platform, type EscrowProblem, type FailureCause, type KeyStatus, type OperationKind, type OperationState } from '../../lib/api/contract.ts';

export type { EscrowProblem, FailureCause, KeyStatus, OperationKind, OperationState };
export { KeyKind, Ownership, Platform };

/** A key version: typed by a person, made by the agent, in use, or kept until destroyed. */
export type KeyVersionState = 'candidate' | 'pending' | 'active' | 'retired' | 'rejected';

/** The states a key version starts in: a person's typed key, the agent's new key, a key read from the disk. */
export type NewKeyVersionState = Extract<KeyVersionState, 'candidate' | 'pending' | 'active'>;

/** Who put the key version there: a person (store), the agent (rotation), or the disk (upload). */
export type KeyVersionSource = 'user' | 'agent' | 'upload';

/** The states from which a key version never moves again (retention destroys them later). */
export const FINISHED_KEY_VERSION_STATES = ['retired', 'rejected'] as const satisfies readonly KeyVersionState[];

const finishedKeyVersionStates: ReadonlySet<KeyVersionState> = new Set(FINISHED_KEY_VERSION_STATES);

export function isFinishedKeyVersion(state: KeyVersionState): boolean {
  return finishedKeyVersionStates.has(state);
}

/** Key versions waiting for a rotation's outcome. */
export const UNCONFIRMED_KEY_VERSION_STATES = ['candidate', 'pending'] as const satisfies readonly KeyVersionState[];

/** Operations still waiting for the agent, or in its hands. */
export const OPEN_OPERATION_STATES = ['queued', 'in_progress'] as const satisfies readonly OperationState[];

/** Operations whose outcome is known. */
export const FINISHED_OPERATION_STATES = ['succeeded', 'failed'] as const satisfies readonly OperationState[];

/** The console's bulk actions (bulk-rotation.ts). */
export type BulkActionKind = 'rotate-escrow-missing';

export type BulkActionState = 'running' | 'done';

/** A KEK in the key ring: `current` seals new keys, `previous` still opens some, `retired` none. */
export type KekState = 'current' | 'previous' | 'retired';

/** The operating system a device runs, as enrollment stored it. */
export function devicePlatform(device: { platform: string }): Platform {
  return Platform.parse(device.platform);
}

/** The kind of key a device escrows, as enrollment stored it. */
export function deviceKeyKind(device: { key_kind: string }): KeyKind {
  return KeyKind.parse(device.key_kind);
}

/** Whether a device is the organisation's or the person's, as enrollment stored it. */
export function deviceOwnership(device: { ownership: string }): Ownership {
  return Ownership.parse(device.ownership);
}
