/**
 * The panels and the portal page show one state: the page's live part (`#device-live`, drawn
 * by the service and fetched again by the page's own script) is the only place outcomes (M3/M4,
 * "Saving…") are written. A panel tells the page something changed (`keyward:changed` on
 * document, which the page's script listens for), asks it to keep looking while the panel
 * shows a key (`data-keyward-watching` on <body>), and reads the volume's active key version
 * from the page's rows — so a key the device has replaced is hidden in the panel too.
 */
import { useEffect, useState } from 'preact/hooks';

export function pageStateChanged(): void {
  document.dispatchEvent(new Event('keyward:changed'));
}

function activeVersionOnPage(volumeId: string): string | null {
  for (const row of document.querySelectorAll<HTMLElement>('#device-live tr[data-volume]')) {
    if (row.dataset.volume === volumeId) return row.dataset.activeVersion ?? null;
  }
  return null;
}

/**
 * While `volumeId` is given, the page keeps its live part current and this returns the
 * volume's active version as the page shows it (null when the page shows none).
 */
export function usePageActiveVersion(volumeId: string | null): string | null {
  const [version, setVersion] = useState<string | null>(() => (volumeId ? activeVersionOnPage(volumeId) : null));
  useEffect(() => {
    if (!volumeId) return;
    document.body.dataset.keywardWatching = '1';
    pageStateChanged();
    const look = () => setVersion(activeVersionOnPage(volumeId));
    look();
    const observer = new MutationObserver(look);
    observer.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-active-version'] });
    return () => {
      observer.disconnect();
      delete document.body.dataset.keywardWatching;
    };
  }, [volumeId]);
  return version;
}

/**
 * Each time the page's live part changes, the extension's copy of the device (what the popup
 * shows) is refreshed from the service too, so the popup does not lag behind the page.
 */
export function followPageState(onChange: () => void): () => void {
  const observer = new MutationObserver((records) => {
    const replaced = records.some((r) => Array.from(r.addedNodes).some((n) => n instanceof HTMLElement && n.id === 'device-live'));
    if (replaced) onChange();
  });
  observer.observe(document.body, { childList: true, subtree: true });
  return () => observer.disconnect();
}
