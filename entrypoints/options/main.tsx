/** Options page entry. */
import { render } from 'preact';
import { Options } from './Options.tsx';
import { sendMessage } from '../../utils/send.ts';
import { loadMessageTable } from '../../components/text.tsx';

async function start(): Promise<void> {
  const [state, settings] = await Promise.all([sendMessage('state.get', {}), sendMessage('settings.get', {})]);
  const table = await loadMessageTable(state.locale);
  document.documentElement.lang = state.locale;
  render(<Options initialState={state} initialSettings={settings} table={table} />, document.getElementById('app')!);
}

void start();
