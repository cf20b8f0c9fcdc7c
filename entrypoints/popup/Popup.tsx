/**
 * The popup: device list with key-status badges from the local cache, quick retrieve
 * (unlock if needed → reveal → key with countdown, hidden after five minutes), copy with
 * clipboard clearing, "Sync now", and the offline, locked and signed-out states.
 */
import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import type { RevealedKey } from '../../lib/api/contract.ts';
import type { CachedDevice, ExtensionState } from '../../lib/client/messages.ts';
import { sha256Hex } from '../../components/clipboard.ts';
import { RevealedKeyView } from '../../components/RevealedKeyView.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { STYLES } from '../../components/styles.ts';
import { sendMessage } from '../../components/send.ts';
import { failureText, LocaleProvider, useText } from '../../components/text.tsx';
import { UnlockForm } from './UnlockForm.tsx';

type Retrieve =
  | { name: 'none' }
  | { name: 'unlock'; device: CachedDevice }
  | { name: 'loading'; device: CachedDevice }
  | { name: 'shown'; device: CachedDevice; revealed: RevealedKey; shownAt: number; offline: boolean }
  | { name: 'hidden'; device: CachedDevice }
  | { name: 'error'; device: CachedDevice; message: string };

type Props = { initialState: ExtensionState; initialDevices: CachedDevice[] };

/** Opening the popup refreshes statuses in the background when the last sync is older than this. */
const STALE_AFTER_MS = 60_000;

export function Popup({ initialState, initialDevices }: Props) {
  return (
    <LocaleProvider locale={initialState.locale}>
      <style>{STYLES}</style>
      <PopupBody initialState={initialState} initialDevices={initialDevices} />
    </LocaleProvider>
  );
}

function PopupBody({ initialState, initialDevices }: Props) {
  const text = useText();
  const [state, setState] = useState(initialState);
  const [devices, setDevices] = useState(initialDevices);
  const [syncing, setSyncing] = useState(false);
  const [syncError, setSyncError] = useState<string | null>(null);
  const [retrieve, setRetrieve] = useState<Retrieve>({ name: 'none' });
  const [copyNote, setCopyNote] = useState<string | null>(null);

  async function refresh() {
    const [next, cached] = await Promise.all([sendMessage('state.get', {}), sendMessage('devices.cached', {})]);
    setState(next);
    setDevices(cached.devices);
  }

  useEffect(() => {
    const stale = !initialState.lastSyncAt || Date.now() - Date.parse(initialState.lastSyncAt) > STALE_AFTER_MS;
    if (initialState.signedIn && stale) void syncNow({ quiet: true });
  }, []);

  async function syncNow(options: { quiet?: boolean } = {}) {
    setSyncing(true);
    setSyncError(null);
    const reply = await sendMessage('sync.now', {});
    if (!reply.ok && !options.quiet) setSyncError(failureText(text, reply.error));
    await refresh();
    setSyncing(false);
  }

  async function reveal(device: CachedDevice, volumeId?: string) {
    setCopyNote(null);
    const current = await sendMessage('state.get', {});
    setState(current);
    if (current.vault === 'locked') return setRetrieve({ name: 'unlock', device });
    setRetrieve({ name: 'loading', device });
    const reply = await sendMessage('key.reveal', { deviceId: device.id, volumeId });
    if (reply.ok) {
      setRetrieve({ name: 'shown', device, revealed: reply.key, shownAt: Date.now(), offline: reply.offline });
    } else if (reply.error.code === 'no_key') {
      setRetrieve({ name: 'error', device, message: text('flow.no_key', { contact: current.supportContact ?? '' }) });
    } else {
      setRetrieve({ name: 'error', device, message: failureText(text, reply.error) });
    }
    await refresh();
  }

  async function copy(key: string) {
    try {
      await navigator.clipboard.writeText(key);
      const [settings] = await Promise.all([sendMessage('settings.get', {}), sendMessage('clipboard.copied', { sha256: await sha256Hex(key) })]);
      setCopyNote(text('ui.copied', { seconds: settings.clipboardSeconds }));
    } catch {
      setCopyNote(text('ext.copy_failed'));
    }
  }

  async function lock() {
    await sendMessage('vault.lock', {});
    setRetrieve({ name: 'none' });
    await refresh();
  }

  const openSettings = () => void browser.runtime.openOptionsPage();

  return (
    <main class="kw-root" style="padding:12px">
      <header class="kw-spread" style="margin-bottom:10px">
        <strong style="font-size:16px">Keyward</strong>
        <span class="kw-row">
          {state.signedIn && (
            <button type="button" class="kw-button kw-secondary kw-small" onClick={() => void syncNow()} disabled={syncing} data-keyward-action="sync">
              {syncing ? text('ext.syncing') : text('ui.sync_now')}
            </button>
          )}
          <button type="button" class="kw-button kw-secondary kw-small" onClick={openSettings}>{text('ext.settings')}</button>
        </span>
      </header>

      <div aria-live="polite">
        {state.signedIn && !state.online && <div class="kw-notice kw-warn" data-keyward-state="offline">{text('ui.offline')}</div>}
        {syncError && <div class="kw-notice kw-bad" role="alert">{syncError}</div>}
      </div>

      {!state.signedIn ? (
        <section class="kw-card" data-keyward-state="signed-out">
          <p style="margin-top:0">{text('ext.sign_in_prompt')}</p>
          <button type="button" class="kw-button" onClick={() => void sendMessage('auth.signIn', {})}>{text('ui.sign_in')}</button>
        </section>
      ) : (
        <>
          {retrieve.name !== 'none' && (
            <section class="kw-card" style="margin:10px 0" aria-labelledby="kw-retrieve-title" data-keyward-retrieve="">
              <div class="kw-spread">
                <h2 class="kw-title" id="kw-retrieve-title" style="margin:0">{retrieve.device.name}</h2>
                <button type="button" class="kw-link" onClick={() => setRetrieve({ name: 'none' })}>{text('ext.back')}</button>
              </div>
              <div aria-live="polite" style="margin-top:8px">
                {retrieve.name === 'unlock' && <UnlockForm onUnlocked={() => void reveal(retrieve.device)} />}
                {retrieve.name === 'loading' && <p class="kw-muted">{text('ext.retrieving')}</p>}
                {retrieve.name === 'shown' && (
                  <>
                    {retrieve.device.volumes.length > 1 && (
                      <div class="kw-field">
                        <label for="kw-popup-volume">{text('portal.volume')}</label>
                        <select id="kw-popup-volume" class="kw-input" value={retrieve.revealed.volumeId}
                          onChange={(e) => void reveal(retrieve.device, e.currentTarget.value)}>
                          {retrieve.device.volumes.map((v) => <option key={v.id} value={v.id}>{v.name}</option>)}
                        </select>
                      </div>
                    )}
                    {retrieve.offline && <div class="kw-notice kw-warn" style="margin:0 0 8px">{text('ext.offline_reveal')}</div>}
                    <RevealedKeyView
                      revealed={retrieve.revealed} shownAt={retrieve.shownAt}
                      onHidden={() => setRetrieve({ name: 'hidden', device: retrieve.device })}
                      actions={
                        <>
                          <button type="button" class="kw-button kw-small" onClick={() => void copy(retrieve.revealed.key)}>{text('ui.copy')}</button>
                          <button type="button" class="kw-button kw-secondary kw-small" onClick={() => setRetrieve({ name: 'none' })}>{text('ui.hide')}</button>
                        </>
                      }
                    />
                    {copyNote && <p class="kw-muted" role="status">{copyNote}</p>}
                  </>
                )}
                {retrieve.name === 'hidden' && (
                  <>
                    <p class="kw-muted" data-keyward-message="hidden">{text('flow.hidden_after')}</p>
                    <button type="button" class="kw-button kw-small" onClick={() => void reveal(retrieve.device)}>{text('ui.get_key')}</button>
                  </>
                )}
                {retrieve.name === 'error' && <div class="kw-notice kw-bad" role="alert" style="margin:0">{retrieve.message}</div>}
              </div>
            </section>
          )}

          <section class="kw-card" aria-labelledby="kw-devices-title">
            <div class="kw-spread">
              <h2 class="kw-title" id="kw-devices-title" style="margin:0">{text('ui.my_devices')}</h2>
              {state.vault === 'unlocked' ? (
                <button type="button" class="kw-link" onClick={lock} data-keyward-vault="unlocked">{text('ui.lock')}</button>
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
                        <StatusBadge status={device.keyStatus} />
                        <span class="kw-muted">{text(`ui.ownership.${device.ownership}`)}</span>
                      </div>
                    </div>
                    <button
                      type="button" class="kw-button kw-secondary kw-small" onClick={() => void reveal(device)}
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
                {text('ext.no_vault')} <button type="button" class="kw-link" onClick={openSettings}>{text('ext.open_settings')}</button>
              </p>
            )}
            <p class="kw-muted" style="margin:8px 0 0">
              {state.lastSyncAt ? text('ext.last_sync', { time: new Date(state.lastSyncAt).toLocaleString(state.locale) }) : text('ext.never_synced')}
            </p>
          </section>
        </>
      )}
    </main>
  );
}
