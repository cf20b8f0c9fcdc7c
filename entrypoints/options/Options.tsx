/**
 * Options: escrow service URL, sign in / out, vault passphrase (set, change, lock),
 * auto-lock minutes, clipboard delay and language.
 */
import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import type { Locale } from '../../lib/api/contract.ts';
import type { ExtensionState, Settings } from '../../utils/client/messages.ts';
import { STYLES } from '../../components/styles.ts';
import { sendMessage } from '../../utils/send.ts';
import { failureText, LocaleProvider, useSwitchableMessages, useText } from '../../components/text.tsx';
import type { MessageTable } from '../../lib/i18n/extension/table.ts';
import { signIn } from '../../utils/sign-in.ts';
import { serviceMatchPattern } from '../../utils/client/service-pattern.ts';
import { accountItem, tokensItem } from '../background/storage-items.ts';
import { LANGUAGE_NAMES, LOCALES } from '../../lib/i18n/locales.ts';
import { VaultSection } from './VaultSection.tsx';

type Props = { initialState: ExtensionState; initialSettings: Settings };

export function Options({ initialState, initialSettings, table }: Props & { table: MessageTable }) {
  const [messages, setLocale] = useSwitchableMessages({ locale: initialState.locale, table });
  return (
    <LocaleProvider locale={messages.locale} table={messages.table}>
      <style>{STYLES}</style>
      <OptionsBody initialState={initialState} initialSettings={initialSettings} onLocale={setLocale} />
    </LocaleProvider>
  );
}

function OptionsBody({ initialState, initialSettings, onLocale }: Props & { onLocale: (l: Locale) => void }) {
  const text = useText();
  const [state, setState] = useState(initialState);
  const [settings, setSettings] = useState(initialSettings);
  const [serviceUrl, setServiceUrl] = useState(initialSettings.serviceUrl);
  const [note, setNote] = useState<{ kind: 'ok' | 'bad'; text: string; section: 'service' | 'prefs' } | null>(null);
  const [accountNote, setAccountNote] = useState<string | null>(null);

  async function refresh() {
    const next = await sendMessage('state.get', {});
    setState(next);
    if (next.signedIn) setAccountNote(null);
    onLocale(next.locale);
  }

  useEffect(() => {
    const unwatch = [tokensItem.watch(() => void refresh()), accountItem.watch(() => void refresh())];
    return () => unwatch.forEach((stop) => stop());
  }, []);

  async function save(change: Partial<Settings>, section: 'service' | 'prefs' = 'prefs') {
    setNote(null);
    const reply = await sendMessage('settings.set', { settings: change });
    if (!reply.ok) return setNote({ kind: 'bad', text: failureText(text, reply.error), section });
    setSettings(reply.settings);
    setServiceUrl(reply.settings.serviceUrl);
    setNote({ kind: 'ok', text: text('ext.saved'), section });
    await refresh();
  }

  async function saveServiceUrl(event: Event) {
    event.preventDefault();
    let origin: string;
    try {
      const url = new URL(serviceUrl.trim());
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
      origin = url.origin;
    } catch {
      return setNote({ kind: 'bad', text: text('ext.service_url_invalid'), section: 'service' });
    }
    const origins = [serviceMatchPattern(origin, !import.meta.env.FIREFOX)];
    if (!(await browser.permissions.contains({ origins }))) {
      const granted = await browser.permissions.request({ origins }).catch(() => false);
      if (!granted) return setNote({ kind: 'bad', text: text('ext.permission_denied'), section: 'service' });
    }
    await save({ serviceUrl: origin }, 'service');
  }

  async function startSignIn() {
    setAccountNote(null);
    const outcome = await signIn();
    if (outcome.ok) {
      // `done`: the new tokens refresh this page through `tokensItem.watch`.
      if (outcome.step === 'opened') setAccountNote(text('ext.sign_in_opened'));
    } else if ('step' in outcome) {
      setAccountNote(text(outcome.step === 'denied' ? 'ext.callback_denied' : 'ext.sign_in_closed'));
    } else {
      setAccountNote(failureText(text, outcome.error));
    }
  }

  async function signOut() {
    await sendMessage('auth.signOut', {});
    setAccountNote(null);
    await refresh();
  }

  return (
    <main class="kw-root" style="max-width:560px;margin:0 auto">
      <h1 style="font-size:20px;margin:0 0 16px">Keyward · {text('ext.settings')}</h1>

      <section class="kw-card" aria-labelledby="kw-service-title">
        <h2 class="kw-title" id="kw-service-title">{text('ext.service_url')}</h2>
        <form onSubmit={saveServiceUrl} class="kw-row">
          <label class="kw-sr" for="kw-service-url">{text('ext.service_url')}</label>
          <input id="kw-service-url" class="kw-input" style="flex:1;min-width:240px" type="url" value={serviceUrl} onInput={(e) => setServiceUrl(e.currentTarget.value)} />
          <button type="submit" class="kw-button">{text('ext.save_settings')}</button>
        </form>
        <NoteLine note={note?.section === 'service' ? note : null} />
      </section>

      <section class="kw-card" aria-labelledby="kw-account-title">
        <h2 class="kw-title" id="kw-account-title">{text('ext.account')}</h2>
        <div class="kw-spread">
          <span data-keyward-account={state.signedIn ? 'signed-in' : 'signed-out'}>
            {state.signedIn ? text('ext.signed_in_as', { name: state.account?.name ?? state.account?.email ?? '' }) : text('ext.not_signed_in')}
          </span>
          {state.signedIn ? (
            <button type="button" class="kw-button kw-secondary" onClick={signOut}>{text('ui.sign_out')}</button>
          ) : (
            <button type="button" class="kw-button" onClick={startSignIn} data-keyward-action="sign-in">{text('ui.sign_in')}</button>
          )}
        </div>
        <p class="kw-muted" aria-live="polite" style="margin-bottom:0">{accountNote}</p>
      </section>

      <VaultSection vault={state.vault} signedIn={state.signedIn} onChange={refresh} />

      <section class="kw-card" aria-labelledby="kw-prefs-title">
        <h2 class="kw-title" id="kw-prefs-title">{text('ext.settings')}</h2>
        <div class="kw-field">
          <label for="kw-autolock">{text('ext.auto_lock_minutes')}</label>
          <input id="kw-autolock" class="kw-input" type="number" min={1} max={1440} value={settings.autoLockMinutes}
            onChange={(e) => void save({ autoLockMinutes: Number(e.currentTarget.value) })} />
        </div>
        <div class="kw-field">
          <label for="kw-clipboard">{text('ext.clipboard_seconds')}</label>
          <input id="kw-clipboard" class="kw-input" type="number" min={5} max={600} value={settings.clipboardSeconds}
            onChange={(e) => void save({ clipboardSeconds: Number(e.currentTarget.value) })} />
        </div>
        <div class="kw-field">
          <label for="kw-language">{text('ext.language')}</label>
          <p class="kw-muted kw-hint" id="kw-language-hint">{text('ext.language_hint')}</p>
          <select id="kw-language" class="kw-input" value={settings.locale ?? ''} aria-describedby="kw-language-hint"
            onChange={(e) => void save({ locale: (e.currentTarget.value || null) as Locale | null })}>
            <option value="">{text('ext.language_browser')}</option>
            {LOCALES.map((l) => <option value={l} lang={l}>{LANGUAGE_NAMES[l]}</option>)}
          </select>
        </div>
        <NoteLine note={note?.section === 'prefs' ? note : null} />
      </section>
    </main>
  );
}

function NoteLine({ note }: { note: { kind: 'ok' | 'bad'; text: string } | null }) {
  return <p aria-live="polite" style="margin:8px 0 0" class={note?.kind === 'bad' ? 'kw-error' : 'kw-okhint'}>{note?.text}</p>;
}
