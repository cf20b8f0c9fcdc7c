/**
 * Admin-only pages: the organisation's policy (escrow on/off, rotate after an IT reveal,
 * the check-in threshold behind M3 "hasn't checked in", what the extension may cache
 * offline, the support contact), one-time enrollment tokens for new devices, and the browser
 * extensions allowed to sign in (clients-section.ts) and single sign-on (sso-settings.ts). Every change is audited.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import type { AppContext, AppEnv } from '../http/context.ts';
import { getOrg } from '../services/device-views.ts';
import { savePolicy } from '../services/policy.ts';
import { issueEnrollmentToken } from '../services/enrollment-tokens.ts';
import type { OrgTable } from '../db/schema.ts';
import type { PortalSession } from '../auth/sessions.ts';
import { csrfField, page, tr, type Html } from './layout.ts';
import { changeBy } from './session.ts';
import { csrfForm, requireRole, requireSession } from './guards.ts';
import { checkbox, parseForm, text, trimmed } from './forms.ts';
import { listClients } from '../auth/oauth-clients.ts';
import type { OAuthClient } from '../auth/extension-clients.ts';
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

/** Checked in this order; a bad field is named in the 400 answer. */
const PolicyForm = z.object({
  checkinThresholdMinutes: z.coerce.number().int().min(1).max(525_600),
  supportContact: trimmed().pipe(z.string().min(1).max(300)),
  offlineCache: z.enum(['keys', 'metadata']),
  escrowEnabled: checkbox(),
  rotateAfterReveal: checkbox(),
});

/** Never refused as such: an unknown owner is a 404, an unknown ownership corporate, an empty label "device". */
const EnrollmentTokenForm = z.object({
  ownerEmail: trimmed().transform((email) => email.toLowerCase()),
  ownership: text().transform((value) => (value === 'personal' ? 'personal' : 'corporate')),
  label: trimmed().transform((label) => label.slice(0, 200) || 'device'),
});

export function policyPages(deps: AppDeps): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  const admin = [requireSession(), requireRole('admin')] as const;
  const adminForm = [...admin, csrfForm(deps.config.maxBodyBytes)] as const;

  async function render(c: AppContext, session: PortalSession, notice: Html | string | null) {
    const [org, clients, sso] = await Promise.all([getOrg(deps.db), listClients(deps.db), ssoSection(c, deps, session.csrf)]);
    return c.html(policyPage(c, org, clients, session.csrf, notice, sso));
  }

  r.get('/policy', ...admin, async (c) => {
    const saved = c.req.query('saved') === '1' ? tr(c, 'portal.policy_saved') : clientsNotice(c) ?? ssoNotice(c);
    return render(c, c.get('signedIn'), saved);
  });

  r.post('/policy', ...adminForm, async (c) => {
    const policy = parseForm(PolicyForm, c.get('form'));
    await savePolicy(deps, policy, changeBy(c, deps));
    return c.redirect('/admin/policy?saved=1', 303);
  });

  r.post('/enrollment-tokens', ...adminForm, async (c) => {
    const session = c.get('signedIn');
    const request = parseForm(EnrollmentTokenForm, c.get('form'));
    const token = await issueEnrollmentToken(deps, { ...request, validDays: TOKEN_DAYS }, changeBy(c, deps));
    if (!token) throw new ApiFailure(404, 'not_found', { field: 'ownerEmail' });
    const server = new URL(c.req.url).origin;
    // The command as it is typed, with the real token: the admin copies it as a whole.
    const command = `sudo npx keyward-agent enroll --server ${server} --token ${token} --driver luks --volume /dev/…`;
    const notice = html`${tr(c, 'portal.enrollment_created', { days: TOKEN_DAYS, token })}<br>${tr(c, 'portal.enrollment_howto')}<br><code id="enroll-command">${command}</code>`;
    return render(c, session, notice);
  });

  return r;
}
