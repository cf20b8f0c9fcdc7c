/**
 * Popup entry: reads the state and the cached device statuses from the background (no
 * network, no unlock), renders them, and marks `keyward:statuses` when they are on screen
 * (performance entry read by the popup_status_ms benchmark).
 */
import { render } from 'preact';
import { pickLocale, t } from '../../lib/i18n/index.ts';
import { Popup } from './Popup.tsx';
import { sendMessage } from '../../components/send.ts';

const app = document.getElementById('app')!;

async function start(): Promise<void> {
  const [state, cached] = await Promise.all([sendMessage('state.get', {}), sendMessage('devices.cached', {})]);
  document.documentElement.lang = state.locale;
  render(<Popup initialState={state} initialDevices={cached.devices} />, app);
  requestAnimationFrame(() => {
    const mark = performance.mark('keyward:statuses', { detail: { devices: cached.devices.length } });
    document.documentElement.dataset.popupStatusMs = mark.startTime.toFixed(1);
  });
}

start().catch(() => {
  render(<p role="alert" style="padding:12px">{t(pickLocale(navigator.languages.join(',')), 'ext.error_generic')}</p>, app);
});
