/**
 * The popup: device list with key-status badges from the local cache, quick retrieve
 * (reveal → key with countdown, hidden after five minutes; the vault passphrase only for an
 * offline copy), copy with
 * clipboard clearing, "Sync now", and the offline, locked and signed-out states.
 */
import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import type { CachedDevice, ExtensionState } from '../../utils/client/messages.ts';
import { STYLES } from '../../components/styles.ts';
import { sendMessage } from '../../utils/send.ts';
import { failureText, LocaleProvider, useText } from '../../components/text.tsx';
import type { MessageTable } from '../../lib/i18n/extension/table.ts';
import { signInFromPopup } from '../../utils/sign-in.ts';
import { DeviceList } from './DeviceList.tsx';
import { RetrieveCard, type Retrieve } from './RetrieveCard.tsx';

type Props = { initialState: ExtensionState; initialDevices: CachedDevice[] };

/** Opening the popup refreshes statuses in the background when the last sync is older than this. */
const STALE_AFTER_MS = 60_000;

export function Popup({ initialState, initialDevices, table }: Props & { table: MessageTable }) {
  return (
    <LocaleProvider locale={initialState.locale} table={table}>
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
    // Online, the signed-in extension is enough, as on the portal: the vault passphrase guards only
    // the copies kept for offline use, so it is asked for only when the service cannot be reached.
    setRetrieve({ name: 'loading', device });
    const [current, reply] = await Promise.all([sendMessage('state.get', {}), sendMessage('key.reveal', { deviceId: device.id, volumeId })]);
    setState(current);
    if (!reply.ok && reply.error.code === 'locked') {
      setRetrieve({ name: 'unlock', device });
    } else if (reply.ok) {
      setRetrieve({ name: 'shown', device, revealed: reply.key, shownAt: Date.now(), offline: reply.offline });
    } else if (reply.error.code === 'no_key') {
      setRetrieve({ name: 'error', device, message: text('flow.no_key', { contact: current.supportContact ?? '' }) });
    } else {
      setRetrieve({ name: 'error', device, message: failureText(text, reply.error) });
    }
    await refresh();
  }

  async function lock() {
    await sendMessage('vault.lock', {});
    setRetrieve({ name: 'none' });
    await refresh();
  }

  /** Closes the card (the key leaves the state) and gives keyboard focus back to the device's button. */
  function closeRetrieve(device: CachedDevice) {
    setRetrieve({ name: 'none' });
    requestAnimationFrame(() => document.querySelector<HTMLButtonElement>(`[data-keyward-device="${CSS.escape(device.id)}"] button`)?.focus());
  }

  const openSettings = () => void browser.runtime.openOptionsPage();

  return (
    <main class="kw-root" style="padding:12px">
      <header class="kw-spread" style="margin-bottom:10px">
        <h1 style="font-size:16px;margin:0">Keyward</h1>
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
          <button type="button" class="kw-button" onClick={() => void signInFromPopup()}>{text('ui.sign_in')}</button>
        </section>
      ) : (
        <>
          {retrieve.name !== 'none' && (
            <RetrieveCard
              retrieve={retrieve} onReveal={reveal} onClose={() => closeRetrieve(retrieve.device)}
              onHidden={() => setRetrieve({ name: 'hidden', device: retrieve.device })}
            />
          )}
          <DeviceList state={state} devices={devices} onReveal={(device) => void reveal(device)} onLock={lock} onOpenSettings={openSettings} />
        </>
      )}
    </main>
  );
}
