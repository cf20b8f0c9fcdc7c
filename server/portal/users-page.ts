/**
 * The admins' users page: every account (search by email or name, 50 a page) with its role, how
 * it signs in (password, the organisation's provider) and its state; adding a local account;
 * and per account: change the role, disable / re-enable, give a temporary password (shown once),
 * delete (after a confirmation naming the devices that will have no owner). The actions live in
 * services/accounts.ts: each is audited, CSRF-checked here, and never leaves the organisation
 * without an active admin.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { z } from 'zod';
import { Role } from '../../lib/api/contract.ts';
import type { MessageId } from '../../lib/i18n/index.ts';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import type { AppContext, AppEnv } from '../http/context.ts';
import { findUser, listUsers } from '../services/users.ts';
import { changeRole, createAccount, deleteAccount, disableAccount, enableAccount, ownedDeviceCount, resetPassword, type Outcome, type Refusal } from '../services/accounts.ts';
import { loadSsoSettings } from '../auth/oidc-settings.ts';
import type { PortalSession } from '../auth/sessions.ts';
import type { UserTable } from '../db/schema.ts';
import { changeBy, formatTime } from './session.ts';
import { csrfField, page, tr, type Html } from './layout.ts';
import { csrfForm, requireRole, requireSession } from './guards.ts';
import { parseForm, text, trimmed } from './forms.ts';

const ROLES = Role.options;
const PAGE_SIZE = 50;

const NOTICES: Record<string, MessageId> = {
  created: 'portal.user.created',
  role: 'portal.user.role_changed',
  disabled: 'portal.user.disabled',
  enabled: 'portal.user.enabled',
  deleted: 'portal.user.deleted',
};

const REFUSALS: Record<Exclude<Refusal, 'not_found' | 'forbidden'>, MessageId> = {
  last_admin: 'portal.user.last_admin',
  self: 'portal.user.not_yourself',
  break_glass: 'portal.user.break_glass',
};

type Listing = { users: UserTable[]; total: number; q: string; page: number };

/** `?q=` (part of an email or name) and `?page=` (from 1). */
function listingQuery(c: AppContext): { q: string; page: number } {
  const q = (c.req.query('q') ?? '').trim().slice(0, 100);
  const page = Number(c.req.query('page') ?? '1');
  return { q, page: Number.isInteger(page) && page >= 1 && page <= 100_000 ? page : 1 };
}

/** Checked in this order; a bad field is named in the 400 answer. */
const NewUserForm = z.object({
  email: trimmed().transform((email) => email.toLowerCase()).pipe(z.string().max(200).regex(/^[^@\s]+@[^@\s]+$/)),
  name: trimmed().pipe(z.string().min(1).max(200)),
  password: text().pipe(z.string().min(12).max(200)),
  role: Role,
});

const RoleForm = z.object({ role: Role });

function roleSelect(c: AppContext, name: string, selected: string, id?: string): Html {
  return html`<select name="${name}" ${id ? html`id="${id}"` : html`aria-label="${tr(c, 'portal.user.role')}"`}>${ROLES.map((r) => html`<option value="${r}" ${r === selected ? 'selected' : ''}>${tr(c, `portal.role.${r}`)}</option>`)}</select>`;
}

function stateCell(c: AppContext, u: UserTable): Html {
  const locale = c.get('locale');
  if (u.disabled_at) return html`<span class="error" data-state="disabled">${tr(c, 'portal.user.state_disabled', { time: formatTime(locale, u.disabled_at) ?? '' })}</span>`;
  if (u.password_temporary_until) return html`<span data-state="temporary">${tr(c, 'portal.user.state_temporary', { time: formatTime(locale, u.password_temporary_until) ?? '' })}</span>`;
  return html`<span data-state="active">${tr(c, 'portal.user.state_active')}</span>`;
}

function signInCell(c: AppContext, u: UserTable, provider: string): string {
  const ways = [u.password_hash !== '' ? tr(c, 'portal.sessions.method_password') : null, u.oidc_subject !== null ? provider || tr(c, 'portal.sso.provider_fallback') : null];
  return ways.filter((w) => w !== null).join(', ') || '—';
}

function pageLink(listing: Listing, page: number): string {
  const params = new URLSearchParams();
  if (listing.q) params.set('q', listing.q);
  if (page > 1) params.set('page', String(page));
  const query = params.toString();
  return `/admin/users${query ? `?${query}` : ''}`;
}

function pager(c: AppContext, listing: Listing): Html {
  const first = listing.total === 0 ? 0 : (listing.page - 1) * PAGE_SIZE + 1;
  const last = Math.min(listing.page * PAGE_SIZE, listing.total);
  return html`<nav class="actions" id="users-pager" aria-label="${tr(c, 'portal.user.pages')}">
    <span id="users-count">${tr(c, 'portal.user.showing', { first, last, total: listing.total })}</span>
    ${listing.page > 1 ? html`<a href="${pageLink(listing, listing.page - 1)}" id="users-previous" rel="prev">${tr(c, 'portal.user.previous')}</a>` : ''}
    ${last < listing.total ? html`<a href="${pageLink(listing, listing.page + 1)}" id="users-next" rel="next">${tr(c, 'portal.user.next')}</a>` : ''}
  </nav>`;
}

function usersPage(c: AppContext, session: PortalSession, listing: Listing, provider: string, notice: string | null, error: string | null): Html {
  const csrf = session.csrf;
  const action = (u: UserTable, path: string, label: MessageId, id: string) =>
    html`<form method="post" action="/admin/users/${u.id}/${path}" class="inline">${csrfField(csrf)}<button type="submit" data-action="${id}">${tr(c, label)}</button></form>`;
  return page(c, {
    title: tr(c, 'portal.users_title'),
    csrf,
    body: html`${notice ? html`<p class="info" role="status">${notice}</p>` : ''}${error ? html`<p class="error" role="alert" id="users-error">${error}</p>` : ''}
      <form method="get" action="/admin/users" class="actions" id="user-search" role="search">
        <span class="field"><label for="user-q">${tr(c, 'portal.user.search')}</label><input type="search" id="user-q" name="q" maxlength="100" value="${listing.q}"></span>
        <button type="submit">${tr(c, 'portal.user.search_button')}</button>
      </form>
      ${pager(c, listing)}
      <div class="scroll"><table id="users"><tr><th scope="col">${tr(c, 'ui.email')}</th><th scope="col">${tr(c, 'portal.user.name')}</th><th scope="col">${tr(c, 'portal.user.role')}</th><th scope="col">${tr(c, 'portal.user.sign_in')}</th><th scope="col">${tr(c, 'portal.user.state')}</th><th scope="col">${tr(c, 'portal.actions')}</th></tr>
      ${listing.users.map(
        (u) => html`<tr data-user="${u.email}" data-user-id="${u.id}"><td>${u.email}</td><td>${u.name}</td><td>
          <form method="post" action="/admin/users/${u.id}/role" class="inline">${csrfField(csrf)}${roleSelect(c, 'role', u.role)} <button type="submit">${tr(c, 'portal.user.change_role')}</button></form>
        </td><td data-cell="sign-in">${signInCell(c, u, provider)}</td><td data-cell="state">${stateCell(c, u)}</td><td>${
          u.id === session.user.id
            ? html`<span class="muted">${tr(c, 'portal.user.you')}</span>`
            : html`${u.disabled_at ? action(u, 'enable', 'portal.user.enable', 'enable') : action(u, 'disable', 'portal.user.disable', 'disable')}
              ${action(u, 'reset-password', 'portal.user.reset_password', 'reset-password')}
              <a href="/admin/users/${u.id}/delete" data-action="delete">${tr(c, 'portal.user.delete')}</a>`
        }</td></tr>`,
      )}</table></div>
      ${pager(c, listing)}
      <form method="post" action="/admin/users" class="card" id="add-user">
        <h2>${tr(c, 'portal.user.create')}</h2>
        ${csrfField(csrf)}
        <label for="new-email">${tr(c, 'ui.email')}</label><input type="email" id="new-email" name="email" required>
        <label for="new-name">${tr(c, 'portal.user.name')}</label><input type="text" id="new-name" name="name" maxlength="200" required>
        <label for="new-role">${tr(c, 'portal.user.role')}</label>${roleSelect(c, 'role', 'user', 'new-role')}
        <label for="new-password">${tr(c, 'portal.user.password')}</label><input type="password" id="new-password" name="password" minlength="12" autocomplete="new-password" required>
        <div class="actions"><button type="submit">${tr(c, 'portal.user.create')}</button></div>
      </form>`,
  });
}

export function usersPages(deps: AppDeps): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  const admin = [requireSession(), requireRole('admin')] as const;
  const adminForm = [...admin, csrfForm(deps.config.maxBodyBytes)] as const;

  async function render(c: AppContext, session: PortalSession, notice: string | null, error: string | null, status: 200 | 409 = 200) {
    const { q, page } = listingQuery(c);
    const [found, sso] = await Promise.all([listUsers(deps, q, page, PAGE_SIZE), loadSsoSettings(deps.db)]);
    return c.html(usersPage(c, session, { ...found, q, page }, sso?.name ?? '', notice, error), status);
  }

  /** A refused change: 404/403 for an unknown account or an actor no longer admin, else the page saying why (409). */
  function refused(c: AppContext, outcome: Extract<Outcome<unknown>, { ok: false }>) {
    if (outcome.refusal === 'not_found') throw new ApiFailure(404, 'not_found', { detail: tr(c, 'portal.user.not_found') });
    if (outcome.refusal === 'forbidden') throw new ApiFailure(403, 'forbidden');
    return render(c, c.get('signedIn'), null, tr(c, REFUSALS[outcome.refusal]), 409);
  }

  r.get('/users', ...admin, async (c) => {
    const done = NOTICES[c.req.query('done') ?? ''];
    return render(c, c.get('signedIn'), done ? tr(c, done) : null, null);
  });

  r.post('/users', ...adminForm, async (c) => {
    const account = parseForm(NewUserForm, c.get('form'));
    if (!(await createAccount(deps, account, changeBy(c, deps)))) return render(c, c.get('signedIn'), null, tr(c, 'portal.user.exists'), 409);
    return c.redirect('/admin/users?done=created', 303);
  });

  r.post('/users/:id/role', ...adminForm, async (c) => {
    const { role } = parseForm(RoleForm, c.get('form'));
    const outcome = await changeRole(deps, c.req.param('id'), role, changeBy(c, deps));
    if (!outcome.ok) return refused(c, outcome);
    return c.redirect('/admin/users?done=role', 303);
  });

  r.post('/users/:id/disable', ...adminForm, async (c) => {
    const outcome = await disableAccount(deps, c.req.param('id'), changeBy(c, deps));
    if (!outcome.ok) return refused(c, outcome);
    return c.redirect('/admin/users?done=disabled', 303);
  });

  r.post('/users/:id/enable', ...adminForm, async (c) => {
    const outcome = await enableAccount(deps, c.req.param('id'), changeBy(c, deps));
    if (!outcome.ok) return refused(c, outcome);
    return c.redirect('/admin/users?done=enabled', 303);
  });

  // The temporary password is shown on this answer only: never in a URL, a log or the audit event.
  r.post('/users/:id/reset-password', ...adminForm, async (c) => {
    const outcome = await resetPassword(deps, c.req.param('id'), changeBy(c, deps));
    if (!outcome.ok) return refused(c, outcome);
    const { password, validUntil, user } = outcome.value;
    return c.html(
      page(c, {
        title: tr(c, 'portal.user.reset_title', { name: user.name }),
        csrf: c.get('signedIn').csrf,
        body: html`<div class="card" id="temporary">
            <p>${tr(c, 'portal.user.reset_explain', { email: user.email, time: formatTime(c.get('locale'), validUntil) ?? '' })}</p>
            <p class="key"><code id="temporary-password">${password}</code></p>
            <p class="muted">${tr(c, 'portal.user.reset_once')}</p>
          </div>
          <p><a href="/admin/users">← ${tr(c, 'portal.users_title')}</a></p>`,
      }),
    );
  });

  r.get('/users/:id/delete', ...admin, async (c) => {
    const session = c.get('signedIn');
    const user = await findUser(deps, c.req.param('id'));
    if (!user) throw new ApiFailure(404, 'not_found', { detail: tr(c, 'portal.user.not_found') });
    const devices = await ownedDeviceCount(deps, user.id);
    return c.html(
      page(c, {
        title: tr(c, 'portal.user.delete_title', { name: user.name }),
        csrf: session.csrf,
        body: html`<form method="post" action="/admin/users/${user.id}/delete" class="card" id="delete-user">
            ${csrfField(session.csrf)}
            <p>${tr(c, 'portal.user.delete_explain', { name: user.name, email: user.email })}</p>
            <p id="delete-devices">${tr(c, 'portal.user.delete_devices', { count: devices })}</p>
            <div class="actions"><button type="submit" class="danger" id="confirm-delete">${tr(c, 'portal.user.delete_confirm')}</button> <a href="/admin/users">${tr(c, 'portal.back')}</a></div>
          </form>`,
      }),
    );
  });

  r.post('/users/:id/delete', ...adminForm, async (c) => {
    const outcome = await deleteAccount(deps, c.req.param('id'), changeBy(c, deps));
    if (!outcome.ok) return refused(c, outcome);
    return c.redirect('/admin/users?done=deleted', 303);
  });

  return r;
}
