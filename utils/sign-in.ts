/**
 * Starting a sign-in from an extension page. The background prepares it (PKCE, RFC 7636) and
 * answers the service's consent-page address; how the consent page's answer comes back is the
 * one thing that differs between builds, chosen here at build time:
 * - Chrome/Edge: the consent page opens in a tab; the service redirects that tab to
 *   callback.html under our pinned extension id, which hands the code to the background.
 * - Firefox: identity.launchWebAuthFlow opens the consent page in its own window and returns
 *   the redirect to identity.getRedirectURL() (never loaded: Firefox gives it only to us);
 *   this page hands the code to the background. It runs here, in a page that stays open,
 *   because Firefox may suspend an idle background page during a slow sign-in.
 */
import { browser } from 'wxt/browser';
import { readAuthorizationResponse } from './client/authorization-response.ts';
import type { Failure } from './client/messages.ts';
import { sendMessage } from './send.ts';

/** `opened`: the tab's callback.html finishes; `done`: signed in; `denied`/`closed`: no sign-in. */
export type SignInOutcome = { ok: true; step: 'opened' | 'done' } | { ok: false; step: 'denied' | 'closed' } | Failure;

async function signInInTab(authorizeUrl: string): Promise<SignInOutcome> {
  await browser.tabs.create({ url: authorizeUrl });
  return { ok: true, step: 'opened' };
}

async function signInWithWebAuthFlow(authorizeUrl: string): Promise<SignInOutcome> {
  let redirected: string | undefined;
  try {
    redirected = await browser.identity.launchWebAuthFlow({ url: authorizeUrl, interactive: true });
  } catch {
    // Firefox rejects when the window is closed before the service redirects.
    return { ok: false, step: 'closed' };
  }
  if (!redirected) return { ok: false, step: 'closed' };
  const response = readAuthorizationResponse(new URL(redirected).searchParams);
  if (response.kind === 'denied') return { ok: false, step: 'denied' };
  if (response.kind === 'invalid') return { ok: false, step: 'closed' };
  const done = await sendMessage('auth.callback', { code: response.code, state: response.state });
  return done.ok ? { ok: true, step: 'done' } : done;
}

const openConsentPage = import.meta.env.FIREFOX ? signInWithWebAuthFlow : signInInTab;

export async function signIn(): Promise<SignInOutcome> {
  const prepared = await sendMessage('auth.signIn', {});
  return prepared.ok ? openConsentPage(prepared.authorizeUrl) : prepared;
}

/** The popup closes when a sign-in window takes focus, so in Firefox it sends people to sign in on the options page. */
export async function signInFromPopup(): Promise<void> {
  if (import.meta.env.FIREFOX) await browser.runtime.openOptionsPage();
  else await signIn();
}
