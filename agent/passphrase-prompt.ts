/**
 * Reads the person's disk passphrase on the device: typed at the terminal without echo, or,
 * for automation, one passphrase per line on standard input. The passphrase authorizes the
 * agent's own key slot and is never written anywhere, logged or sent to the service.
 */
export type PassphraseSource = {
  /** The next passphrase, or null when standard input has no more lines. */
  next(prompt: string): Promise<string | null>;
  readonly interactive: boolean;
};

/** What is used of standard input (a terminal has `isTTY` and `setRawMode`). */
export type PassphraseInput = AsyncIterable<Buffer | string> & {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
  resume(): unknown;
  pause(): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  on(event: 'data', listener: (chunk: string) => void): unknown;
  off(event: 'data', listener: (chunk: string) => void): unknown;
};

export function passphraseSource(input: PassphraseInput = process.stdin, output: { write(text: string): unknown } = process.stderr): PassphraseSource {
  const setRawMode = input.setRawMode?.bind(input);
  return input.isTTY && setRawMode ? terminalSource(input, setRawMode, output) : linesSource(input);
}

function linesSource(input: PassphraseInput): PassphraseSource {
  let lines: Promise<string[]> | null = null;
  const readAll = async (): Promise<string[]> => {
    const chunks: Buffer[] = [];
    for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/).filter((line) => line.length > 0);
  };
  let index = 0;
  return {
    interactive: false,
    async next() {
      lines ??= readAll();
      const all = await lines;
      return index < all.length ? all[index++] : null;
    },
  };
}

/** Raw mode: the terminal does not echo; each key arrives as typed and nothing is shown. */
function terminalSource(input: PassphraseInput, setRawMode: (raw: boolean) => unknown, output: { write(text: string): unknown }): PassphraseSource {
  return {
    interactive: true,
    next(prompt) {
      return new Promise((resolve) => {
        output.write(prompt);
        let typed = '';
        setRawMode(true);
        input.resume();
        input.setEncoding('utf8');
        const done = (value: string | null) => {
          setRawMode(false);
          input.pause();
          input.off('data', onData);
          output.write('\n');
          resolve(value);
        };
        const onData = (chunk: string) => {
          for (const ch of chunk) {
            if (ch === '\r' || ch === '\n') return done(typed);
            if (ch === '\u0004') return done(typed.length > 0 ? typed : null);
            if (ch === '\u0003') {
              setRawMode(false);
              output.write('\n');
              process.exit(130);
            }
            if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
            else if (ch >= ' ') typed += ch;
          }
        };
        input.on('data', onData);
      });
    },
  };
}
