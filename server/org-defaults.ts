/** The policy a new organisation starts with, whoever creates it (`keyward init`, the demo and test seeds). */
import type { OrgTable } from './db/schema.ts';

export const NEW_ORG_POLICY = {
  escrow_enabled: 1,
  rotate_after_reveal: 1,
  checkin_threshold_minutes: 60 * 24,
  offline_cache: 'keys',
} as const satisfies Partial<OrgTable>;
