/**
 * Reads the machine's hardware serial number, one function per platform, each with an
 * injectable command runner (or file reader) so tests give it recorded output. A serial that
 * cannot be read — a virtual machine or container without one, no permission (Linux keeps it
 * root-only), a missing tool — is null, never an error: the agent then reports none.
 */
import { readFile } from 'node:fs/promises';
import type { DriverName } from './driver.ts';
import { runCommand, type CommandRunner } from './run-command.ts';
import { simulatedSerialNumber } from './simulated.ts';
import { parseDmiSerialNumber, parseIoregSerialNumber, parseSystemProfilerSerialNumber, parseWindowsSerialNumber } from './serial-number-output.ts';

export type SerialNumberReader = () => Promise<string | null>;
export type FileReader = (path: string) => Promise<string>;

export const DMI_SERIAL_PATH = '/sys/class/dmi/id/product_serial';

/** Output of a tool that ran and succeeded; null when it could not run or failed. */
async function outputOf(run: CommandRunner, file: string, args: string[]): Promise<string | null> {
  try {
    const result = await run(file, args);
    return result.code === 0 ? result.stdout : null;
  } catch {
    return null;
  }
}

/** macOS: ioreg's IOPlatformSerialNumber, else system_profiler's "Serial Number (system)". */
export async function readMacSerialNumber(run: CommandRunner = runCommand): Promise<string | null> {
  const ioreg = await outputOf(run, '/usr/sbin/ioreg', ['-rd1', '-c', 'IOPlatformExpertDevice']);
  const fromIoreg = ioreg === null ? null : parseIoregSerialNumber(ioreg);
  if (fromIoreg !== null) return fromIoreg;
  const profile = await outputOf(run, '/usr/sbin/system_profiler', ['SPHardwareDataType']);
  return profile === null ? null : parseSystemProfilerSerialNumber(profile);
}

/** Windows: Win32_BIOS through PowerShell, else wmic (older Windows). */
export async function readWindowsSerialNumber(run: CommandRunner = runCommand): Promise<string | null> {
  const cim = await outputOf(run, 'powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', '(Get-CimInstance -ClassName Win32_BIOS).SerialNumber']);
  const fromCim = cim === null ? null : parseWindowsSerialNumber(cim);
  if (fromCim !== null) return fromCim;
  const wmic = await outputOf(run, 'wmic', ['bios', 'get', 'serialnumber']);
  return wmic === null ? null : parseWindowsSerialNumber(wmic);
}

/** Linux: the DMI product serial (readable by root only; absent in most VMs and containers). */
export async function readLinuxSerialNumber(read: FileReader = (path) => readFile(path, 'utf8')): Promise<string | null> {
  try {
    return parseDmiSerialNumber(await read(DMI_SERIAL_PATH));
  } catch {
    return null;
  }
}

/**
 * The reader for the platform a driver runs on. The SIMULATED driver's device has a fake
 * serial derived from `seed` (simulated.ts: the same seed, the same serial).
 */
export function serialNumberReaderFor(driver: DriverName, seed: string): SerialNumberReader {
  switch (driver) {
    case 'filevault':
      return () => readMacSerialNumber();
    case 'bitlocker':
      return () => readWindowsSerialNumber();
    case 'luks':
      return () => readLinuxSerialNumber();
    case 'simulated':
      return async () => simulatedSerialNumber(seed);
  }
}
