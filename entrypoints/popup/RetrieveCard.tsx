/** The popup's quick-retrieve card: the key with its countdown and Copy, the unlock prompt for an offline copy, or why not. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { RevealedKey } from '../../lib/api/contract.ts';
import type { CachedDevice } from '../../utils/client/messages.ts';
import { sha256Hex } from '../../utils/clipboard.ts';
import { RevealedKeyView } from '../../components/RevealedKeyView.tsx';
import { sendMessage } from '../../utils/send.ts';
import { useText } from '../../components/text.tsx';
import { UnlockForm } from '../../components/UnlockForm.tsx';
import { VolumePicker } from '../../components/VolumePicker.tsx';

export type Retrieve =
  | { name: 'none' }
  | { name: 'unlock'; device: CachedDevice }
  | { name: 'loading'; device: CachedDevice }
  | { name: 'shown'; device: CachedDevice; revealed: RevealedKey; shownAt: number; offline: boolean }
  | { name: 'hidden'; device: CachedDevice }
  | { name: 'error'; device: CachedDevice; message: string };

type Props = {
  retrieve: Exclude<Retrieve, { name: 'none' }>;
  onReveal: (device: CachedDevice, volumeId?: string) => Promise<void>;
  onClose: () => void;
  onHidden: () => void;
};

export function RetrieveCard({ retrieve, onReveal, onClose, onHidden }: Props) {
  const text = useText();
  const [copyNote, setCopyNote] = useState<string | null>(null);
  const copyButton = useRef<HTMLButtonElement>(null);
  useEffect(() => setCopyNote(null), [retrieve]);
  // The card opens above the list: take keyboard focus to the key's first action.
  useEffect(() => {
    if (retrieve.name === 'shown') copyButton.current?.focus();
  }, [retrieve.name]);

  async function copy(key: string) {
    try {
      await navigator.clipboard.writeText(key);
      const [settings] = await Promise.all([sendMessage('settings.get', {}), sendMessage('clipboard.copied', { sha256: await sha256Hex(key) })]);
      setCopyNote(text('ui.copied', { seconds: settings.clipboardSeconds }));
    } catch {
      setCopyNote(text('ext.copy_failed'));
    }
  }

  return (
    <section class="kw-card" style="margin:10px 0" aria-labelledby="kw-retrieve-title" data-keyward-retrieve="">
      <div class="kw-spread">
        <h2 class="kw-title" id="kw-retrieve-title" style="margin:0">{retrieve.device.name}</h2>
        <button type="button" class="kw-link" onClick={() => onClose()}>{text('ext.back')}</button>
      </div>
      <div aria-live="polite" style="margin-top:8px">
        {retrieve.name === 'unlock' && <UnlockForm prompt="ext.unlock_offline_prompt" onUnlocked={() => void onReveal(retrieve.device)} />}
        {retrieve.name === 'loading' && <p class="kw-muted">{text('ext.retrieving')}</p>}
        {retrieve.name === 'shown' && (
          <>
            <VolumePicker id="kw-popup-volume" volumes={retrieve.device.volumes} value={retrieve.revealed.volumeId}
              onChange={(volumeId) => void onReveal(retrieve.device, volumeId)} />
            {retrieve.offline && <div class="kw-notice kw-warn" style="margin:0 0 8px">{text('ext.offline_reveal')}</div>}
            <RevealedKeyView
              revealed={retrieve.revealed} shownAt={retrieve.shownAt}
              onHidden={onHidden}
              actions={
                <>
                  <button type="button" ref={copyButton} class="kw-button kw-small" onClick={() => void copy(retrieve.revealed.key)}>{text('ui.copy')}</button>
                  <button type="button" class="kw-button kw-secondary kw-small" onClick={() => onClose()}>{text('ui.hide')}</button>
                </>
              }
            />
            {copyNote && <p class="kw-muted" role="status">{copyNote}</p>}
          </>
        )}
        {retrieve.name === 'hidden' && (
          <>
            <p class="kw-muted" data-keyward-message="hidden">{text('flow.hidden_after')}</p>
            <button type="button" class="kw-button kw-small" onClick={() => void onReveal(retrieve.device)}>{text('ui.get_key')}</button>
          </>
        )}
        {retrieve.name === 'error' && <div class="kw-notice kw-bad" role="alert" style="margin:0">{retrieve.message}</div>}
      </div>
    </section>
  );
}
