/**
 * The disk passphrase on the device: at a terminal it is read in raw mode (nothing echoed,
 * backspace works); from a pipe, one passphrase per line.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { passphraseSource } from '../../agent/passphrase-prompt.ts';

function terminal(): { input: PassThrough & { isTTY: boolean; setRawMode(raw: boolean): void }; raw: boolean[]; shown: string[] } {
  const raw: boolean[] = [];
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (on: boolean) => void raw.push(on) });
  return { input, raw, shown: [] };
}

describe('passphrase prompt', () => {
  it('at a terminal: raw mode while typing, nothing echoed, backspace removes a character', async () => {
    const t = terminal();
    const source = passphraseSource(t.input, { write: (text: string) => t.shown.push(text) });
    expect(source.interactive).toBe(true);
    const answer = source.next('Passphrase: ');
    t.input.write('secreX\u007ft pass\r');
    expect(await answer).toBe('secret pass');
    expect(t.raw).toEqual([true, false]);
    expect(t.shown.join('')).toBe('Passphrase: \n');
  });

  it('from a pipe: one passphrase per line, then null', async () => {
    const input = new PassThrough();
    input.end('first\r\nsecond\n');
    const source = passphraseSource(input, { write: () => undefined });
    expect(source.interactive).toBe(false);
    expect([await source.next('a'), await source.next('b'), await source.next('c')]).toEqual(['first', 'second', null]);
  });
});
