/**
 * Parsers for what each platform prints about the machine's hardware serial number: macOS
 * `ioreg -rd1 -c IOPlatformExpertDevice` (IOPlatformSerialNumber) and `system_profiler
 * SPHardwareDataType`, Windows `Get-CimInstance Win32_BIOS` and `wmic bios get serialnumber`,
 * Linux `/sys/class/dmi/id/product_serial`. What the firmware fills in when the maker left the
 * serial blank ("To Be Filled By O.E.M.", "Default string", zeros) is no serial: null.
 */
import { SerialNumber } from '../../lib/api/contract.ts';

/** Firmware placeholders for a blank serial number, in lower case. */
const PLACEHOLDERS = new Set([
  'to be filled by o.e.m.', 'to be filled by oem', 'default string', 'system serial number', 'chassis serial number',
  'serial number', 'serialnumber', 'not specified', 'not applicable', 'not available', 'none', 'n/a', 'na', 'oem', 'o.e.m.',
  'invalid', 'unknown', '0123456789', '123456789', '1234567890',
]);

/** The serial number in `raw` (trimmed) when it is one the service accepts, else null. */
export function cleanSerialNumber(raw: string): string | null {
  const text = raw.trim();
  if (!SerialNumber.safeParse(text).success) return null;
  if (PLACEHOLDERS.has(text.toLowerCase()) || /^[0 .-]+$/.test(text)) return null;
  return text;
}

/** `ioreg -rd1 -c IOPlatformExpertDevice`: the `"IOPlatformSerialNumber" = "…"` line. */
export function parseIoregSerialNumber(output: string): string | null {
  const match = /"IOPlatformSerialNumber"\s*=\s*"([^"\n]*)"/.exec(output);
  return match ? cleanSerialNumber(match[1]) : null;
}

/** `system_profiler SPHardwareDataType`: `Serial Number (system): …`. */
export function parseSystemProfilerSerialNumber(output: string): string | null {
  const match = /^\s*Serial Number(?: \(system\))?:[ \t]*(.+)$/m.exec(output);
  return match ? cleanSerialNumber(match[1]) : null;
}

/** Windows: `(Get-CimInstance Win32_BIOS).SerialNumber` prints the value alone; `wmic bios get serialnumber` a `SerialNumber` heading first. */
export function parseWindowsSerialNumber(output: string): string | null {
  const lines = output.split(/\r*\n/).map((l) => l.trim()).filter((l) => l !== '');
  const value = lines[0]?.toLowerCase() === 'serialnumber' ? lines[1] : lines[0];
  return value === undefined ? null : cleanSerialNumber(value);
}

/** Linux: the contents of `/sys/class/dmi/id/product_serial`. */
export function parseDmiSerialNumber(contents: string): string | null {
  return cleanSerialNumber(contents);
}
