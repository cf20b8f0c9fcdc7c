/** Options page entry. */
import { render } from 'preact';
import { Options } from './Options.tsx';
import { sendMessage } from '../../components/send.ts';

async function start(): Promise<void> {
  const [state, settings] = await Promise.all([sendMessage('state.get', {}), sendMessage('settings.get', {})]);
  document.documentElement.lang = state.locale;
  render(<Options initialState={state} initialSettings={settings} />, document.getElementById('app')!);
}

void start();
