/**
 * The extension's OAuth sign-in done over plain HTTP from Node (portal sign-in form, consent
 * "Allow", code exchange with PKCE), for tests of the API client without a browser.
 */
import { authorizeUrl, createPkceRequest, exchangeCode, type PkceRequest } from '../../utils/client/oauth.ts';
import type { PortalAccount } from './portal.ts';
import { CHROME_REDIRECT_URI } from '../../lib/extension-identity.ts';

export const TEST_REDIRECT_URI = CHROME_REDIRECT_URI;

class CookieJar {
  #cookies = new Map<string, string>();
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      this.#cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
  }
}

function csrfOf(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!match) throw new Error('No CSRF field on the page.');
  return match[1];
}

/** Returns an authorization code for `pkce` (and the verifier to redeem it). */
export async function authorizeOverHttp(serviceUrl: string, account: PortalAccount, pkce: PkceRequest): Promise<string> {
  const jar = new CookieJar();
  const get = async (url: string) => {
    const response = await fetch(url, { headers: { cookie: jar.header() }, redirect: 'manual' });
    jar.take(response);
    return response;
  };
  const post = async (url: string, form: Record<string, string>) => {
    const response = await fetch(url, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams(form).toString(),
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded', origin: serviceUrl },
    });
    jar.take(response);
    return response;
  };
  const login = await get(`${serviceUrl}/login`);
  await post(`${serviceUrl}/login`, { _csrf: csrfOf(await login.text()), email: account.email, password: account.password, next: '/devices' });
  const consent = await get(authorizeUrl(serviceUrl, TEST_REDIRECT_URI, pkce));
  const page = await consent.text();
  const fields = Object.fromEntries([...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2].replace(/&amp;/g, '&')]));
  const allowed = await post(`${serviceUrl}/oauth/authorize`, { ...fields, decision: 'allow' });
  const location = new URL(allowed.headers.get('location') ?? '');
  if (location.searchParams.get('state') !== pkce.state) throw new Error('The callback lost the state.');
  return location.searchParams.get('code') ?? '';
}

export async function signInOverHttp(serviceUrl: string, account: PortalAccount) {
  const pkce = await createPkceRequest();
  const code = await authorizeOverHttp(serviceUrl, account, pkce);
  const tokens = await exchangeCode(serviceUrl, code, TEST_REDIRECT_URI, pkce.verifier);
  if (!tokens.ok) throw new Error(`Code exchange failed: ${tokens.error.code}`);
  return tokens.data;
}
