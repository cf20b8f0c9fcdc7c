/** A plain localized error page for portal requests that fail, with a way back to the start page. */
import { html } from 'hono/html';
import type { ErrorCode } from '../../lib/api/contract.ts';
import type { AppContext } from '../http/context.ts';
import { page, tr, type Html } from './layout.ts';

export function renderErrorPage(c: AppContext, status: number, code: ErrorCode, detail?: string): Html {
  // A 404 outside the device pages is an unknown address, not an unknown device.
  const unknownPage = status === 404 && code === 'not_found' && !/^\/(admin\/)?devices\//.test(c.req.path);
  const message = unknownPage ? tr(c, 'portal.page_not_found') : detail ?? tr(c, `error.${code}`);
  const csrf = c.get('session')?.csrf ?? '';
  return page(c, {
    title: tr(c, status === 404 ? 'portal.not_found_title' : 'portal.error_title'),
    csrf,
    body: html`<div class="notice" id="error" data-status="${status}" role="alert"><p class="error">${message}</p></div><p><a href="/">${tr(c, 'portal.home')}</a></p>`,
  });
}
