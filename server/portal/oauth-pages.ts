/**
 * The consent half of the extension's OAuth flow: `GET /oauth/authorize` validates the
 * request (a bad one, or a redirect to an extension not on the allow-list, is an error page,
 * never a redirect), sends people to sign in first, then asks "Allow?" naming the extension,
 * its browser and its id; `POST /oauth/authorize` checks the same again and redirects to the
 * extension with a one-time code (or `error=access_denied`) and the unchanged `state`.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppDeps } from '../deps.ts';
import type { AppEnv } from '../http/context.ts';
import { checkAuthorizeRequest, issueAuthorizationCode, type AuthorizeParams } from '../auth/oauth.ts';
import { browserName } from '../auth/extension-clients.ts';
import { csrfForm, requireSession, toLogin } from './guards.ts';
import { csrfField, page, tr } from './layout.ts';

function callbackUrl(p: AuthorizeParams, result: Record<string, string>): string {
  const url = new URL(p.redirectUri);
  for (const [k, v] of Object.entries(result)) url.searchParams.set(k, v);
  if (p.state) url.searchParams.set('state', p.state);
  return url.toString();
}

export function oauthPages(deps: AppDeps): Hono<AppEnv> {
  const r = new Hono<AppEnv>();

  r.get('/oauth/authorize', async (c) => {
    // Checked before sign-in too (so no requireSession ahead of it): nobody is asked for a password on behalf of an unknown extension.
    const { params, client } = await checkAuthorizeRequest(deps, c.req.query());
    const session = c.get('session');
    if (!session) return toLogin(c);
    const target = new URL(params.redirectUri);
    c.set('formActionExtra', `${target.protocol}//${target.host}`);
    return c.html(
      page(c, {
        title: tr(c, 'portal.allow_title'),
        csrf: session.csrf,
        body: html`<form method="post" action="/oauth/authorize" class="card" id="consent">
          ${csrfField(session.csrf)}
          <input type="hidden" name="client_id" value="${params.clientId}">
          <input type="hidden" name="redirect_uri" value="${params.redirectUri}">
          <input type="hidden" name="response_type" value="code">
          <input type="hidden" name="code_challenge" value="${params.codeChallenge}">
          <input type="hidden" name="code_challenge_method" value="S256">
          <input type="hidden" name="state" value="${params.state}">
          <p id="consent-client">${tr(c, 'portal.consent.wants', { name: client.name, browser: browserName(client.browser) })}</p>
          <dl class="meta">
            <dt>${tr(c, 'portal.client.browser')}</dt><dd id="consent-browser">${browserName(client.browser)}</dd>
            <dt>${tr(c, 'portal.client.extension_id')}</dt><dd><code id="consent-extension-id">${client.id}</code></dd>
          </dl>
          <p>${tr(c, 'portal.allow_explain')}</p>
          <p class="muted">${tr(c, 'portal.signed_in_as', { name: session.user.email })}</p>
          <div class="actions">
            <button type="submit" name="decision" value="allow" id="allow">${tr(c, 'portal.allow')}</button>
            <button type="submit" name="decision" value="deny" id="deny">${tr(c, 'portal.deny')}</button>
          </div>
        </form>`,
      }),
    );
  });

  r.post('/oauth/authorize', requireSession(), csrfForm(deps.config.maxBodyBytes), async (c) => {
    const session = c.get('signedIn');
    const form = c.get('form');
    // Even a denial goes back only to an allow-listed extension.
    const { params } = await checkAuthorizeRequest(deps, form);
    if (form.decision !== 'allow') return c.redirect(callbackUrl(params, { error: 'access_denied' }), 302);
    const code = await issueAuthorizationCode(deps, session.user.id, params, { method: session.authMethod, at: session.createdAt });
    return c.redirect(callbackUrl(params, { code }), 302);
  });

  return r;
}
