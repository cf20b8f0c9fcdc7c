/** The platform drawings shared by the portal and the popup (lib/platform-icons.ts), as the portal renders them. */
import { describe, expect, it } from 'vitest';
import { PLATFORM_DRAWINGS, PLATFORM_NAMES } from '../../lib/platform-icons.ts';
import { platformIcon } from '../../server/portal/platform-icons.ts';

describe('platform icons', () => {
  it('the portal draws each platform from the shared shapes, on the shared grid', () => {
    for (const platform of ['macos', 'windows', 'linux'] as const) {
      const markup = String(platformIcon(platform));
      const drawing = PLATFORM_DRAWINGS[platform];
      expect(markup).toContain(`viewBox="${drawing.viewBox}"`);
      for (const shape of drawing.shapes) {
        expect(markup).toContain(`<${shape.tag} ${Object.entries(shape.attributes).map(([name, value]) => `${name}="${value}"`).join(' ')}/>`);
      }
      expect(markup.match(/<(rect|path) /g)).toHaveLength(drawing.shapes.length);
    }
    expect(PLATFORM_NAMES).toEqual({ macos: 'macOS', windows: 'Windows', linux: 'Linux' });
  });

  it('keeps the drawings the portal had (the laptop of macOS, exactly)', () => {
    expect(String(platformIcon('macos'))).toBe(
      '<svg class="platform-icon" data-platform-icon="macos" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">'
      + '<rect x="4" y="4" width="16" height="11" rx="1.5" fill="none" stroke="currentColor" stroke-width="2"/><path d="M1.5 18h21l-1.5 2.5h-18z" fill="currentColor"/></svg>',
    );
  });
});
