/**
 * BitLocker key protector ID: a GUID, as `manage-bde -protectors -get` prints it
 * (`{8A5D13D6-7ED9-46C8-A74F-AC3ADF016EC8}`). Accepts any case, with or without braces
 * and dashes; returns the braced upper-case form, or null if it is not a GUID.
 */
const GUID = /^([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/i;

export function parseProtectorId(input: string): string | null {
  const trimmed = input.trim();
  const braced = trimmed.startsWith('{') && trimmed.endsWith('}');
  const inner = braced ? trimmed.slice(1, -1) : trimmed;
  const match = GUID.exec(inner);
  if (!match) return null;
  return `{${match.slice(1).join('-').toUpperCase()}}`;
}
