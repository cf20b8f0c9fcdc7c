/** A revealed recovery key with a visible countdown; calls onHidden when five minutes are up. */
import { useEffect } from 'preact/hooks';
import { Fragment, type ComponentChildren } from 'preact';
import type { RevealedKey } from '../lib/api/contract.ts';
import { useSecondsLeft } from '../utils/countdown.ts';
import { formatMinutesSeconds } from '../lib/i18n/format.ts';
import { useText } from './text.tsx';

type Props = { revealed: RevealedKey; shownAt: number; onHidden: () => void; actions?: ComponentChildren };

/**
 * The key with a line-break opportunity after each group's dash. Firefox, following Unicode's
 * line-breaking rules, never breaks after a hyphen followed by a digit, so without these a
 * BitLocker key (all digits) would wrap inside a group there. `<wbr>` adds no text: copying
 * or selecting the key gives exactly the key.
 */
function breakableGroups(key: string): ComponentChildren {
  const groups = key.split('-');
  return groups.map((group, i) => (i < groups.length - 1 ? <Fragment key={i}>{group}-<wbr /></Fragment> : group));
}

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
      <div class="kw-key" data-keyward-key="" aria-labelledby="kw-key-label">{breakableGroups(revealed.key)}</div>
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
