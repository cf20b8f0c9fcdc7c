/**
 * fdesetup parsing and the FileVault driver's command wiring, with recorded fdesetup output
 * (fdesetup exists only on macOS and cannot run here).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.ts';
import { FileVaultDriver } from '../../agent/drivers/filevault.ts';
import { buildAuthPlist, parseFdesetupBoolean, parseFdesetupStatus, parseNewRecoveryKey } from '../../agent/drivers/filevault-output.ts';
import type { CommandResult } from '../../agent/drivers/run-command.ts';
import { Journal } from '../../agent/journal.ts';
import { FakeEscrow } from './fake-escrow.ts';

const OLD_KEY = 'AU2APHMKWBGXPWKXM3X3VAPY';
const NEW_KEY_GROUPED = 'Q7TR-9ZK2-LM4D-X8WE-P3NB-6HCJ';

const CHANGE_PLIST = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>EnabledDate</key>
	<string>2026-11-22 01:23:45 +0000</string>
	<key>HardwareUUID</key>
	<string>6C1C9A52-7E0E-5C1B-9D55-0B8F2B2E4D11</string>
	<key>LVGUUID</key>
	<string>2F2D8C4A-1A0B-4C33-8D2E-7A6B5C4D3E2F</string>
	<key>LVUUID</key>
	<string>9E8D7C6B-5A49-4838-2716-05F4E3D2C1B0</string>
	<key>PVUUID</key>
	<string>0A1B2C3D-4E5F-4061-7283-94A5B6C7D8E9</string>
	<key>RecoveryKey</key>
	<string>${NEW_KEY_GROUPED}</string>
	<key>SerialNumber</key>
	<string>C02ZK0ABMD6T</string>
</dict>
</plist>
`;

describe('fdesetup output parsers', () => {
  it('reads fdesetup status', () => {
    expect(parseFdesetupStatus('FileVault is On.\n')).toBe('on');
    expect(parseFdesetupStatus('FileVault is Off.\n')).toBe('off');
    expect(parseFdesetupStatus('FileVault is On.\nEncryption in progress: Percent completed = 34.56\n')).toBe('encrypting');
    expect(parseFdesetupStatus('FileVault is Off.\nDecryption in progress: Percent completed = 12.0\n')).toBe('decrypting');
    expect(parseFdesetupStatus('')).toBe('unknown');
  });

  it('reads validaterecovery / haspersonalrecoverykey answers, after the prompt', () => {
    expect(parseFdesetupBoolean('Enter the current recovery key:true\n')).toBe(true);
    expect(parseFdesetupBoolean('Enter the current recovery key:false\n')).toBe(false);
    expect(parseFdesetupBoolean('true\n')).toBe(true);
    expect(parseFdesetupBoolean('Error: Unable to validate.\n')).toBeNull();
  });

  it('reads the new personal recovery key from -outputplist and from plain output, normalized', () => {
    expect(parseNewRecoveryKey(CHANGE_PLIST)).toBe('Q7TR9ZK2LM4DX8WEP3NB6HCJ');
    expect(parseNewRecoveryKey(`New personal recovery key = '${NEW_KEY_GROUPED}'\n`)).toBe('Q7TR9ZK2LM4DX8WEP3NB6HCJ');
    expect(parseNewRecoveryKey('Error: User authentication failed.\n')).toBeNull();
  });

  it('escapes the authentication plist', () => {
    const plist = buildAuthPlist('ann<&>', 'AU2A-PHMK-WBGX-PWKX-M3X3-VAPY');
    expect(plist).toContain('<key>Username</key>\n  <string>ann&lt;&amp;&gt;</string>');
    expect(plist).toContain('<key>Password</key>\n  <string>AU2A-PHMK-WBGX-PWKX-M3X3-VAPY</string>');
  });
});

describe('FileVault driver command wiring (recorded fdesetup answers)', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keyward-fv-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function fakeFdesetup() {
    let current = OLD_KEY;
    const calls: { args: string[]; stdin: string }[] = [];
    const run = async (_file: string, args: string[], stdin = ''): Promise<CommandResult> => {
      calls.push({ args, stdin });
      const grouped = (k: string) => k.match(/.{4}/g)?.join('-');
      if (args[0] === 'status') return { code: 0, stdout: 'FileVault is On.\n', stderr: '' };
      if (args[0] === 'validaterecovery') return { code: 0, stdout: `Enter the current recovery key:${stdin.trim() === grouped(current)}\n`, stderr: '' };
      if (args[0] === 'changerecovery') {
        if (!stdin.includes(`<string>${grouped(current)}</string>`)) return { code: 11, stdout: '', stderr: 'Error: User authentication failed.' };
        current = NEW_KEY_GROUPED.replace(/-/g, '');
        return { code: 0, stdout: CHANGE_PLIST, stderr: '' };
      }
      return { code: 1, stdout: '', stderr: 'unexpected' };
    };
    return { run, calls, current: () => current };
  }

  it('rotates with changerecovery -personal, authorized by the current key on stdin, and escrows the generated key', async () => {
    const fde = fakeFdesetup();
    const driver = new FileVaultDriver({ run: fde.run, username: 'ann' });
    expect(await driver.listVolumes()).toEqual([{ ref: '/', name: 'Macintosh HD', encrypted: true, protectorIds: [] }]);
    const escrow = new FakeEscrow();
    escrow.storeCandidate('/', OLD_KEY);
    await new Agent({ api: escrow.api(), driver, journal: new Journal(join(dir, 'journal')) }).checkInOnce();
    const change = fde.calls.find((c) => c.args[0] === 'changerecovery');
    expect(change?.args).toEqual(['changerecovery', '-personal', '-inputplist', '-outputplist']);
    expect(change?.stdin).toContain('<string>AU2A-PHMK-WBGX-PWKX-M3X3-VAPY</string>');
    expect(change?.stdin).toContain('<string>ann</string>');
    for (const call of fde.calls) expect(call.args.join(' ')).not.toMatch(/AU2A|Q7TR/);
    expect(escrow.keys('/', ['active'])).toEqual(['Q7TR9ZK2LM4DX8WEP3NB6HCJ']);
    expect(escrow.keys('/', ['retired'])).toEqual([OLD_KEY]);
    expect(readdirSync(join(dir, 'journal'))).toEqual([]);
  });

  it('a wrong submitted key is reported as wrong_key and nothing changes', async () => {
    const fde = fakeFdesetup();
    const escrow = new FakeEscrow();
    escrow.storeCandidate('/', 'ZZZZZZZZZZZZZZZZZZZZZZZZ');
    await new Agent({ api: escrow.api(), driver: new FileVaultDriver({ run: fde.run }), journal: new Journal(join(dir, 'journal')) }).checkInOnce();
    expect(escrow.ops[0]).toMatchObject({ state: 'failed', result: 'wrong_key' });
    expect(fde.current()).toBe(OLD_KEY);
    expect(fde.calls.some((c) => c.args[0] === 'changerecovery')).toBe(false);
  });

  it('killed right after fdesetup replaced the key (journaled): the next run escrows the new key from the journal', async () => {
    const fde = fakeFdesetup();
    const escrow = new FakeEscrow();
    escrow.addActive('/', OLD_KEY);
    escrow.queue('rotate', '/');
    const journal = () => new Journal(join(dir, 'journal'));
    const crashing = new Agent({ api: escrow.api(), driver: new FileVaultDriver({ run: fde.run }), journal: journal(), onStep: (s) => { if (s === 'added') throw new Error('killed'); } });
    await expect(crashing.checkInOnce()).rejects.toThrow('killed');
    expect(escrow.keys('/', ['pending', 'active'])).toEqual([OLD_KEY]); // the platform changed the key; only the journal has it
    await new Agent({ api: escrow.api(), driver: new FileVaultDriver({ run: fde.run }), journal: journal() }).checkInOnce();
    expect(escrow.keys('/', ['active'])).toEqual([fde.current()]);
    expect(readdirSync(join(dir, 'journal'))).toEqual([]);
  });

  it('killed inside changerecovery before the new key was recorded: the next run says the key was lost and asks for a new rotation', async () => {
    const fde = fakeFdesetup();
    const escrow = new FakeEscrow();
    escrow.addActive('/', OLD_KEY);
    escrow.queue('rotate', '/');
    const lines: string[] = [];
    const journal = () => new Journal(join(dir, 'journal'));
    const dying = new FileVaultDriver({ run: async (file, args, stdin) => { const r = await fde.run(file, args, stdin); if (args[0] === 'changerecovery') throw new Error('killed'); return r; } });
    await expect(new Agent({ api: escrow.api(), driver: dying, journal: journal() }).checkInOnce()).rejects.toThrow('killed');
    await new Agent({ api: escrow.api(), driver: new FileVaultDriver({ run: fde.run }), journal: journal(), log: (l) => lines.push(l) }).checkInOnce();
    expect(escrow.ops[0]).toMatchObject({ state: 'failed', result: 'error' });
    expect(lines.join('\n')).toContain('the new key was lost in a crash');
    expect(readdirSync(join(dir, 'journal'))).toEqual([]);
  });
});
