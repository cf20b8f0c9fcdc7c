/** A device's platform: its icon (decoration, hidden from assistive technology) and its written name. */
import { h } from 'preact';
import type { Platform } from '../lib/api/contract.ts';
import { PLATFORM_DRAWINGS, PLATFORM_NAMES } from '../lib/platform-icons.ts';

export function PlatformIcon({ platform }: { platform: Platform }) {
  const drawing = PLATFORM_DRAWINGS[platform];
  return (
    <svg class="kw-platform-icon" data-keyward-platform-icon={platform} viewBox={drawing.viewBox} width="16" height="16" aria-hidden="true" focusable="false">
      {drawing.shapes.map(({ tag, attributes }, i) => h(tag, { key: i, ...attributes }))}
    </svg>
  );
}

export function PlatformLabel({ platform }: { platform: Platform }) {
  return (
    <span class="kw-platform" data-keyward-platform={platform}>
      <PlatformIcon platform={platform} />
      <span>{PLATFORM_NAMES[platform]}</span>
    </span>
  );
}
