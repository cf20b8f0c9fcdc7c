/**
 * An audit event's details in words: each field under its name in the reader's language
 * (`portal.audit.field.<key>`), times in the portal's date format, yes/no, ownership and roles
 * as the rest of the portal names them. A field the portal has no words for keeps its key.
 * Owners are not shown key version numbers.
 */
import { html } from 'hono/html';
import type { AuditEvent } from '../../lib/api/contract.ts';
import { formatTime } from '../../lib/i18n/format.ts';
import { isMessageId } from '../../lib/i18n/index.ts';
import type { AppContext } from '../http/context.ts';
import { tr, type Html } from './layout.ts';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const ROLES = new Set(['user', 'helpdesk', 'admin']);

function fieldName(c: AppContext, key: string): string {
  const id = `portal.audit.field.${key}`;
  return isMessageId(id) ? tr(c, id) : key;
}

function fieldValue(c: AppContext, key: string, value: unknown): string {
  if (typeof value === 'boolean') return tr(c, value ? 'portal.audit.yes' : 'portal.audit.no');
  if (typeof value === 'string') {
    if (ISO_TIME.test(value)) return formatTime(c.get('locale'), value) ?? value;
    if (key === 'ownership' && (value === 'personal' || value === 'corporate')) return tr(c, `ui.ownership.${value}`);
    if ((key === 'role' || key === 'from' || key === 'to') && ROLES.has(value)) return tr(c, `portal.role.${value as 'user' | 'helpdesk' | 'admin'}`);
    return value;
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Fields only IT sees: key version numbers mean nothing to an owner. */
const IT_ONLY = new Set(['version']);

export function auditDetails(c: AppContext, detail: AuditEvent['detail'], options: { forOwner: boolean }): Html[] {
  return Object.entries(detail)
    .filter(([k, v]) => v !== null && v !== undefined && !(options.forOwner && IT_ONLY.has(k)))
    .map(([k, v]) => html`<span data-field="${k}">${fieldName(c, k)}: ${fieldValue(c, k, v)}</span><br>`);
}
