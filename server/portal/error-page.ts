/** A plain localized error page for portal requests that fail. */
import { html } from 'hono/html';
import type { ErrorCode } from '../../lib/api/contract.ts';
import type { AppContext } from '../http/context.ts';
import { page, tr, type Html } from './layout.ts';

export function renderErrorPage(c: AppContext, status: number, code: ErrorCode, detail?: string): Html {
  const message = detail ?? tr(c, `error.${code}`);
  const csrf = c.get('session')?.csrf ?? '';
  return page(c, {
    title: String(status),
    csrf,
    body: html`<p class="error">${message}</p><p><a href="/">${tr(c, 'portal.back')}</a></p>`,
  });
}
