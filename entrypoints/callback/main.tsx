/**
 * OAuth redirect target of the Chrome/Edge build (`callback.html?code=…&state=…`; Firefox gets
 * its answer from identity.launchWebAuthFlow instead, utils/sign-in.ts): hands the code
 * and state to the background, which checks `state` against the pending sign-in and exchanges
 * the code for tokens, then says whether sign-in finished. Talks only to the background.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { pickLocale } from '../../lib/i18n/locales.ts';
import { readAuthorizationResponse } from '../../utils/client/authorization-response.ts';
import { STYLES } from '../../components/styles.ts';
import { sendMessage } from '../../utils/send.ts';
import { failureText, loadMessageTable, LocaleProvider, useText } from '../../components/text.tsx';

type Outcome = { name: 'working' } | { name: 'done' } | { name: 'failed'; message: string };

function Callback() {
  const text = useText();
  const [outcome, setOutcome] = useState<Outcome>({ name: 'working' });

  useEffect(() => {
    const response = readAuthorizationResponse(new URLSearchParams(location.search));
    history.replaceState(null, '', location.pathname);
    if (response.kind !== 'code') {
      // Any site can open this page: show only our own words, never text from the URL.
      setOutcome({ name: 'failed', message: response.kind === 'denied' ? text('ext.callback_denied') : text('error.invalid_grant') });
      return;
    }
    const { code, state } = response;
    void sendMessage('auth.callback', { code, state }).then((reply) =>
      setOutcome(reply.ok ? { name: 'done' } : { name: 'failed', message: failureText(text, reply.error) }),
    );
  }, []);

  return (
    <main class="kw-root" style="max-width:480px;margin:40px auto">
      <section class="kw-card" aria-live="polite" data-keyward-callback={outcome.name}>
        <h1 class="kw-title">Keyward</h1>
        {outcome.name === 'working' && <p>{text('ext.callback_working')}</p>}
        {outcome.name === 'done' && <p>{text('ext.callback_done')}</p>}
        {outcome.name === 'failed' && <p class="kw-error">{text('ext.callback_failed', { message: outcome.message })}</p>}
        {outcome.name !== 'working' && <button type="button" class="kw-button kw-secondary" onClick={() => window.close()}>{text('ext.close_tab')}</button>}
      </section>
    </main>
  );
}

async function start(): Promise<void> {
  const locale = pickLocale(navigator.languages.join(','));
  const table = await loadMessageTable(locale);
  document.documentElement.lang = locale;
  render(
    <LocaleProvider locale={locale} table={table}>
      <style>{STYLES}</style>
      <Callback />
    </LocaleProvider>,
    document.getElementById('app')!,
  );
}

void start();
