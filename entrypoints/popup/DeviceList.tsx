/** The popup's device list: platform, key-status badges from the local cache, Get recovery key, vault state. */
import type { CachedDevice, ExtensionState } from '../../utils/client/messages.ts';
import { PlatformLabel } from '../../components/PlatformIcon.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { useText } from '../../components/text.tsx';
import { formatTime } from '../../lib/i18n/format.ts';

type Props = {
  state: ExtensionState;
  devices: CachedDevice[];
  onReveal: (device: CachedDevice) => void;
  onLock: () => void;
  onOpenSettings: () => void;
};

export function DeviceList({ state, devices, onReveal, onLock, onOpenSettings }: Props) {
  const text = useText();
  return (
    <section class="kw-card" aria-labelledby="kw-devices-title">
      <div class="kw-spread">
        <h2 class="kw-title" id="kw-devices-title" style="margin:0">{text('ui.my_devices')}</h2>
        {state.vault === 'unlocked' ? (
          <button type="button" class="kw-link" onClick={onLock} data-keyward-vault="unlocked">{text('ui.lock')}</button>
        ) : state.vault === 'locked' ? (
          <span class="kw-muted" data-keyward-vault="locked">{text('ui.locked')}</span>
        ) : null}
      </div>
      {devices.length === 0 ? (
        <p class="kw-muted">{text('ext.no_devices')}</p>
      ) : (
        <ul class="kw-devices" data-keyward-devices="">
          {devices.map((device) => (
            <li class="kw-device" key={device.id} data-keyward-device={device.id}>
              <div>
                <div class="kw-device-name">{device.name}</div>
                <div class="kw-row" style="margin-top:2px">
                  <PlatformLabel platform={device.platform} />
                  <span class="kw-muted">· {text(`ui.ownership.${device.ownership}`)}</span>
                </div>
                <div style="margin-top:4px"><StatusBadge status={device.keyStatus} /></div>
              </div>
              <button
                type="button" class="kw-button kw-secondary kw-small" onClick={() => onReveal(device)}
                aria-label={`${text('ui.get_key')}: ${device.name}`} disabled={device.keyStatus === 'missing'}
              >
                {text('ui.get_key')}
              </button>
            </li>
          ))}
        </ul>
      )}
      {state.vault === 'none' && (
        <p class="kw-muted" style="margin:8px 0 0" data-keyward-vault="none">
          {text('ext.no_vault')} <button type="button" class="kw-link" onClick={onOpenSettings}>{text('ext.open_settings')}</button>
        </p>
      )}
      <p class="kw-muted" style="margin:8px 0 0" data-keyward-last-sync="">
        {state.lastSyncAt ? text('ext.last_sync', { time: formatTime(state.locale, state.lastSyncAt) ?? '' }) : text('ext.never_synced')}
      </p>
    </section>
  );
}
