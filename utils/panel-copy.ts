/**
 * Copy in a portal panel: puts the shown key on the clipboard, then asks the background to clear
 * it later. The background agrees only for a key it revealed to this tab and that is still in its
 * shown window (entrypoints/background/panel-reveals.ts); only the key's SHA-256 is sent.
 */
import { sha256Hex } from './clipboard.ts';
import { sendMessage } from './send.ts';

/** `clearAfterSeconds` null: copied, but the background did not agree to clear it. */
export type PanelCopy = { copied: false } | { copied: true; clearAfterSeconds: number | null };

export async function copyShownKey(key: string): Promise<PanelCopy> {
  try {
    await navigator.clipboard.writeText(key);
  } catch {
    return { copied: false };
  }
  const reply = await sendMessage('panel.copied', { sha256: await sha256Hex(key) }).catch(() => null);
  return { copied: true, clearAfterSeconds: reply?.ok ? reply.clearAfterSeconds : null };
}
