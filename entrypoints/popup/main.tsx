/**
 * Popup entry: reads the state and the cached device statuses from the background (no
 * network, no unlock), loads the messages of the popup's language only, renders, and marks
 * `keyward:statuses` when the statuses are on screen (performance entry read by the
 * popup_status_ms benchmark).
 */
import { render } from 'preact';
import { pickLocale } from '../../lib/i18n/locales.ts';
import { Popup } from './Popup.tsx';
import { sendMessage } from '../../utils/send.ts';
import { loadMessageTable, textFrom } from '../../components/text.tsx';

const app = document.getElementById('app')!;

async function start(): Promise<void> {
  const [state, cached] = await Promise.all([sendMessage('state.get', {}), sendMessage('devices.cached', {})]);
  const table = await loadMessageTable(state.locale);
  document.documentElement.lang = state.locale;
  render(<Popup initialState={state} initialDevices={cached.devices} table={table} />, app);
  requestAnimationFrame(() => {
    const mark = performance.mark('keyward:statuses', { detail: { devices: cached.devices.length } });
    document.documentElement.dataset.popupStatusMs = mark.startTime.toFixed(1);
  });
}

async function showFailure(): Promise<void> {
  const text = textFrom(await loadMessageTable(pickLocale(navigator.languages.join(','))));
  render(<p role="alert" style="padding:12px">{text('ext.error_generic')}</p>, app);
}

start().catch(showFailure);
