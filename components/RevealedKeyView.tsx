/** A revealed recovery key with a visible countdown; calls onHidden when five minutes are up. */
import { useEffect } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { RevealedKey } from '../lib/api/contract.ts';
import { formatMinutesSeconds, useSecondsLeft } from './countdown.ts';
import { useText } from './text.tsx';

type Props = { revealed: RevealedKey; shownAt: number; onHidden: () => void; actions?: ComponentChildren };

export function RevealedKeyView({ revealed, shownAt, onHidden, actions }: Props) {
  const text = useText();
  const secondsLeft = useSecondsLeft(shownAt + revealed.hideAfterSeconds * 1000);
  useEffect(() => {
    if (secondsLeft === 0) onHidden();
  }, [secondsLeft === 0]);
  if (secondsLeft === 0) return null;
  return (
    <div class="kw-revealed" data-keyward-revealed="">
      <div class="kw-muted" id="kw-key-label">{text('ext.key_label', { volume: revealed.volumeName })}</div>
      <div class="kw-key" data-keyward-key="" aria-labelledby="kw-key-label">{revealed.key}</div>
      {revealed.protectorId && <div class="kw-muted" data-keyward-protector="">{text('ext.protector_id', { id: revealed.protectorId })}</div>}
      <div class="kw-spread" style="margin-top:8px">
        <span class="kw-muted kw-countdown" data-keyward-countdown="" role="timer" aria-live="off">
          {text('flow.hides_in', { time: formatMinutesSeconds(secondsLeft) })}
        </span>
        <span class="kw-row">{actions}</span>
      </div>
    </div>
  );
}
