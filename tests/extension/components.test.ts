/** The extension pages' small non-UI helpers (components/*.ts): progress events, the countdown's format, the clipboard hash. */
// utils/progress.ts imports wxt/browser: the fake browser goes first.
import './fake-extension.ts';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../utils/clipboard.ts';
import { formatMinutesSeconds } from '../../lib/i18n/format.ts';
import { progressFromBackground } from '../../utils/progress.ts';

describe('vault progress', () => {
  it('counts only the background’s progress events, never one from a content script in a tab', () => {
    expect(progressFromBackground({ type: 'vault.progress', fraction: 0.25 }, {})).toBe(0.25);
    expect(progressFromBackground({ type: 'vault.progress', fraction: 0.25 }, { tab: { id: 3 } })).toBeNull();
    expect(progressFromBackground({ type: 'vault.progress', fraction: '0.5' }, {})).toBeNull();
    expect(progressFromBackground({ type: 'state.get' }, {})).toBeNull();
    expect(progressFromBackground(null, {})).toBeNull();
  });
});

describe('countdown', () => {
  it('shows minutes and two-digit seconds', () => {
    expect(formatMinutesSeconds(300)).toBe('5:00');
    expect(formatMinutesSeconds(181)).toBe('3:01');
    expect(formatMinutesSeconds(9)).toBe('0:09');
    expect(formatMinutesSeconds(0)).toBe('0:00');
  });
});

describe('clipboard hash', () => {
  it('is the SHA-256 of the copied text, in hex', async () => {
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
