/**
 * Reading the hardware serial number: the parsers with recorded output of ioreg,
 * system_profiler, PowerShell's Win32_BIOS, wmic and the Linux DMI file; each platform's
 * reader with an injected command runner or file reader (fallbacks, failures and missing
 * tools give null, never an error); the SIMULATED serial; and the agent reporting what it
 * read at check-in, read once per run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.ts';
import { DiskError } from '../../agent/drivers/driver.ts';
import type { CommandResult } from '../../agent/drivers/run-command.ts';
import {
  cleanSerialNumber, parseDmiSerialNumber, parseIoregSerialNumber, parseSystemProfilerSerialNumber, parseWindowsSerialNumber,
} from '../../agent/drivers/serial-number-output.ts';
import { DMI_SERIAL_PATH, readLinuxSerialNumber, readMacSerialNumber, readWindowsSerialNumber, serialNumberReaderFor } from '../../agent/drivers/serial-number.ts';
import { SimulatedDriver, simulatedSerialNumber } from '../../agent/drivers/simulated.ts';
import { Journal } from '../../agent/journal.ts';
import { FakeEscrow } from './fake-escrow.ts';

const IOREG = `+-o MacBookPro18,3  <class IOPlatformExpertDevice, id 0x100000223, registered, matched, active, busy 0 (37 ms), retain 38>
    {
      "IOPolledInterface" = "AppleARMWatchdogTimerHibernateHandler is not serializable"
      "#address-cells" = <02000000>
      "AAPL,phandle" = <01000000>
      "serial-number" = <433032584b304142474a4835000000000000000000000000000000000000000000>
      "IOBusyInterest" = "IOCommand is not serializable"
      "target-type" = <"J314s">
      "platform-name" = <7436303030000000000000000000000000000000000000000000000000000000>
      "manufacturer" = <"Apple Inc.">
      "IOPlatformSerialNumber" = "C02XK0ABJGH5"
      "model" = <"MacBookPro18,3">
      "IOPlatformUUID" = "6C1C9A52-7E0E-5C1B-9D55-0B8F2B2E4D11"
      "IOPlatformFeatureDefaults" = {"PlatformFeature"=0}
    }
`;

const SYSTEM_PROFILER = `Hardware:

    Hardware Overview:

      Model Name: MacBook Pro
      Model Identifier: MacBookPro16,1
      Processor Name: 8-Core Intel Core i9
      Processor Speed: 2,3 GHz
      Number of Processors: 1
      Total Number of Cores: 8
      L2 Cache (per Core): 256 KB
      L3 Cache: 16 MB
      Hyper-Threading Technology: Enabled
      Memory: 16 GB
      System Firmware Version: 2020.41.1.0.0 (iBridge: 22.16.10353.0.0,0)
      OS Loader Version: 580~1678
      Serial Number (system): C02ZK0ABMD6T
      Hardware UUID: 6C1C9A52-7E0E-5C1B-9D55-0B8F2B2E4D11
      Provisioning UDID: 6C1C9A52-7E0E-5C1B-9D55-0B8F2B2E4D11
      Activation Lock Status: Disabled
`;

const WMIC = 'SerialNumber  \r\r\n5CG1234XYZ    \r\r\n\r\r\n';
const WMIC_BLANK = 'SerialNumber             \r\r\nTo Be Filled By O.E.M.   \r\r\n\r\r\n';
const CIM = '5CG1234XYZ\r\n';
const CIM_HYPERV = '0000-0004-6542-3481-1293-0517-66\r\n';

type Call = { file: string; args: string[] };

/** A command runner answering from recorded output by tool; a tool without an answer is not installed. */
function recorded(answers: Record<string, CommandResult>, calls: Call[] = []) {
  return async (file: string, args: string[]): Promise<CommandResult> => {
    calls.push({ file, args });
    const answer = answers[file];
    if (!answer) throw new DiskError(`${file} could not be started: spawn ${file} ENOENT`, 'driver_unavailable');
    return answer;
  };
}

const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: '' });

describe('serial number parsers', () => {
  it('macOS: ioreg IOPlatformSerialNumber and system_profiler "Serial Number (system)"', () => {
    expect(parseIoregSerialNumber(IOREG)).toBe('C02XK0ABJGH5');
    expect(parseIoregSerialNumber('+-o Root  <class IORegistryEntry>\n')).toBeNull();
    expect(parseSystemProfilerSerialNumber(SYSTEM_PROFILER)).toBe('C02ZK0ABMD6T');
    expect(parseSystemProfilerSerialNumber('      Serial Number: C07ABCDEF123\n')).toBe('C07ABCDEF123');
    expect(parseSystemProfilerSerialNumber('Hardware:\n\n    Hardware Overview:\n\n      Model Name: Mac\n')).toBeNull();
  });

  it('Windows: the value alone (Get-CimInstance) or under wmic\'s heading; firmware placeholders are none', () => {
    expect(parseWindowsSerialNumber(CIM)).toBe('5CG1234XYZ');
    expect(parseWindowsSerialNumber(CIM_HYPERV)).toBe('0000-0004-6542-3481-1293-0517-66');
    expect(parseWindowsSerialNumber(WMIC)).toBe('5CG1234XYZ');
    expect(parseWindowsSerialNumber(WMIC_BLANK)).toBeNull();
    expect(parseWindowsSerialNumber('')).toBeNull();
    expect(parseWindowsSerialNumber('SerialNumber\r\r\n\r\r\n')).toBeNull();
  });

  it('Linux: the DMI file, trimmed; a VM\'s blank or placeholder serial is none, a VMware one with spaces is kept', () => {
    expect(parseDmiSerialNumber('PF3ABCDE\n')).toBe('PF3ABCDE');
    expect(parseDmiSerialNumber('VMware-56 4d 2b 1f 89 7a 3c 4e-a8 1b 9c 7d 2e 5f 6a 1b\n')).toBe('VMware-56 4d 2b 1f 89 7a 3c 4e-a8 1b 9c 7d 2e 5f 6a 1b');
    for (const blank of ['\n', 'To Be Filled By O.E.M.\n', 'Default string\n', 'System Serial Number\n', 'Not Specified\n', '0\n', '00000000\n', '0123456789\n']) {
      expect(parseDmiSerialNumber(blank), blank).toBeNull();
    }
  });

  it('only what the service accepts: printable ASCII, at most 64 characters', () => {
    expect(cleanSerialNumber('  C02XK0ABJGH5\t')).toBe('C02XK0ABJGH5');
    expect(cleanSerialNumber('C02\u0007XK0')).toBeNull();
    expect(cleanSerialNumber('Sériel')).toBeNull();
    expect(cleanSerialNumber('S'.repeat(64))).toBe('S'.repeat(64));
    expect(cleanSerialNumber('S'.repeat(65))).toBeNull();
  });
});

describe('serial number readers', () => {
  it('macOS asks ioreg first and system_profiler only when ioreg has no serial', async () => {
    const calls: Call[] = [];
    expect(await readMacSerialNumber(recorded({ '/usr/sbin/ioreg': ok(IOREG) }, calls))).toBe('C02XK0ABJGH5');
    expect(calls).toEqual([{ file: '/usr/sbin/ioreg', args: ['-rd1', '-c', 'IOPlatformExpertDevice'] }]);
    const fallback: Call[] = [];
    expect(await readMacSerialNumber(recorded({ '/usr/sbin/ioreg': { code: 1, stdout: '', stderr: 'ioreg: error' }, '/usr/sbin/system_profiler': ok(SYSTEM_PROFILER) }, fallback))).toBe('C02ZK0ABMD6T');
    expect(fallback.map((c) => c.file)).toEqual(['/usr/sbin/ioreg', '/usr/sbin/system_profiler']);
    expect(await readMacSerialNumber(recorded({}))).toBeNull();
  });

  it('Windows asks Win32_BIOS through PowerShell, then wmic; neither installed or a placeholder gives none', async () => {
    const calls: Call[] = [];
    expect(await readWindowsSerialNumber(recorded({ 'powershell.exe': ok(CIM) }, calls))).toBe('5CG1234XYZ');
    expect(calls).toEqual([{ file: 'powershell.exe', args: ['-NoProfile', '-NonInteractive', '-Command', '(Get-CimInstance -ClassName Win32_BIOS).SerialNumber'] }]);
    expect(await readWindowsSerialNumber(recorded({ wmic: ok(WMIC) }))).toBe('5CG1234XYZ');
    expect(await readWindowsSerialNumber(recorded({ 'powershell.exe': ok('\r\n'), wmic: ok(WMIC_BLANK) }))).toBeNull();
    expect(await readWindowsSerialNumber(recorded({}))).toBeNull();
  });

  it('Linux reads the DMI file; not root (EACCES) or no DMI at all (ENOENT, containers) gives none', async () => {
    const paths: string[] = [];
    expect(await readLinuxSerialNumber(async (path) => {
      paths.push(path);
      return 'PF3ABCDE\n';
    })).toBe('PF3ABCDE');
    expect(paths).toEqual([DMI_SERIAL_PATH]);
    const failing = (code: string) => async (): Promise<string> => {
      throw Object.assign(new Error(`${code}: ${DMI_SERIAL_PATH}`), { code });
    };
    expect(await readLinuxSerialNumber(failing('EACCES'))).toBeNull();
    expect(await readLinuxSerialNumber(failing('ENOENT'))).toBeNull();
  });

  it('the SIMULATED device has a fake serial, the same for the same seed', async () => {
    const serial = await serialNumberReaderFor('simulated', 'Demo Mac')();
    expect(serial).toMatch(/^SIM-[0-9A-F]{12}$/);
    expect(serial).toBe(simulatedSerialNumber('Demo Mac'));
    expect(simulatedSerialNumber('Demo PC')).not.toBe(serial);
    expect(cleanSerialNumber(serial ?? '')).toBe(serial);
  });
});

describe('the agent reports the serial number at check-in', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keyward-serial-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function agentWith(escrow: FakeEscrow, readSerialNumber?: () => Promise<string | null>): Agent {
    const driver = new SimulatedDriver({ dir: join(dir, 'volumes'), keyKind: 'luks' });
    return new Agent({ api: escrow.api(), driver, journal: new Journal(join(dir, 'journal')), readSerialNumber });
  }

  it('sends what it read, reading it once per run', async () => {
    const escrow = new FakeEscrow();
    let reads = 0;
    const agent = agentWith(escrow, async () => {
      reads += 1;
      return 'PF3ABCDE';
    });
    await agent.checkInOnce();
    expect(escrow.lastSerialNumber).toBe('PF3ABCDE');
    await agent.checkInOnce();
    expect(escrow.lastSerialNumber).toBe('PF3ABCDE');
    expect(reads).toBe(1);
  });

  it('sends none when there is none, or when reading it failed, and the check-in goes on', async () => {
    const none = new FakeEscrow();
    await agentWith(none, async () => null).checkInOnce();
    expect(none.checkins).toBe(1);
    expect(none.lastSerialNumber).toBeUndefined();
    const failing = new FakeEscrow();
    await agentWith(failing, async () => {
      throw new Error('unexpected');
    }).checkInOnce();
    expect(failing.checkins).toBe(1);
    expect(failing.lastSerialNumber).toBeUndefined();
    const without = new FakeEscrow();
    await agentWith(without).checkInOnce();
    expect(without.lastSerialNumber).toBeUndefined();
  });
});
