/**
 * The Policy page's "allowed browser extensions" section: the OAuth client allow-list with a
 * Remove button per entry and a form to add one (extension id, name, browser). Admins only,
 * CSRF-checked, each change audited as `policy.clients_changed` (services/oauth-client-admin.ts).
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import type { AppContext, AppEnv } from '../http/context.ts';
import { parseClientForm } from '../auth/oauth-clients.ts';
import { browserName, CLIENT_BROWSERS, type OAuthClient } from '../auth/extension-clients.ts';
import { addClient, removeClient } from '../services/oauth-client-admin.ts';
import { changeBy } from './session.ts';
import { csrfForm, requireRole, requireSession } from './guards.ts';
import { parseForm, text } from './forms.ts';
import { csrfField, tr, type Html } from './layout.ts';

const NOTICES = { added: 'portal.clients.added', removed: 'portal.clients.removed' } as const;

/** The notice after an add or remove (`?clients=added|removed`), or null. */
export function clientsNotice(c: AppContext): string | null {
  const done = c.req.query('clients');
  return done === 'added' || done === 'removed' ? tr(c, NOTICES[done]) : null;
}

export function clientsSection(c: AppContext, clients: OAuthClient[], csrf: string): Html {
  return html`<section class="card" id="clients" aria-labelledby="clients-title">
    <h2 id="clients-title">${tr(c, 'portal.clients.title')}</h2>
    <p class="muted">${tr(c, 'portal.clients.intro')}</p>
    ${clients.length
      ? html`<div class="scroll"><table id="client-list">
        <tr><th scope="col">${tr(c, 'portal.clients.name')}</th><th scope="col">${tr(c, 'portal.client.browser')}</th><th scope="col">${tr(c, 'portal.client.extension_id')}</th><th scope="col">${tr(c, 'portal.clients.redirect')}</th><th scope="col">${tr(c, 'portal.actions')}</th></tr>
        ${clients.map((client) => html`<tr data-client="${client.id}"><td>${client.name}</td><td>${browserName(client.browser)}</td><td><code>${client.id}</code></td><td><code>${client.redirectUri}</code></td>
          <td><form method="post" action="/admin/clients/remove">${csrfField(csrf)}<input type="hidden" name="extensionId" value="${client.id}"><button type="submit">${tr(c, 'portal.clients.remove')}</button></form></td></tr>`)}
      </table></div>`
      : html`<p class="error" id="no-clients">${tr(c, 'portal.clients.none')}</p>`}
    <form method="post" action="/admin/clients" id="client-form">
      ${csrfField(csrf)}
      <label for="clientBrowser">${tr(c, 'portal.client.browser')}</label>
      <select id="clientBrowser" name="browser">${CLIENT_BROWSERS.map((b) => html`<option value="${b}">${browserName(b)}</option>`)}</select>
      <label for="clientExtensionId">${tr(c, 'portal.client.extension_id')}</label>
      <p class="hint" id="clientExtensionIdHint">${tr(c, 'portal.clients.id_hint')}</p>
      <input type="text" id="clientExtensionId" name="extensionId" maxlength="150" aria-describedby="clientExtensionIdHint" required>
      <label for="clientName">${tr(c, 'portal.clients.name')}</label>
      <input type="text" id="clientName" name="name" maxlength="100" required>
      <div class="actions"><button type="submit">${tr(c, 'portal.clients.add')}</button></div>
    </form>
  </section>`;
}

const RemoveClientForm = z.object({ extensionId: text() });

export function clientPages(deps: AppDeps): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  const adminForm = [requireSession(), requireRole('admin'), csrfForm(deps.config.maxBodyBytes)] as const;

  r.post('/clients', ...adminForm, async (c) => {
    const client = parseClientForm(c.get('form'));
    const added = await addClient(deps, client, changeBy(c, deps));
    if (!added) throw new ApiFailure(409, 'conflict', { field: 'extensionId', detail: tr(c, 'portal.clients.exists') });
    return c.redirect('/admin/policy?clients=added#clients', 303);
  });

  // The id travels in the form, not the path: a Firefox id may hold characters a path would need escaped.
  r.post('/clients/remove', ...adminForm, async (c) => {
    const { extensionId } = parseForm(RemoveClientForm, c.get('form'));
    const removed = await removeClient(deps, extensionId, changeBy(c, deps));
    if (!removed) throw new ApiFailure(404, 'not_found', { field: 'extensionId', detail: tr(c, 'portal.clients.not_listed') });
    return c.redirect('/admin/policy?clients=removed#clients', 303);
  });

  return r;
}
