/**
 * Admin-only user management for local accounts: the list with roles, adding a user with an
 * initial password (scrypt-hashed), and changing a role — never leaving the organisation
 * without an admin. Every change is audited.
 */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { html } from 'hono/html';
import { Role } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { clientIp, type AppContext, type AppEnv } from '../http/context.ts';
import { readForm } from '../http/body.ts';
import { appendAudit } from '../audit.ts';
import { hashPassword } from '../crypto/secrets.ts';
import { getOrg } from '../services/device-views.ts';
import type { UserTable } from '../db/schema.ts';
import { adminSession, assertCsrf } from './session.ts';
import { csrfField, page, tr, type Html } from './layout.ts';
import { toLogin } from './device-pages.ts';

const ROLES = Role.options;

function roleSelect(c: AppContext, name: string, selected: string): Html {
  return html`<select name="${name}" aria-label="${tr(c, 'portal.user.role')}">${ROLES.map((r) => html`<option value="${r}" ${r === selected ? 'selected' : ''}>${tr(c, `portal.role.${r}`)}</option>`)}</select>`;
}

function usersPage(c: AppContext, users: UserTable[], csrf: string, notice: string | null, error: string | null): Html {
  return page(c, {
    title: tr(c, 'portal.users_title'),
    csrf,
    body: html`${notice ? html`<p class="info" role="status">${notice}</p>` : ''}${error ? html`<p class="error" role="alert" id="users-error">${error}</p>` : ''}
      <table id="users"><tr><th>${tr(c, 'ui.email')}</th><th>${tr(c, 'portal.user.name')}</th><th>${tr(c, 'portal.user.role')}</th></tr>
      ${users.map(
        (u) => html`<tr data-user="${u.email}"><td>${u.email}</td><td>${u.name}</td><td>
          <form method="post" action="/admin/users/${u.id}/role" class="inline">${csrfField(csrf)}${roleSelect(c, 'role', u.role)} <button type="submit">${tr(c, 'portal.user.change_role')}</button></form>
        </td></tr>`,
      )}</table>
      <form method="post" action="/admin/users" class="card" id="add-user">
        <h2>${tr(c, 'portal.user.create')}</h2>
        ${csrfField(csrf)}
        <label for="new-email">${tr(c, 'ui.email')}</label><input type="email" id="new-email" name="email" required>
        <label for="new-name">${tr(c, 'portal.user.name')}</label><input type="text" id="new-name" name="name" maxlength="200" required>
        <label for="new-role">${tr(c, 'portal.user.role')}</label>${roleSelect(c, 'role', 'user')}
        <label for="new-password">${tr(c, 'portal.user.password')}</label><input type="password" id="new-password" name="password" minlength="12" autocomplete="new-password" required>
        <div class="actions"><button type="submit">${tr(c, 'portal.user.create')}</button></div>
      </form>`,
  });
}

export function usersPages(deps: AppDeps): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  const max = deps.config.maxBodyBytes;

  const allUsers = () => deps.db.selectFrom('users').selectAll().orderBy('email').execute();

  r.get('/users', async (c) => {
    const session = adminSession(c);
    if (!session) return toLogin(c);
    const notice = c.req.query('done') === 'created' ? tr(c, 'portal.user.created') : c.req.query('done') === 'role' ? tr(c, 'portal.user.role_changed') : null;
    return c.html(usersPage(c, await allUsers(), session.csrf, notice, null));
  });

  r.post('/users', async (c) => {
    const session = adminSession(c);
    if (!session) return toLogin(c);
    const form = await readForm(c, max);
    assertCsrf(c, form);
    const email = (form.email ?? '').trim().toLowerCase();
    const name = (form.name ?? '').trim();
    const password = form.password ?? '';
    const role = ROLES.find((x) => x === form.role);
    if (!/^[^@\s]+@[^@\s]+$/.test(email) || email.length > 200) throw new ApiFailure(400, 'invalid_input', { field: 'email' });
    if (!name || name.length > 200) throw new ApiFailure(400, 'invalid_input', { field: 'name' });
    if (password.length < 12 || password.length > 200) throw new ApiFailure(400, 'invalid_input', { field: 'password' });
    if (!role) throw new ApiFailure(400, 'invalid_input', { field: 'role' });
    const taken = await deps.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
    if (taken) return c.html(usersPage(c, await allUsers(), session.csrf, null, tr(c, 'portal.user.exists')), 409);
    const org = await getOrg(deps.db);
    const passwordHash = await hashPassword(password);
    const at = nowIso(deps);
    const id = randomUUID();
    const created = await deps.db.transaction().execute(async (trx) => {
      // The same form sent twice at once: the second finds the email taken here.
      const inserted = await trx
        .insertInto('users')
        .values({ id, org_id: org.id, email, name, password_hash: passwordHash, role, locale: '', created_at: at })
        .onConflict((oc) => oc.column('email').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
      await appendAudit(trx, deps, at, { actorId: session.user.id, actorKind: 'user', action: 'user.created', detail: { userId: id, email, role }, ip: clientIp(c) });
      return true;
    });
    if (!created) return c.html(usersPage(c, await allUsers(), session.csrf, null, tr(c, 'portal.user.exists')), 409);
    return c.redirect('/admin/users?done=created', 303);
  });

  r.post('/users/:id/role', async (c) => {
    const session = adminSession(c);
    if (!session) return toLogin(c);
    const form = await readForm(c, max);
    assertCsrf(c, form);
    const role = ROLES.find((x) => x === form.role);
    if (!role) throw new ApiFailure(400, 'invalid_input', { field: 'role' });
    const userId = c.req.param('id');
    const outcome = await deps.db.transaction().execute(async (trx) => {
      const user = await trx.selectFrom('users').select(['id', 'role']).where('id', '=', userId).executeTakeFirst();
      if (!user) throw new ApiFailure(404, 'not_found');
      if (user.role === 'admin' && role !== 'admin') {
        // Locked (PostgreSQL): two admins demoting each other at once must not both see two admins.
        let q = trx.selectFrom('users').select('id').where('role', '=', 'admin');
        if (deps.dbKind === 'postgres') q = q.forUpdate();
        const admins = await q.execute();
        if (admins.length <= 1) return 'last_admin' as const;
      }
      await trx.updateTable('users').set({ role }).where('id', '=', user.id).execute();
      await appendAudit(trx, deps, nowIso(deps), { actorId: session.user.id, actorKind: 'user', action: 'user.role_changed', detail: { userId: user.id, from: user.role, to: role }, ip: clientIp(c) });
      return 'ok' as const;
    });
    if (outcome === 'last_admin') return c.html(usersPage(c, await allUsers(), session.csrf, null, tr(c, 'portal.user.last_admin')), 409);
    return c.redirect('/admin/users?done=role', 303);
  });

  return r;
}
