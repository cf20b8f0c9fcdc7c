/**
 * The keys the background revealed to portal panels, each remembered only as its SHA-256 with
 * the tab it went to and the end of its shown window. A panel may have the clipboard cleared
 * only of a key its own tab was shown and is still showing: a page cannot use us to read or
 * clear anything else. Kept in storage.session, so a service-worker restart keeps them.
 */
import type { RevealedKey } from '../../lib/api/contract.ts';
import { sha256Hex } from '../../utils/clipboard.ts';
import type { PortalTab } from './sender-policy.ts';
import { panelRevealsItem, type PanelReveal } from './storage-items.ts';

/** The reveals still in their shown window at `now`. */
export function unexpired(reveals: readonly PanelReveal[], now: number): PanelReveal[] {
  return reveals.filter((reveal) => reveal.until > now);
}

/** Whether `tab` was shown the key with this hash and its shown window is still open at `now`. */
export function wasRevealedTo(reveals: readonly PanelReveal[], tab: PortalTab, sha256: string, now: number): boolean {
  return tab.frameId === 0 && unexpired(reveals, now).some((reveal) => reveal.tabId === tab.tabId && reveal.sha256 === sha256);
}

export async function rememberPanelReveal(tab: PortalTab, revealed: RevealedKey, now = Date.now()): Promise<void> {
  if (tab.frameId !== 0) return;
  const reveal: PanelReveal = { tabId: tab.tabId, sha256: await sha256Hex(revealed.key), until: now + revealed.hideAfterSeconds * 1000 };
  await panelRevealsItem.setValue([...unexpired(await panelRevealsItem.getValue(), now), reveal]);
}

export async function isPanelReveal(tab: PortalTab, sha256: string, now = Date.now()): Promise<boolean> {
  return wasRevealedTo(await panelRevealsItem.getValue(), tab, sha256, now);
}
