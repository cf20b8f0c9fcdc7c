/** Where a stored key stands, read from the device's operation and notice (pending, M4, or M3 with its cause). */
import type { Device, FailureCause, Operation } from '../lib/api/contract.ts';

export type Phase =
  | { name: 'editing' }
  | { name: 'saving' }
  | { name: 'pending'; operationId: string; since: number }
  | { name: 'verified' }
  | { name: 'failed'; cause: FailureCause; operationId?: string; since?: number };

export function immediateOutcome(operation: Operation): Phase | null {
  if (operation.state === 'succeeded') return { name: 'verified' };
  if (operation.state === 'failed') return { name: 'failed', cause: operation.failureCause ?? 'device_error' };
  return null;
}

export function samePhase(a: Phase, b: Phase): boolean {
  return a.name === b.name && (a.name !== 'failed' || (b.name === 'failed' && a.cause === b.cause));
}

/** The outcome of our operation as the device page reports it, or null while still pending. */
export function outcomeOf(device: Device, operationId: string, since: number): Phase | null {
  if (device.operation?.id === operationId) {
    const done = immediateOutcome(device.operation);
    if (done) return done;
  }
  const notice = device.notice;
  if (notice && Date.parse(notice.at) >= since - 2000) {
    if (notice.message === 'M4') return { name: 'verified' };
    return { name: 'failed', cause: notice.cause ?? 'device_error', operationId, since };
  }
  return null;
}
