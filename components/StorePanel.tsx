/**
 * Portal panel "Store recovery key": the key twice with live validation (lib/keys), M1
 * under the confirm field when they differ (nothing is sent), then Save. What happens next
 * ("Saving…", then M4, or M3 with its cause) is shown by the page's live part, the one
 * place outcomes are written (page-state.ts), so panel and page cannot disagree; toast M2
 * when the service refused the request, or that the service could not be reached (nothing
 * was stored, nothing happened on the device) when it did not answer.
 */
import type { ComponentChildren, RefObject } from 'preact';
import { useRef, useState } from 'preact/hooks';
import type { KeyKind } from '../lib/api/contract.ts';
import { parseRecoveryKey } from '../lib/keys/index.ts';
import { keyErrorMessage, type KeyErrorMessage } from '../lib/keys/key-error-message.ts';
import { pageStateChanged } from '../utils/page-state.ts';
import { sendMessage } from '../utils/send.ts';
import { useVolumes, VolumePicker } from './VolumePicker.tsx';
import { failureText, useLocale, useText } from './text.tsx';

type Phase = 'editing' | 'saving' | 'sent';

const LIVE_ERRORS = new Set(['bad_char', 'too_long']);

type KeyFieldProps = {
  id: string; name: string; label: string; hint?: string; inputRef: RefObject<HTMLInputElement>; value: string; disabled: boolean;
  invalid: boolean; onInput: (value: string) => void; onBlur: () => void; children: ComponentChildren;
};

/** A recovery-key input with its label and the live message area under it (`<id>-msg`). */
function KeyField({ id, name, label, hint, inputRef, value, disabled, invalid, onInput, onBlur, children }: KeyFieldProps) {
  return (
    <div class="kw-field">
      <label for={id}>{label}</label>
      {hint && <p class="kw-muted kw-hint" id={`${id}-hint`} data-keyward-hint="">{hint}</p>}
      <input
        id={id} ref={inputRef} class="kw-input kw-mono" name={name} autocomplete="off" spellcheck={false}
        autocapitalize="characters" value={value} disabled={disabled}
        aria-invalid={invalid ? 'true' : 'false'} aria-describedby={hint ? `${id}-hint ${id}-msg` : `${id}-msg`}
        onInput={(e) => onInput(e.currentTarget.value)} onBlur={onBlur}
      />
      <div id={`${id}-msg`} aria-live="polite">{children}</div>
    </div>
  );
}

export function StorePanel({ deviceId, kind }: { deviceId: string; kind: KeyKind }) {
  const text = useText();
  const locale = useLocale();
  const [key, setKey] = useState('');
  const [confirmKey, setConfirmKey] = useState('');
  const [keyBlurred, setKeyBlurred] = useState(false);
  const [confirmBlurred, setConfirmBlurred] = useState(false);
  const [attempted, setAttempted] = useState(false);
  const [phase, setPhase] = useState<Phase>('editing');
  const [toast, setToast] = useState<{ kind: 'M2' | 'unreachable'; text: string } | null>(null);
  const keyInput = useRef<HTMLInputElement>(null);
  const confirmInput = useRef<HTMLInputElement>(null);
  const { volumes, volumeId, choose } = useVolumes(deviceId);

  const parsed = key ? parseRecoveryKey(kind, key) : null;
  const parsedConfirm = confirmKey ? parseRecoveryKey(kind, confirmKey) : null;
  const describe = (message: KeyErrorMessage) => text(message.id, message.params);
  const keyError = parsed && !parsed.ok && (attempted || keyBlurred || LIVE_ERRORS.has(parsed.error.code))
    ? describe(keyErrorMessage(locale, kind, parsed.error))
    : attempted && !key ? describe(keyErrorMessage(locale, kind, { code: 'empty' })) : null;
  const same = parsed?.ok && parsedConfirm?.ok ? parsed.normalized === parsedConfirm.normalized : key.trim() === confirmKey.trim();
  const showMismatch = !same && (attempted || (confirmBlurred && confirmKey.length > 0));

  async function save(event: Event) {
    event.preventDefault();
    setAttempted(true);
    setToast(null);
    if (!parsed?.ok) {
      keyInput.current?.focus();
      return;
    }
    if (!same || !parsedConfirm?.ok) {
      confirmInput.current?.focus();
      return;
    }
    setPhase('saving');
    const reply = await sendMessage('key.store', { deviceId, volumeId, key: parsed.normalized, confirmKey: parsedConfirm.normalized })
      .catch(() => null);
    if (reply?.ok) {
      setKey('');
      setConfirmKey('');
      setAttempted(false);
      setKeyBlurred(false);
      setConfirmBlurred(false);
      setPhase('sent');
      pageStateChanged();
      return;
    }
    // A refusal because escrow is off is recorded: the page shows it as M3 with its cause.
    if (reply && reply.error.code === 'escrow_disabled') {
      setPhase('sent');
      pageStateChanged();
      return;
    }
    setPhase('editing');
    if (reply?.error.code === 'network') setToast({ kind: 'unreachable', text: text('flow.store_unreachable') });
    else setToast({ kind: 'M2', text: reply ? `${text('flow.M2.here')} ${failureText(text, reply.error)}` : text('flow.M2.here') });
  }

  const busy = phase === 'saving';
  return (
    <section class="kw-panel" aria-label={text('ui.store_key')} data-keyward-store="">
      {toast && (
        <div class="kw-toast" role="alert" data-keyward-toast={toast.kind}>
          <span>{toast.text}</span>
          <button type="button" class="kw-link" onClick={() => setToast(null)}>{text('portal.toast_dismiss')}</button>
        </div>
      )}
      <form onSubmit={save} noValidate>
        <VolumePicker id="kw-store-volume" volumes={volumes} value={volumeId} onChange={choose} disabled={busy} />
        <KeyField
          id="kw-key" name="key" label={text('ui.recovery_key')} hint={text(`portal.key_hint.${kind}`)} inputRef={keyInput} value={key} disabled={busy}
          invalid={!!keyError} onInput={setKey} onBlur={() => setKeyBlurred(true)}
        >
          {keyError ? <span class="kw-error" data-keyward-error="key">{keyError}</span>
            : parsed?.ok ? <span class="kw-okhint">{text('ext.key_valid')}</span> : null}
        </KeyField>
        <KeyField
          id="kw-confirm" name="confirmKey" label={text('ui.confirm_key')} inputRef={confirmInput} value={confirmKey} disabled={busy}
          invalid={showMismatch} onInput={setConfirmKey} onBlur={() => setConfirmBlurred(true)}
        >
          {showMismatch && <span class="kw-error" data-keyward-message="M1">{text('flow.M1')}</span>}
        </KeyField>
        <button type="submit" class="kw-button" disabled={busy}>{text('ui.save')}</button>
      </form>
      <div aria-live="polite">
        {phase === 'sent' && <p class="kw-muted" data-keyward-message="sent">{text('flow.store_sent')}</p>}
      </div>
    </section>
  );
}
