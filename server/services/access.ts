/**
 * Who may see what (DESIGN.md › People): the only place these rules live. Owners act on their
 * own devices; helpdesk and admins list and rotate every device and view keys only of
 * corporate devices, with a reason; nobody else learns that a device exists. The audit log is
 * the admins'; an ordinary user reads only the events of their own devices.
 */
import type { Role } from '../../lib/api/contract.ts';
import { ApiFailure } from '../errors.ts';

export type UserActor = { id: string; role: Role };
export type DeviceFacts = { ownerId: string | null; ownership: string };

/** The roles of IT: the admin console, every device, keys of corporate devices. */
export const IT_ROLES = ['helpdesk', 'admin'] as const satisfies readonly Role[];

export function hasRole(user: UserActor, roles: readonly Role[]): boolean {
  return roles.includes(user.role);
}

export function isIt(user: UserActor): boolean {
  return hasRole(user, IT_ROLES);
}

/** Manage the organisation: people, policy, allowed extensions, single sign-on. */
export function isAdmin(user: UserActor): boolean {
  return user.role === 'admin';
}

export function isOwner(user: UserActor, device: DeviceFacts): boolean {
  return user.id === device.ownerId;
}

/** View the device's metadata and status. */
export function assertCanView(user: UserActor, device: DeviceFacts): void {
  if (!isOwner(user, device) && !isIt(user)) throw new ApiFailure(404, 'not_found');
}

/** Store a personal key: the owner only. */
export function assertCanStore(user: UserActor, device: DeviceFacts): void {
  if (isOwner(user, device)) return;
  if (isIt(user)) throw new ApiFailure(403, 'forbidden');
  throw new ApiFailure(404, 'not_found');
}

/** Ask for a rotation or a check-in: the owner and IT. */
export function assertCanRotate(user: UserActor, device: DeviceFacts): void {
  assertCanView(user, device);
}

/** Shortest reason IT may give for viewing a key, in characters: enough for a ticket number and who asked. */
export const MIN_REVEAL_REASON = 10;

/** View a key: the owner; IT only for corporate devices and only with a reason of at least MIN_REVEAL_REASON characters. */
export function assertCanReveal(user: UserActor, device: DeviceFacts, reason: string | undefined): void {
  if (isOwner(user, device)) return;
  if (!isIt(user)) throw new ApiFailure(404, 'not_found');
  if (device.ownership !== 'corporate') throw new ApiFailure(403, 'personal_device');
  const given = reason?.trim() ?? '';
  if (!given) throw new ApiFailure(400, 'reason_required', { field: 'reason' });
  // Counted in characters, not UTF-16 units, so a reason in Japanese needs as many as one in English.
  if ([...given].length < MIN_REVEAL_REASON) throw new ApiFailure(400, 'reason_too_short', { field: 'reason', params: { min: MIN_REVEAL_REASON } });
}

/** Which part of the audit log a person may read; `null`: none of it. */
export type AuditScope = { kind: 'all' } | { kind: 'own_devices'; ownerId: string };

/** Read the audit log: admins all of it, helpdesk none of it, users the events of their own devices. */
export function auditScopeOf(user: UserActor): AuditScope | null {
  if (user.role === 'admin') return { kind: 'all' };
  if (user.role === 'helpdesk') return null;
  return { kind: 'own_devices', ownerId: user.id };
}

export function readsWholeAuditLog(user: UserActor): boolean {
  return auditScopeOf(user)?.kind === 'all';
}
