/**
 * Reads a password for a command without putting it in argv (visible to every user in `ps`)
 * or the environment: typed at a terminal with echo off, or the first line of piped input.
 */
import { createInterface } from 'node:readline';

export async function readSecretLines(prompts: string[]): Promise<string[]> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const lines: string[] = [];
    const rl = createInterface({ input: stdin, terminal: false });
    for await (const line of rl) {
      lines.push(line);
      if (lines.length === prompts.length) break;
    }
    rl.close();
    return lines;
  }
  const answers: string[] = [];
  for (const prompt of prompts) answers.push(await readHidden(prompt));
  return answers;
}

function readHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stdout.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let typed = '';
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          process.stdout.write('\n');
          resolve(typed);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new Error('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += ch;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
    stdin.on('data', onData);
  });
}
