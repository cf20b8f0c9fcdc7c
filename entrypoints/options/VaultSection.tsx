/**
 * Options › Vault: set the passphrase, unlock, change it, lock — with a progress bar while
 * deriving — and, for a forgotten passphrase, start over by deleting the keys saved on this
 * computer (after a confirmation; the sign-in and getting keys online are not affected).
 */
import { useState } from 'preact/hooks';
import type { VaultState } from '../../utils/client/messages.ts';
import { useVaultProgress } from '../../utils/progress.ts';
import { sendMessage } from '../../utils/send.ts';
import { failureText, useLocale, useText } from '../../components/text.tsx';
import { UnlockForm } from '../../components/UnlockForm.tsx';
import { MIN_PASSPHRASE_LENGTH } from '../../utils/vault/passphrase.ts';

export function VaultSection({ vault, signedIn, onChange }: { vault: VaultState; signedIn: boolean; onChange: () => Promise<void> }) {
  const text = useText();
  const locale = useLocale();
  const [resetting, setResetting] = useState(false);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [progress, setProgress] = useVaultProgress();
  const [message, setMessage] = useState<{ kind: 'ok' | 'bad'; text: string } | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    if (next.length < MIN_PASSPHRASE_LENGTH) return setMessage({ kind: 'bad', text: text('ext.passphrase_short') });
    if (next !== confirm) return setMessage({ kind: 'bad', text: text('ext.passphrase_mismatch') });
    setMessage(null);
    setProgress(0);
    const reply = vault === 'none'
      ? await sendMessage('vault.setup', { passphrase: next })
      : await sendMessage('vault.change', { oldPassphrase: current, newPassphrase: next });
    setProgress(null);
    if (!reply.ok) return setMessage({ kind: 'bad', text: failureText(text, reply.error, locale) });
    setCurrent('');
    setNext('');
    setConfirm('');
    setMessage({ kind: 'ok', text: text('ext.passphrase_saved') });
    await onChange();
  }

  async function lock() {
    await sendMessage('vault.lock', {});
    await onChange();
  }

  async function reset() {
    const reply = await sendMessage('vault.reset', {});
    setResetting(false);
    setMessage(reply.ok ? { kind: 'ok', text: text('ext.vault_reset_done') } : { kind: 'bad', text: failureText(text, reply.error, locale) });
    await onChange();
  }

  const stateText = vault === 'none' ? text('ext.vault_none') : vault === 'locked' ? text('ext.vault_locked') : text('ext.vault_unlocked');
  return (
    <section class="kw-card" aria-labelledby="kw-vault-title">
      <h2 class="kw-title" id="kw-vault-title">{text('ext.vault')}</h2>
      <p class="kw-muted" style="margin-top:0">{text('ext.vault_intro')}</p>
      <div class="kw-spread" style="margin-bottom:12px">
        <span data-keyward-vault={vault}>{stateText}</span>
        {vault === 'unlocked' && <button type="button" class="kw-button kw-secondary kw-small" onClick={lock}>{text('ui.lock')}</button>}
      </div>
      {vault === 'locked' && (
        <div class="kw-card" style="margin-bottom:12px" data-keyward-options-unlock="">
          <UnlockForm prompt="ext.vault_unlock_intro" autoFocus={false} onUnlocked={() => void onChange()} />
        </div>
      )}
      <form onSubmit={submit} data-keyward-vault-form={vault === 'none' ? 'set' : 'change'}>
        {vault !== 'none' && (
          <div class="kw-field">
            <label for="kw-current">{text('ext.current_passphrase')}</label>
            <input id="kw-current" class="kw-input" type="password" autocomplete="current-password" aria-describedby="kw-vault-msg" value={current} onInput={(e) => setCurrent(e.currentTarget.value)} />
          </div>
        )}
        <div class="kw-field">
          <label for="kw-new">{vault === 'none' ? text('ui.passphrase') : text('ext.new_passphrase')}</label>
          <input id="kw-new" class="kw-input" type="password" autocomplete="new-password" aria-describedby="kw-vault-msg" value={next} onInput={(e) => setNext(e.currentTarget.value)} />
        </div>
        <div class="kw-field">
          <label for="kw-confirm-pass">{text('ext.confirm_passphrase')}</label>
          <input id="kw-confirm-pass" class="kw-input" type="password" autocomplete="new-password" aria-describedby="kw-vault-msg" value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} />
        </div>
        <div id="kw-vault-msg" aria-live="polite">
          {progress !== null && <progress class="kw-progress" max={1} value={progress} aria-label={text('ext.unlocking', { percent: Math.round(progress * 100) })} />}
          {message && <p class={message.kind === 'ok' ? 'kw-okhint' : 'kw-error'} data-keyward-vault-message={message.kind}>{message.text}</p>}
        </div>
        <button type="submit" class="kw-button" disabled={progress !== null}>{vault === 'none' ? text('ext.vault_set') : text('ext.vault_change')}</button>
      </form>
      {vault !== 'none' && signedIn && (
        <div style="margin-top:16px" data-keyward-vault-reset="">
          {!resetting ? (
            <button type="button" class="kw-link" onClick={() => setResetting(true)}>{text('ext.vault_forgot')}</button>
          ) : (
            <div class="kw-notice kw-warn" role="alertdialog" aria-labelledby="kw-reset-explain">
              <p id="kw-reset-explain" style="margin-top:0">{text('ext.vault_reset_explain')}</p>
              <span class="kw-row">
                <button type="button" class="kw-button kw-small" onClick={() => void reset()}>{text('ext.vault_reset_confirm')}</button>
                <button type="button" class="kw-button kw-secondary kw-small" onClick={() => setResetting(false)}>{text('ext.vault_reset_cancel')}</button>
              </span>
            </div>
          )}
        </div>
      )}
    </section>
  );
}
