/**
 * Reads the person's disk passphrase on the device: typed at the terminal without echo, or,
 * for automation, one passphrase per line on standard input. The passphrase authorizes the
 * agent's own key slot and is never written anywhere, logged or sent to the service.
 */
import type { ReadStream } from 'node:tty';

export type PassphraseSource = {
  /** The next passphrase, or null when standard input has no more lines. */
  next(prompt: string): Promise<string | null>;
  readonly interactive: boolean;
};

export function passphraseSource(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): PassphraseSource {
  return input.isTTY ? terminalSource(input as NodeJS.ReadStream & ReadStream, output) : linesSource(input);
}

function linesSource(input: NodeJS.ReadStream): PassphraseSource {
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

function terminalSource(input: NodeJS.ReadStream & ReadStream, output: NodeJS.WriteStream): PassphraseSource {
  return {
    interactive: true,
    next(prompt) {
      return new Promise((resolve) => {
        output.write(prompt);
        let typed = '';
        input.setRawMode(true);
        input.resume();
        input.setEncoding('utf8');
        const done = (value: string | null) => {
          input.setRawMode(false);
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
              input.setRawMode(false);
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
