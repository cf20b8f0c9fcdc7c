/**
 * The platforms' names and icons (macOS, Windows, Linux), drawn once for the portal
 * (server/portal/platform-icons.ts) and the extension (components/PlatformIcon.tsx): each icon is
 * a list of SVG shapes on a 24×24 grid that take the text colour. Data only, no markup.
 */
import type { Platform } from './api/contract.ts';

export const PLATFORM_NAMES: Record<Platform, string> = { macos: 'macOS', windows: 'Windows', linux: 'Linux' };

export type IconShape = { tag: 'rect' | 'path'; attributes: Readonly<Record<string, string>> };
export type PlatformDrawing = { viewBox: string; shapes: readonly IconShape[] };

const VIEW_BOX = '0 0 24 24';
const rect = (attributes: Record<string, string>): IconShape => ({ tag: 'rect', attributes });
const path = (attributes: Record<string, string>): IconShape => ({ tag: 'path', attributes });
const pane = (x: string, y: string) => rect({ x, y, width: '8.25', height: '8.25', fill: 'currentColor' });
const outline = { fill: 'none', stroke: 'currentColor', 'stroke-width': '2' };

/** A laptop (macOS), four panes (Windows), a terminal prompt (Linux). */
export const PLATFORM_DRAWINGS: Record<Platform, PlatformDrawing> = {
  macos: {
    viewBox: VIEW_BOX,
    shapes: [
      rect({ x: '4', y: '4', width: '16', height: '11', rx: '1.5', ...outline }),
      path({ d: 'M1.5 18h21l-1.5 2.5h-18z', fill: 'currentColor' }),
    ],
  },
  windows: { viewBox: VIEW_BOX, shapes: [pane('3', '3'), pane('12.75', '3'), pane('3', '12.75'), pane('12.75', '12.75')] },
  linux: {
    viewBox: VIEW_BOX,
    shapes: [
      rect({ x: '2.5', y: '3.5', width: '19', height: '17', rx: '2', ...outline }),
      path({ d: 'M6.5 9l3.5 3-3.5 3', ...outline, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }),
      path({ d: 'M12 16h5', stroke: 'currentColor', 'stroke-width': '2', 'stroke-linecap': 'round' }),
    ],
  },
};
