/**
 * The LUKS driver against a real LUKS2 container in a temp file, with the real
 * /usr/sbin/cryptsetup (no device-mapper needed). Key slots use cheap PBKDF2 (test only).
 */
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateRecoveryKey } from '../../lib/keys/index.ts';
import { Agent } from '../../agent/agent.ts';
import { LuksDriver, parseLuksKeySlots } from '../../agent/drivers/luks.ts';
import { runCommand } from '../../agent/drivers/run-command.ts';
import { Journal } from '../../agent/journal.ts';
import { FakeEscrow } from './fake-escrow.ts';
import { TEST_ONLY_FAST_KDF } from './fast-kdf.ts';

let dir: string;
let container: string;
let initialKey: string;
let driver: LuksDriver;
let logLines: string[];

async function formatContainer(path: string, passphrase: string): Promise<void> {
  writeFileSync(path, '');
  truncateSync(path, 20 * 1024 * 1024);
  const result = await runCommand('/usr/sbin/cryptsetup', ['luksFormat', '--type', 'luks2', '--batch-mode', ...TEST_ONLY_FAST_KDF, path], `${passphrase}\n`);
  if (result.code !== 0) throw new Error(`luksFormat failed: ${result.stderr}`);
}

async function slots(): Promise<string[]> {
  const dump = await runCommand('/usr/sbin/cryptsetup', ['luksDump', '--dump-json-metadata', container]);
  return parseLuksKeySlots(dump.stdout);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyward-luks-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(async () => {
  container = join(dir, `container-${Math.random().toString(36).slice(2)}.img`);
  initialKey = generateRecoveryKey('luks');
  await formatContainer(container, initialKey);
  logLines = [];
  driver = new LuksDriver({ volumes: [container], kdfArgs: TEST_ONLY_FAST_KDF, log: (l) => logLines.push(l) });
});

describe('LUKS driver (real cryptsetup on a LUKS2 file)', () => {
  it('lists the container by its LUKS UUID (named by its path) with its key slot, and a plain file as not encrypted', async () => {
    const plain = join(dir, 'plain.img');
    writeFileSync(plain, Buffer.alloc(1024 * 1024));
    const both = new LuksDriver({ volumes: [container, plain] });
    const uuid = (await runCommand('/usr/sbin/cryptsetup', ['luksUUID', container])).stdout.trim();
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(await both.listVolumes()).toEqual([
      { ref: uuid, name: container, encrypted: true, protectorIds: ['0'] },
      { ref: plain, name: plain, encrypted: false, protectorIds: [] },
    ]);
  });

  it('verifies the right passphrase and rejects a wrong one', async () => {
    expect(await driver.verifyKey(container, initialKey)).toBe(true);
    expect(await driver.verifyKey(container, generateRecoveryKey('luks'))).toBe(false);
  });

  it('adds a key into a new slot, then removes the old key so only the new one opens the container', async () => {
    const newKey = generateRecoveryKey('luks');
    const added = await driver.addKey(container, initialKey, newKey);
    expect(added).toEqual({ protectorId: '1', key: newKey });
    expect(await driver.verifyKey(container, newKey)).toBe(true);
    expect(await driver.verifyKey(container, initialKey)).toBe(true);
    await driver.removeKey(container, { key: initialKey, protectorId: null }, newKey);
    expect(await driver.verifyKey(container, initialKey)).toBe(false);
    expect(await driver.verifyKey(container, newKey)).toBe(true);
    expect(await slots()).toEqual(['1']);
    // removing again is a no-op (a repeated step after a crash)
    await driver.removeKey(container, { key: initialKey, protectorId: null }, newKey);
    expect(await slots()).toEqual(['1']);
    for (const line of logLines) {
      expect(line).not.toContain(initialKey);
      expect(line).not.toContain(newKey);
    }
  });

  it('passes passphrases to cryptsetup on standard input, never as arguments', async () => {
    const calls: { args: string[]; stdin: string }[] = [];
    const recording = new LuksDriver({
      volumes: [container],
      kdfArgs: TEST_ONLY_FAST_KDF,
      run: (file, args, stdin = '') => {
        calls.push({ args, stdin });
        return runCommand(file, args, stdin);
      },
    });
    const newKey = generateRecoveryKey('luks');
    await recording.verifyKey(container, initialKey);
    await recording.addKey(container, initialKey, newKey);
    await recording.removeKey(container, { key: initialKey, protectorId: null }, newKey);
    expect(calls.map((c) => c.args[0])).toEqual(expect.arrayContaining(['open', 'luksAddKey', 'luksRemoveKey']));
    for (const call of calls) {
      expect(call.args.join(' ')).not.toContain(initialKey);
      expect(call.args.join(' ')).not.toContain(newKey);
    }
    expect(calls.find((c) => c.args[0] === 'luksAddKey')?.stdin).toBe(`${initialKey}\n${newKey}\n`);
  });

  it('gives the key slots it adds cryptsetup\'s default KDF unless kdfArgs name another', async () => {
    const addKeyArgs = async (kdfArgs?: readonly string[]): Promise<string[]> => {
      const calls: string[][] = [];
      // luksAddKey is only recorded: cryptsetup's default KDF benchmarks for seconds and takes up to a GiB.
      const recording = new LuksDriver({
        volumes: [container],
        ...(kdfArgs === undefined ? {} : { kdfArgs }),
        run: (file, args, stdin) => {
          calls.push(args);
          return args[0] === 'luksAddKey' ? Promise.resolve({ code: 0, stdout: '', stderr: '' }) : runCommand(file, args, stdin);
        },
      });
      await recording.addKey(container, initialKey, generateRecoveryKey('luks'));
      return calls.find((args) => args[0] === 'luksAddKey') ?? [];
    };
    expect(await addKeyArgs()).toEqual(['luksAddKey', '--batch-mode', container]);
    expect(await addKeyArgs(TEST_ONLY_FAST_KDF)).toEqual(['luksAddKey', '--batch-mode', ...TEST_ONLY_FAST_KDF, container]);
  });

  it('refuses to add with a wrong authorizing key, and to remove when the remaining key does not unlock', async () => {
    const stranger = generateRecoveryKey('luks');
    await expect(driver.addKey(container, stranger, generateRecoveryKey('luks'))).rejects.toThrow(/authorizing passphrase does not unlock/);
    await expect(driver.removeKey(container, { key: initialKey, protectorId: null }, stranger)).rejects.toThrow(/remaining key does not unlock/);
    expect(await slots()).toEqual(['0']);
    await expect(driver.verifyKey(container, 'two\nlines')).rejects.toThrow(/one line/);
  });

  it('acts only on the volumes it was given: a ref from a task that names another disk is refused', async () => {
    const other = join(dir, `other-${Math.random().toString(36).slice(2)}.img`);
    await formatContainer(other, initialKey);
    const calls: string[][] = [];
    const watched = new LuksDriver({ volumes: [container], kdfArgs: TEST_ONLY_FAST_KDF, run: (file, args, stdin) => { calls.push(args); return runCommand(file, args, stdin); } });
    await expect(watched.verifyKey(other, initialKey)).rejects.toMatchObject({ reason: 'volume_missing' });
    await expect(watched.addKey('../../../tmp/x', initialKey, generateRecoveryKey('luks'))).rejects.toThrow(/not among the volumes this agent manages/);
    expect(calls.some((args) => args.includes(other))).toBe(false);
    expect(await watched.verifyKey(container, initialKey)).toBe(true);
  });

  it('a verify-and-rotate of a typed LUKS passphrase adds one escrowed key slot and leaves the passphrase working', async () => {
    const escrow = new FakeEscrow();
    const op = escrow.storeCandidate(container, initialKey);
    const agent = new Agent({ api: escrow.api(), driver, journal: new Journal(join(dir, `journal-${op.id}`)) });
    await agent.checkInOnce();
    const [active] = escrow.keys(container, ['active']);
    expect(escrow.ops[0].state).toBe('succeeded');
    expect(active).not.toBe(initialKey);
    expect(await driver.verifyKey(container, active)).toBe(true);
    expect(await driver.verifyKey(container, initialKey)).toBe(true);
    expect(await slots()).toEqual(['0', '1']);
  });

  it('a rotation takes off only the old escrowed key, never a slot it does not hold the key of', async () => {
    const escrowed = generateRecoveryKey('luks');
    await driver.addKey(container, initialKey, escrowed);
    const escrow = new FakeEscrow();
    escrow.addActive(container, escrowed);
    escrow.queue('rotate', container);
    await new Agent({ api: escrow.api(), driver, journal: new Journal(join(dir, `journal-rot-${Math.random()}`)) }).checkInOnce();
    const [active] = escrow.keys(container, ['active']);
    expect(active).not.toBe(escrowed);
    expect(await driver.verifyKey(container, active)).toBe(true);
    expect(await driver.verifyKey(container, escrowed)).toBe(false);
    expect(await driver.verifyKey(container, initialKey)).toBe(true);
    expect(await slots()).toEqual(['0', '2']);
  });
});
