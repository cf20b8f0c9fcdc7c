/**
 * Vault passphrase prompt with a progress bar while the key is derived (scrypt); a lockout
 * says how long to wait. Used by the popup (offline copies) and the options page.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { useVaultProgress } from '../utils/progress.ts';
import { sendMessage } from '../utils/send.ts';
import { failureText, useLocale, useText } from './text.tsx';
import type { ExtensionMessageId } from '../lib/i18n/extension/en.ts';

export function UnlockForm({ onUnlocked, prompt, autoFocus = true }: { onUnlocked: () => void; prompt: ExtensionMessageId; autoFocus?: boolean }) {
  const text = useText();
  const locale = useLocale();
  const [passphrase, setPassphrase] = useState('');
  const [progress, setProgress] = useVaultProgress();
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (autoFocus) input.current?.focus();
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    setProgress(0);
    const reply = await sendMessage('vault.unlock', { passphrase });
    setProgress(null);
    if (reply.ok) {
      setPassphrase('');
      onUnlocked();
    } else {
      setError(failureText(text, reply.error, locale));
      input.current?.select();
    }
  }

  return (
    <form onSubmit={submit} data-keyward-unlock="">
      <p class="kw-muted" style="margin-top:0">{text(prompt)}</p>
      <div class="kw-field">
        <label for="kw-passphrase">{text('ui.passphrase')}</label>
        <input
          id="kw-passphrase" ref={input} type="password" class="kw-input" autocomplete="current-password" value={passphrase}
          disabled={progress !== null} aria-invalid={error ? 'true' : 'false'} aria-describedby="kw-unlock-msg"
          onInput={(e) => setPassphrase(e.currentTarget.value)}
        />
      </div>
      <div id="kw-unlock-msg" aria-live="polite">
        {progress !== null && (
          <div>
            <progress class="kw-progress" max={1} value={progress} aria-label={text('ext.unlocking', { percent: Math.round(progress * 100) })} />
            <span class="kw-muted">{text('ext.unlocking', { percent: Math.round(progress * 100) })}</span>
          </div>
        )}
        {error && <p class="kw-error" data-keyward-unlock-error="">{error}</p>}
      </div>
      <button type="submit" class="kw-button" disabled={progress !== null || passphrase.length === 0}>{text('ui.unlock')}</button>
    </form>
  );
}
