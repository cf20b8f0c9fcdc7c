/**
 * Portal panel "Store recovery key": the key twice with live validation (lib/keys), M1
 * under the confirm field when they differ (nothing is sent), then Save → the device
 * verifies and rotates → pending → M4, or M3 with its cause; toast M2 when the request
 * could not be submitted at all.
 */
import type { ComponentChildren, RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { KeyKind } from '../lib/api/contract.ts';
import { describeKeyError, parseRecoveryKey } from '../lib/keys/index.ts';
import { CheckAccess } from './CheckAccess.tsx';
import { sendMessage } from './send.ts';
import { immediateOutcome, outcomeOf, samePhase, type Phase } from './store-outcome.ts';
import { useVolumes, VolumePicker } from './VolumePicker.tsx';
import { failureText, useLocale, useText } from './text.tsx';

const POLL_MS = 1000;
const LIVE_ERRORS = new Set(['bad_char', 'too_long']);

type KeyFieldProps = {
  id: string; name: string; label: string; inputRef: RefObject<HTMLInputElement>; value: string; disabled: boolean;
  invalid: boolean; onInput: (value: string) => void; onBlur: () => void; children: ComponentChildren;
};

/** A recovery-key input with its label and the live message area under it (`<id>-msg`). */
function KeyField({ id, name, label, inputRef, value, disabled, invalid, onInput, onBlur, children }: KeyFieldProps) {
  return (
    <div class="kw-field">
      <label for={id}>{label}</label>
      <input
        id={id} ref={inputRef} class="kw-input kw-mono" name={name} autocomplete="off" spellcheck={false}
        autocapitalize="characters" value={value} disabled={disabled}
        aria-invalid={invalid ? 'true' : 'false'} aria-describedby={`${id}-msg`}
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
  const [phase, setPhase] = useState<Phase>({ name: 'editing' });
  const [toast, setToast] = useState<string | null>(null);
  const keyInput = useRef<HTMLInputElement>(null);
  const confirmInput = useRef<HTMLInputElement>(null);
  const { volumes, volumeId, choose } = useVolumes(deviceId);

  const parsed = key ? parseRecoveryKey(kind, key) : null;
  const parsedConfirm = confirmKey ? parseRecoveryKey(kind, confirmKey) : null;
  const keyError = parsed && !parsed.ok && (attempted || keyBlurred || LIVE_ERRORS.has(parsed.error.code))
    ? describeKeyError(locale, kind, parsed.error)
    : attempted && !key ? describeKeyError(locale, kind, { code: 'empty' }) : null;
  const same = parsed?.ok && parsedConfirm?.ok ? parsed.normalized === parsedConfirm.normalized : key.trim() === confirmKey.trim();
  const showMismatch = !same && (attempted || (confirmBlurred && confirmKey.length > 0));

  const watched = phase.name === 'pending' || (phase.name === 'failed' && phase.cause === 'not_checked_in') ? phase : null;
  useEffect(() => {
    if (!watched?.operationId || watched.since === undefined) return;
    const { operationId, since } = watched;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      const reply = await sendMessage('device.get', { deviceId }).catch(() => null);
      if (stopped) return;
      const outcome = reply?.ok ? outcomeOf(reply.device, operationId, since) : null;
      if (outcome && !samePhase(outcome, phase)) setPhase(outcome);
      if (!outcome || (outcome.name === 'failed' && outcome.cause === 'not_checked_in')) timer = setTimeout(poll, POLL_MS);
    };
    timer = setTimeout(poll, POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [watched?.operationId, watched?.name]);

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
    setPhase({ name: 'saving' });
    const since = Date.now();
    const reply = await sendMessage('key.store', { deviceId, volumeId, key: parsed.normalized, confirmKey: parsedConfirm.normalized })
      .catch(() => null);
    if (reply?.ok) {
      setKey('');
      setConfirmKey('');
      setAttempted(false);
      setKeyBlurred(false);
      setConfirmBlurred(false);
      setPhase(immediateOutcome(reply.operation) ?? { name: 'pending', operationId: reply.operation.id, since });
      return;
    }
    if (reply && reply.error.code === 'escrow_disabled') {
      setPhase({ name: 'failed', cause: 'escrow_disabled' });
      return;
    }
    setPhase({ name: 'editing' });
    setToast(reply ? `${text('flow.M2')} ${failureText(text, reply.error)}` : text('flow.M2'));
  }

  const busy = phase.name === 'saving' || phase.name === 'pending';
  return (
    <section class="kw-panel" aria-label={text('ui.store_key')} data-keyward-store="">
      {toast && (
        <div class="kw-toast" role="alert" data-keyward-toast="M2">
          <span>{toast}</span>
          <button type="button" class="kw-link" onClick={() => setToast(null)}>{text('portal.toast_dismiss')}</button>
        </div>
      )}
      <form onSubmit={save} noValidate>
        <VolumePicker id="kw-store-volume" volumes={volumes} value={volumeId} onChange={choose} disabled={busy} />
        <KeyField
          id="kw-key" name="key" label={text('ui.recovery_key')} inputRef={keyInput} value={key} disabled={busy}
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
        {busy && <div class="kw-notice kw-info" data-keyward-message="pending">{text('flow.pending')}</div>}
        {phase.name === 'verified' && <div class="kw-notice kw-ok" data-keyward-message="M4">{text('flow.M4')}</div>}
        {phase.name === 'failed' && (
          <div class="kw-notice kw-bad" data-keyward-message="M3" data-keyward-cause={phase.cause}>
            <strong>{text('flow.M3.title')}</strong>
            {text(`flow.M3.${phase.cause}`)}
            {phase.cause === 'not_checked_in' && <CheckAccess deviceId={deviceId} />}
          </div>
        )}
      </div>
    </section>
  );
}
