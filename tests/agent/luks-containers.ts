/**
 * Real LUKS containers in temp files for the agent's tests, made with the real cryptsetup:
 * LUKS1 or LUKS2, a passphrase in any key slot, systemd-cryptenroll-style tokens, and a look
 * at the header (key slots, tokens). Key slots use cheap PBKDF2 (test containers only).
 */
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCommand } from '../../agent/drivers/run-command.ts';
import { TEST_ONLY_FAST_KDF } from './fast-kdf.ts';

export const CRYPTSETUP = '/usr/sbin/cryptsetup';

export async function cryptsetup(args: string[], stdin = ''): Promise<string> {
  const result = await runCommand(CRYPTSETUP, args, stdin);
  if (result.code !== 0) throw new Error(`cryptsetup ${args[0]} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** A new container holding `passphrase` (in `slot`, default 0). */
export async function newContainer(dir: string, name: string, passphrase: string, options: { type?: 'luks1' | 'luks2'; slot?: number } = {}): Promise<string> {
  const path = join(dir, `${name}.img`);
  writeFileSync(path, '');
  truncateSync(path, 20 * 1024 * 1024);
  const slot = options.slot === undefined ? [] : ['--key-slot', String(options.slot)];
  await cryptsetup(['luksFormat', '--type', options.type ?? 'luks2', '--batch-mode', ...TEST_ONLY_FAST_KDF, ...slot, path], `${passphrase}\n`);
  return path;
}

export async function opens(path: string, passphrase: string): Promise<boolean> {
  const result = await runCommand(CRYPTSETUP, ['open', '--test-passphrase', '--batch-mode', path], `${passphrase}\n`);
  return result.code === 0;
}

export async function uuidOf(path: string): Promise<string> {
  return (await cryptsetup(['luksUUID', path])).trim();
}

/** Enabled key slot numbers, from the header (LUKS1 and LUKS2). */
export async function keySlots(path: string): Promise<string[]> {
  const dump = await cryptsetup(['luksDump', path]);
  if (/^Version:\s*1/m.test(dump)) return [...dump.matchAll(/^Key Slot (\d+): ENABLED/gm)].map((m) => m[1]);
  const json = JSON.parse(await cryptsetup(['luksDump', '--dump-json-metadata', path])) as { keyslots: Record<string, unknown> };
  return Object.keys(json.keyslots).sort((a, b) => Number(a) - Number(b));
}

/** The LUKS2 tokens (systemd-cryptenroll's TPM2/FIDO2 bindings) as stored in the header. */
export async function tokens(path: string): Promise<Record<string, { type: string; keyslots: string[] }>> {
  return (JSON.parse(await cryptsetup(['luksDump', '--dump-json-metadata', path])) as { tokens: Record<string, { type: string; keyslots: string[] }> }).tokens;
}

/** A systemd-cryptenroll-style TPM2 token bound to `slot` (the TPM-sealed key itself is not needed to test that it stays). */
export async function addTpm2Token(path: string, dir: string, slot: string): Promise<void> {
  const file = join(dir, `token-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ type: 'systemd-tpm2', keyslots: [slot], 'tpm2-blob': 'AAAA', 'tpm2-pcrs': [7], 'tpm2-pcr-bank': 'sha256', 'tpm2-primary-alg': 'ecc', 'tpm2-policy-hash': 'aabbccdd', 'tpm2-pin': false }));
  await cryptsetup(['token', 'import', path, '--json-file', file]);
}

export async function addKey(path: string, existing: string, added: string, slot?: number): Promise<void> {
  await cryptsetup(['luksAddKey', '--batch-mode', ...TEST_ONLY_FAST_KDF, ...(slot === undefined ? [] : ['--key-slot', String(slot)]), path], `${existing}\n${added}\n`);
}

export function expectNoSecretIn(text: string, ...secrets: string[]): void {
  for (const secret of secrets) expect(text).not.toContain(secret);
}
