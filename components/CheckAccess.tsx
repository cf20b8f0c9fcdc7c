/** "Check access": asks the device to check in now (shown with M3 "hasn't checked in"). */
import { useState } from 'preact/hooks';
import { sendMessage } from './send.ts';
import { failureText, useText } from './text.tsx';

export function CheckAccess({ deviceId }: { deviceId: string }) {
  const text = useText();
  const [sent, setSent] = useState<string | null>(null);
  async function ask() {
    const reply = await sendMessage('device.checkAccess', { deviceId }).catch(() => null);
    setSent(reply?.ok ? text('portal.check_access_sent') : reply ? failureText(text, reply.error) : text('ext.error_generic'));
  }
  return (
    <div class="kw-row" style="margin-top:8px">
      <button type="button" class="kw-button kw-secondary kw-small" onClick={ask}>{text('ui.check_access')}</button>
      {sent && <span role="status">{sent}</span>}
    </div>
  );
}
