/**
 * Portal panel "Get recovery key": reveals the key through the background (audited by the
 * service), shows it with a countdown and hides it after five minutes, or as soon as the page's
 * live state shows another active key for the volume (the device rotated it), saying why;
 * "no key" says what the service says (Store for a personal device, else IT's contact).
 * Copy puts the key on the clipboard, and the background clears it later if it still holds it.
 */
import { useEffect, useState } from 'preact/hooks';
import type { RevealedKey } from '../lib/api/contract.ts';
import { usePageActiveVersion } from '../utils/page-state.ts';
import { RevealedKeyView } from './RevealedKeyView.tsx';
import { copyShownKey } from '../utils/panel-copy.ts';
import { sendMessage } from '../utils/send.ts';
import { useVolumes, VolumePicker } from './VolumePicker.tsx';
import { failureText, useText } from './text.tsx';

type View =
  | { name: 'idle' }
  | { name: 'loading' }
  | { name: 'shown'; revealed: RevealedKey; shownAt: number; offline: boolean }
  | { name: 'hidden' }
  | { name: 'replaced' }
  | { name: 'no_key'; message: string }
  | { name: 'error'; message: string };

export function GetPanel({ deviceId }: { deviceId: string }) {
  const text = useText();
  const [view, setView] = useState<View>({ name: 'idle' });
  const [copyNote, setCopyNote] = useState<string | null>(null);
  useEffect(() => setCopyNote(null), [view]);
  const { volumes, volumeId, choose } = useVolumes(deviceId);
  const shown = view.name === 'shown' ? view.revealed : null;
  const activeOnPage = usePageActiveVersion(shown?.volumeId ?? null);
  useEffect(() => {
    if (shown && activeOnPage !== null && activeOnPage !== String(shown.version)) setView({ name: 'replaced' });
  }, [activeOnPage, shown]);

  async function copy(key: string) {
    setCopyNote(null);
    const copied = await copyShownKey(key);
    if (!copied.copied) return setCopyNote(text('ext.copy_failed'));
    setCopyNote(copied.clearAfterSeconds === null ? text('ext.copy_not_cleared') : text('ui.copied', { seconds: copied.clearAfterSeconds }));
  }

  async function reveal() {
    setView({ name: 'loading' });
    const reply = await sendMessage('key.reveal', { deviceId, volumeId }).catch(() => null);
    if (!reply) return setView({ name: 'error', message: text('ext.error_generic') });
    if (reply.ok) return setView({ name: 'shown', revealed: reply.key, shownAt: Date.now(), offline: reply.offline });
    if (reply.error.code === 'no_key') {
      if (reply.error.message) return setView({ name: 'no_key', message: reply.error.message });
      const state = await sendMessage('state.get', {}).catch(() => null);
      return setView({ name: 'no_key', message: text('flow.no_key', { contact: state?.supportContact ?? '' }) });
    }
    setView({ name: 'error', message: failureText(text, reply.error) });
  }

  return (
    <section class="kw-panel" aria-label={text('ui.get_key')} data-keyward-get="">
      {view.name !== 'shown' && <VolumePicker id="kw-get-volume" volumes={volumes} value={volumeId} onChange={choose} disabled={view.name === 'loading'} />}
      <div aria-live="polite">
        {view.name === 'shown' && (
          <>
            {view.offline && <div class="kw-notice kw-warn">{text('ext.offline_reveal')}</div>}
            <RevealedKeyView
              revealed={view.revealed} shownAt={view.shownAt} onHidden={() => setView({ name: 'hidden' })}
              actions={
                <>
                  <button type="button" class="kw-button kw-small" onClick={() => void copy(view.revealed.key)}>{text('ui.copy')}</button>
                  <button type="button" class="kw-button kw-secondary kw-small" onClick={() => setView({ name: 'idle' })}>{text('ui.hide')}</button>
                </>
              }
            />
            {copyNote && <p class="kw-muted" role="status" data-keyward-copy-note="">{copyNote}</p>}
          </>
        )}
        {view.name === 'hidden' && <p class="kw-muted" data-keyward-message="hidden">{text('flow.hidden_after')}</p>}
        {view.name === 'replaced' && <p class="kw-muted" data-keyward-message="replaced">{text('flow.key_replaced')}</p>}
        {view.name === 'no_key' && <div class="kw-notice kw-warn" data-keyward-message="no_key">{view.message}</div>}
        {view.name === 'error' && <div class="kw-notice kw-bad" role="alert">{view.message}</div>}
      </div>
      {view.name !== 'shown' && (
        <button type="button" class="kw-button" style="margin-top:8px" disabled={view.name === 'loading'} onClick={reveal}>
          {view.name === 'loading' ? text('ext.retrieving') : text('ui.get_key')}
        </button>
      )}
    </section>
  );
}
