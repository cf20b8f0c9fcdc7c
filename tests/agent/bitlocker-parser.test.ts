/**
 * manage-bde parsing and the BitLocker driver's command wiring, with recorded manage-bde
 * output (manage-bde cannot run here: it exists only on Windows).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecoveryKey } from '../../lib/keys/index.ts';
import { Agent } from '../../agent/agent.ts';
import { BitLockerDriver } from '../../agent/drivers/bitlocker.ts';
import { groupBitLockerPassword, parseManageBdeProtectors, parseNumericalPasswords } from '../../agent/drivers/bitlocker-output.ts';
import type { CommandResult } from '../../agent/drivers/run-command.ts';
import { Journal } from '../../agent/journal.ts';
import { FakeEscrow } from './fake-escrow.ts';

/** The example in seed 004, verbatim (its password is illustrative: groups of 5 digits). */
const SEED_004 = `manage-bde -protectors c: -get
Example
Volume C: []
All Key Protectors
    TPM:
      ID: {8A5D13D6-7ED9-46C8-A74F-AC3ADF016EC8}
      PCR Validation Profile:
        0, 2, 4, 8, 9, 10, 11
    Numerical Password:
      ID: {DFA26333-XXXX-402C-YYYY-A8C40AF3ZZZZ}
      Password:
        393943-22222-281721-555554-577984-77777-194700-99999
`;

const PASSWORD_A = '236797-461637-033517-594330-095711-165627-544852-287177';
const PASSWORD_B = '000011-720885-111111-222222-333333-444444-555555-666666';

/** A full English Windows 11 answer with two numerical passwords, CRLF line ends. */
const WINDOWS_EN = [
  'BitLocker Drive Encryption: Configuration Tool version 10.0.22621',
  'Copyright (C) 2013 Microsoft Corporation. All rights reserved.',
  '',
  'Volume C: [Windows]',
  'All Key Protectors',
  '',
  '    Numerical Password:',
  '      ID: {3F6D5B2E-1C4A-4B7E-9D2F-8A1B2C3D4E5F}',
  '      Password:',
  `        ${PASSWORD_A}`,
  '      Backup type:',
  '        Azure AD',
  '',
  '    TPM:',
  '      ID: {0C9A2A11-6E0B-4C55-A1D1-2B1E5B7D9F10}',
  '      PCR Validation Profile:',
  '        7, 11',
  '        (Uses Secure Boot for integrity validation)',
  '',
  '    Numerical Password:',
  '      ID: {a1b2c3d4-0000-4111-8222-123456789abc}',
  '      Password:',
  `        ${PASSWORD_B}`,
  '',
].join('\r\n');

/** The same layout from a Danish Windows: labels translated, structure identical. */
const WINDOWS_DA = `Volume C: [Windows]
Alle nøglebeskyttere

    TPM:
      Id: {0C9A2A11-6E0B-4C55-A1D1-2B1E5B7D9F10}
      Profil for PCR-validering:
        7, 11

    Numerisk adgangskode:
      Id: {3F6D5B2E-1C4A-4B7E-9D2F-8A1B2C3D4E5F}
      Adgangskode:
        ${PASSWORD_A}
`;

describe('manage-bde -protectors -get parser', () => {
  it('reads the seed 004 layout: the TPM protector without a password, the Numerical Password with ID and password', () => {
    expect(parseManageBdeProtectors(SEED_004)).toEqual([
      { type: 'TPM', id: '{8A5D13D6-7ED9-46C8-A74F-AC3ADF016EC8}', password: null },
      { type: 'Numerical Password', id: '{DFA26333-XXXX-402C-YYYY-A8C40AF3ZZZZ}', password: '393943-22222-281721-555554-577984-77777-194700-99999' },
    ]);
    // the seed's sample password is illustrative and invalid; the validator says so
    expect(parseRecoveryKey('bitlocker', '393943-22222-281721-555554-577984-77777-194700-99999').ok).toBe(false);
  });

  it('reads every Numerical Password from a full Windows answer (CRLF, Backup type, TPM in between)', () => {
    expect(parseNumericalPasswords(WINDOWS_EN)).toEqual([
      { protectorId: '{3F6D5B2E-1C4A-4B7E-9D2F-8A1B2C3D4E5F}', password: PASSWORD_A },
      { protectorId: '{A1B2C3D4-0000-4111-8222-123456789ABC}', password: PASSWORD_B },
    ]);
    expect(parseRecoveryKey('bitlocker', PASSWORD_A).ok).toBe(true);
    expect(parseRecoveryKey('bitlocker', PASSWORD_B).ok).toBe(true);
  });

  it('does not depend on English labels (Danish Windows)', () => {
    expect(parseNumericalPasswords(WINDOWS_DA)).toEqual([{ protectorId: '{3F6D5B2E-1C4A-4B7E-9D2F-8A1B2C3D4E5F}', password: PASSWORD_A }]);
  });

  it('finds nothing in an error answer', () => {
    expect(parseManageBdeProtectors('ERROR: No key protectors found.\r\n')).toEqual([]);
  });
});

/** A fake manage-bde over an in-memory protector list, answering in the recorded layout. */
function fakeManageBde(initial: { id: string; password: string }[]) {
  const protectors = [...initial];
  const calls: string[][] = [];
  const render = () => ['Volume C: [Windows]', 'All Key Protectors', '',
    ...protectors.flatMap((p) => ['    Numerical Password:', `      ID: ${p.id}`, '      Password:', `        ${p.password}`, '']),
    '    TPM:', '      ID: {0C9A2A11-6E0B-4C55-A1D1-2B1E5B7D9F10}', ''].join('\r\n');
  let counter = 0x100;
  const run = async (_file: string, args: string[]): Promise<CommandResult> => {
    calls.push(args);
    if (args[1] === '-get') return { code: 0, stdout: render(), stderr: '' };
    if (args[1] === '-add') {
      counter += 1;
      const id = `{${counter.toString(16).toUpperCase().padStart(8, '0')}-1111-4222-8333-444444444444}`;
      protectors.push({ id, password: args[4] });
      return { code: 0, stdout: `Key Protectors Added:\r\n\r\n    Numerical Password:\r\n      ID: ${id}\r\n      Password:\r\n        ${args[4]}\r\n\r\nACTIONS REQUIRED:\r\n\r\n    1. Save this numerical recovery password in a secure location away from\r\n    your computer:\r\n\r\n    ${args[4]}\r\n`, stderr: '' };
    }
    if (args[1] === '-delete') {
      const at = protectors.findIndex((p) => p.id === args[4]);
      if (at < 0) return { code: 1, stdout: 'ERROR: The key protector cannot be found.', stderr: '' };
      protectors.splice(at, 1);
      return { code: 0, stdout: `Key Protectors Deleted:\r\n\r\n      ID: ${args[4]}\r\n`, stderr: '' };
    }
    return { code: 1, stdout: '', stderr: 'unexpected' };
  };
  return { run, calls, protectors };
}

describe('BitLocker driver command wiring (recorded manage-bde answers)', () => {
  it('lists the volume with its Numerical Password ids, and verifies by matching a password', async () => {
    const bde = fakeManageBde([{ id: '{3F6D5B2E-1C4A-4B7E-9D2F-8A1B2C3D4E5F}', password: PASSWORD_A }]);
    const driver = new BitLockerDriver({ run: bde.run });
    expect(await driver.listVolumes()).toEqual([{ ref: 'C:', name: 'C:', encrypted: true, protectorIds: ['{3F6D5B2E-1C4A-4B7E-9D2F-8A1B2C3D4E5F}'] }]);
    expect(await driver.verifyKey('C:', PASSWORD_A.replace(/-/g, ''))).toBe(true);
    expect(await driver.verifyKey('C:', PASSWORD_B.replace(/-/g, ''))).toBe(false);
    expect(bde.calls[0]).toEqual(['-protectors', '-get', 'C:']);
  });

  it('a rotation adds with -RecoveryPassword, deletes the old protector by -id, and escrows the new id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-bde-'));
    try {
      const oldId = '{3F6D5B2E-1C4A-4B7E-9D2F-8A1B2C3D4E5F}';
      const bde = fakeManageBde([{ id: oldId, password: PASSWORD_A }]);
      const escrow = new FakeEscrow();
      escrow.addActive('C:', PASSWORD_A.replace(/-/g, ''), oldId);
      escrow.queue('rotate', 'C:');
      const lines: string[] = [];
      await new Agent({ api: escrow.api(), driver: new BitLockerDriver({ run: bde.run, log: (l) => lines.push(l) }), journal: new Journal(join(dir, 'journal')), log: (l) => lines.push(l) }).checkInOnce();
      const add = bde.calls.find((c) => c[1] === '-add');
      expect(add?.slice(0, 4)).toEqual(['-protectors', '-add', 'C:', '-RecoveryPassword']);
      expect(add?.[4]).toMatch(/^\d{6}(-\d{6}){7}$/);
      expect(bde.calls.find((c) => c[1] === '-delete')).toEqual(['-protectors', '-delete', 'C:', '-id', oldId]);
      expect(bde.protectors).toHaveLength(1);
      const active = escrow.versions.filter((v) => v.state === 'active');
      expect(active).toHaveLength(1);
      expect(groupBitLockerPassword(active[0].key)).toBe(bde.protectors[0].password);
      expect(active[0].protectorId).toBe(bde.protectors[0].id);
      expect(readdirSync(join(dir, 'journal'))).toEqual([]);
      for (const line of lines) expect(line).not.toMatch(/\d{6}-\d{6}|\d{48}/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an upload task escrows every valid numerical password and skips the invalid seed-style one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-bde-'));
    try {
      const bde = fakeManageBde([
        { id: '{3F6D5B2E-1C4A-4B7E-9D2F-8A1B2C3D4E5F}', password: PASSWORD_A },
        { id: '{DFA26333-0000-402C-0000-A8C40AF30000}', password: '393943-22222-281721-555554-577984-77777-194700-99999' },
      ]);
      const escrow = new FakeEscrow();
      escrow.queue('upload', 'C:');
      await new Agent({ api: escrow.api(), driver: new BitLockerDriver({ run: bde.run }), journal: new Journal(join(dir, 'journal')) }).checkInOnce();
      expect(escrow.versions.map((v) => ({ key: v.key, id: v.protectorId, state: v.state }))).toEqual([
        { key: PASSWORD_A.replace(/-/g, ''), id: '{3F6D5B2E-1C4A-4B7E-9D2F-8A1B2C3D4E5F}', state: 'active' },
      ]);
      expect(escrow.ops[0].state).toBe('succeeded');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('only recovery passwords are ever deleted: the TPM protector stays through rotations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-bde-'));
    try {
      const bde = fakeManageBde([{ id: '{3F6D5B2E-1C4A-4B7E-9D2F-8A1B2C3D4E5F}', password: PASSWORD_A }]);
      const escrow = new FakeEscrow();
      escrow.addActive('C:', PASSWORD_A.replace(/-/g, ''), '{3F6D5B2E-1C4A-4B7E-9D2F-8A1B2C3D4E5F}');
      const agent = new Agent({ api: escrow.api(), driver: new BitLockerDriver({ run: bde.run }), journal: new Journal(join(dir, 'journal')) });
      for (let i = 0; i < 3; i++) {
        escrow.queue('rotate', 'C:');
        await agent.checkInOnce();
      }
      const deleted = bde.calls.filter((c) => c[1] === '-delete').map((c) => c[4]);
      expect(deleted).toHaveLength(3);
      expect(deleted).not.toContain('{0C9A2A11-6E0B-4C55-A1D1-2B1E5B7D9F10}');
      expect(parseManageBdeProtectors((await bde.run('manage-bde', ['-protectors', '-get', 'C:'])).stdout).map((p) => p.type)).toEqual(['Numerical Password', 'TPM']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an escrowed protector removed on the device is noticed at the next check-in, and the password now on the disk is escrowed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-bde-'));
    try {
      const oldId = '{3F6D5B2E-1C4A-4B7E-9D2F-8A1B2C3D4E5F}';
      const bde = fakeManageBde([{ id: oldId, password: PASSWORD_A }]);
      const escrow = new FakeEscrow();
      const agent = new Agent({ api: escrow.api(), driver: new BitLockerDriver({ run: bde.run }), journal: new Journal(join(dir, 'journal')) });
      expect(await agent.uploadExistingKeys('C:')).toBe(1);
      await agent.checkInOnce();
      expect(escrow.lastReports[0].escrowCheck).toEqual({ state: 'ok' });
      // Someone deletes the escrowed protector and adds a recovery password of their own.
      bde.protectors.splice(0, 1, { id: '{B0B0B0B0-1111-4222-8333-444444444444}', password: PASSWORD_B });
      const result = await agent.checkInOnce();
      expect(result.broken).toEqual([]);
      expect(escrow.keys('C:', ['active'])).toContain(PASSWORD_B.replace(/-/g, ''));
      await agent.checkInOnce();
      expect(escrow.lastReports[0].escrowCheck).toEqual({ state: 'ok' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
