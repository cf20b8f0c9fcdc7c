/**
 * Admin-only pages: the organisation's policy (escrow on/off, rotate after an IT reveal,
 * the check-in threshold behind M3 "hasn't checked in", what the extension may cache
 * offline, the support contact), one-time enrollment tokens for new devices, and the browser
 * extensions allowed to sign in (clients-section.ts) and single sign-on (sso-settings.ts). Every change is audited.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { clientIp, type AppContext, type AppEnv } from '../http/context.ts';
import { readForm } from '../http/body.ts';
import { appendAudit } from '../audit.ts';
import { getOrg } from '../services/device-views.ts';
import { createEnrollmentToken } from '../services/agent-enroll.ts';
import type { OrgTable } from '../db/schema.ts';
import { adminSession, assertCsrf } from './session.ts';
import { csrfField, page, tr, type Html } from './layout.ts';
import { toLogin } from './device-pages.ts';
import { listClients, type OAuthClient } from '../auth/oauth-clients.ts';
import { clientsNotice, clientsSection } from './clients-section.ts';
import { ssoNotice, ssoSection } from './sso-settings.ts';

const TOKEN_DAYS = 7;

function policyPage(c: AppContext, org: OrgTable, clients: OAuthClient[], csrf: string, notice: Html | string | null, sso: Html): Html {
  const checked = (on: number) => (on === 1 ? 'checked' : '');
  return page(c, {
    title: tr(c, 'portal.policy_title'),
    csrf,
    body: html`${notice ? html`<p class="info" role="status" id="policy-notice">${notice}</p>` : ''}
      <form method="post" action="/admin/policy" class="card" id="policy-form">
        ${csrfField(csrf)}
        <label for="supportContact">${tr(c, 'portal.policy.support_contact')}</label>
        <input type="text" id="supportContact" name="supportContact" maxlength="300" value="${org.support_contact}" required>
        <label><input type="checkbox" name="escrowEnabled" value="1" ${checked(org.escrow_enabled)}> ${tr(c, 'portal.policy.escrow_enabled')}</label>
        <label><input type="checkbox" name="rotateAfterReveal" value="1" ${checked(org.rotate_after_reveal)}> ${tr(c, 'portal.policy.rotate_after_reveal')}</label>
        <label for="checkinThresholdMinutes">${tr(c, 'portal.policy.checkin_threshold')}</label>
        <input type="text" inputmode="numeric" id="checkinThresholdMinutes" name="checkinThresholdMinutes" value="${org.checkin_threshold_minutes}" required>
        <label for="offlineCache">${tr(c, 'portal.policy.offline_cache')}</label>
        <select id="offlineCache" name="offlineCache">
          <option value="keys" ${org.offline_cache === 'keys' ? 'selected' : ''}>${tr(c, 'portal.policy.offline_cache.keys')}</option>
          <option value="metadata" ${org.offline_cache === 'metadata' ? 'selected' : ''}>${tr(c, 'portal.policy.offline_cache.metadata')}</option>
        </select>
        <div class="actions"><button type="submit">${tr(c, 'ui.save')}</button></div>
      </form>
      <form method="post" action="/admin/enrollment-tokens" class="card" id="enroll-form">
        <h2>${tr(c, 'portal.enrollment_title')}</h2>
        ${csrfField(csrf)}
        <label for="ownerEmail">${tr(c, 'portal.enrollment_owner')}</label><input type="email" id="ownerEmail" name="ownerEmail" required>
        <label for="ownership">${tr(c, 'portal.ownership')}</label>
        <select id="ownership" name="ownership"><option value="corporate">${tr(c, 'ui.ownership.corporate')}</option><option value="personal">${tr(c, 'ui.ownership.personal')}</option></select>
        <label for="label">${tr(c, 'portal.enrollment_label')}</label><input type="text" id="label" name="label" maxlength="200" required>
        <div class="actions"><button type="submit">${tr(c, 'portal.enrollment_create')}</button></div>
      </form>
      ${clientsSection(c, clients, csrf)}
      ${sso}`,
  });
}

export function policyPages(deps: AppDeps): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  const max = deps.config.maxBodyBytes;

  r.get('/policy', async (c) => {
    const session = adminSession(c);
    if (!session) return toLogin(c);
    const saved = c.req.query('saved') === '1' ? tr(c, 'portal.policy_saved') : clientsNotice(c) ?? ssoNotice(c);
    return c.html(policyPage(c, await getOrg(deps.db), await listClients(deps.db), session.csrf, saved, await ssoSection(c, deps, session.csrf)));
  });

  r.post('/policy', async (c) => {
    const session = adminSession(c);
    if (!session) return toLogin(c);
    const form = await readForm(c, max);
    assertCsrf(c, form);
    const minutes = Number(form.checkinThresholdMinutes);
    const contact = (form.supportContact ?? '').trim();
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 525_600) throw new ApiFailure(400, 'invalid_input', { field: 'checkinThresholdMinutes' });
    if (!contact || contact.length > 300) throw new ApiFailure(400, 'invalid_input', { field: 'supportContact' });
    if (form.offlineCache !== 'keys' && form.offlineCache !== 'metadata') throw new ApiFailure(400, 'invalid_input', { field: 'offlineCache' });
    const policy = {
      support_contact: contact,
      escrow_enabled: form.escrowEnabled === '1' ? 1 : 0,
      rotate_after_reveal: form.rotateAfterReveal === '1' ? 1 : 0,
      checkin_threshold_minutes: minutes,
      offline_cache: form.offlineCache,
    };
    const org = await getOrg(deps.db);
    const at = nowIso(deps);
    await deps.db.transaction().execute(async (trx) => {
      await trx.updateTable('org').set(policy).where('id', '=', org.id).execute();
      await appendAudit(trx, deps, at, { actorId: session.user.id, actorKind: 'user', action: 'policy.changed', detail: policy, ip: clientIp(c) });
    });
    return c.redirect('/admin/policy?saved=1', 303);
  });

  r.post('/enrollment-tokens', async (c) => {
    const session = adminSession(c);
    if (!session) return toLogin(c);
    const form = await readForm(c, max);
    assertCsrf(c, form);
    const owner = await deps.db.selectFrom('users').select(['id']).where('email', '=', (form.ownerEmail ?? '').trim().toLowerCase()).executeTakeFirst();
    if (!owner) throw new ApiFailure(404, 'not_found', { field: 'ownerEmail' });
    const ownership = form.ownership === 'personal' ? 'personal' : 'corporate';
    const label = (form.label ?? '').trim().slice(0, 200) || 'device';
    // The token and its audit event are written together: no token that the log does not know.
    const token = await deps.db.transaction().execute(async (trx) => {
      const created = await createEnrollmentToken({ ...deps, db: trx }, { ownerId: owner.id, ownership, label, validDays: TOKEN_DAYS });
      await appendAudit(trx, deps, nowIso(deps), { actorId: session.user.id, actorKind: 'user', action: 'enrollment_token.created', detail: { ownerId: owner.id, ownership, label }, ip: clientIp(c) });
      return created;
    });
    const server = new URL(c.req.url).origin;
    // The command as it is typed, with the real token: the admin copies it as a whole.
    const command = `sudo npx keyward-agent enroll --server ${server} --token ${token} --driver luks --volume /dev/…`;
    const notice = html`${tr(c, 'portal.enrollment_created', { days: TOKEN_DAYS, token })}<br>${tr(c, 'portal.enrollment_howto')}<br><code id="enroll-command">${command}</code>`;
    return c.html(policyPage(c, await getOrg(deps.db), await listClients(deps.db), session.csrf, notice, await ssoSection(c, deps, session.csrf)));
  });

  return r;
}
