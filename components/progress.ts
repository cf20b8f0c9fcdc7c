/**
 * The vault's key-derivation progress, broadcast by the background. Content scripts' messages
 * reach extension pages too: only a message from an extension context (no tab) counts.
 */
import type { ProgressEvent } from '../lib/client/messages.ts';

type Sender = { tab?: unknown };

export function progressFromBackground(message: unknown, sender: Sender): number | null {
  if (sender.tab !== undefined) return null;
  const event = message as ProgressEvent | null;
  return event?.type === 'vault.progress' && typeof event.fraction === 'number' ? event.fraction : null;
}
