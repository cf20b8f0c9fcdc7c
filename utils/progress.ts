/**
 * The vault's key-derivation progress, broadcast by the background. Content scripts' messages
 * reach extension pages too: only a message from an extension context (no tab) counts.
 */
import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import type { ProgressEvent } from './client/messages.ts';

type Sender = { tab?: unknown };

export function progressFromBackground(message: unknown, sender: Sender): number | null {
  if (sender.tab !== undefined) return null;
  const event = message as ProgressEvent | null;
  return event?.type === 'vault.progress' && typeof event.fraction === 'number' ? event.fraction : null;
}

/** The progress shown while a vault request derives its key: 0 to 1 as the background reports it, null when idle. */
export function useVaultProgress(): [number | null, (progress: number | null) => void] {
  const [progress, setProgress] = useState<number | null>(null);
  useEffect(() => {
    const listener = (message: unknown, sender: Sender) => {
      const fraction = progressFromBackground(message, sender);
      if (fraction !== null) setProgress(fraction);
    };
    browser.runtime.onMessage.addListener(listener);
    return () => browser.runtime.onMessage.removeListener(listener);
  }, []);
  return [progress, setProgress];
}
