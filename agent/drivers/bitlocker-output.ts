/**
 * Parsers for `manage-bde` output (Windows BitLocker). They rely on layout, not on the
 * English labels (Windows prints them in its own language): a protector is a header line
 * ending in ":" followed by a more indented `ID: {GUID}` line; a Numerical Password
 * protector is one with a line of eight dash-separated digit groups.
 */

export type ManageBdeProtector = {
  /** The header as printed ("Numerical Password", "TPM", or a translation). */
  type: string;
  id: string;
  /** The recovery password as printed (dashes kept), or null for other protector types. */
  password: string | null;
};

const ID_LINE = /^(\s*)ID:\s*(\{[^}]+\})\s*$/i;
const HEADER_LINE = /^(\s*)(\S[^:]*):\s*$/;
const PASSWORD_LINE = /^\s*(\d{1,6}(?:-\d{1,6}){7})\s*$/;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** Every protector in `manage-bde -protectors -get <volume>` (or in `-add` output). */
export function parseManageBdeProtectors(output: string): ManageBdeProtector[] {
  const lines = output.split(/\r?\n/);
  const protectors: ManageBdeProtector[] = [];
  for (let i = 0; i < lines.length; i++) {
    const idMatch = ID_LINE.exec(lines[i]);
    if (!idMatch) continue;
    const idIndent = idMatch[1].length;
    let header = '';
    let headerIndent = -1;
    for (let j = i - 1; j >= 0; j--) {
      const h = HEADER_LINE.exec(lines[j]);
      if (h && h[1].length < idIndent) {
        header = h[2].trim();
        headerIndent = h[1].length;
        break;
      }
    }
    let password: string | null = null;
    for (let j = i + 1; j < lines.length; j++) {
      if (lines[j].trim() === '') continue;
      if (indentOf(lines[j]) <= headerIndent || ID_LINE.test(lines[j])) break;
      const p = PASSWORD_LINE.exec(lines[j]);
      if (p) {
        password = p[1];
        break;
      }
    }
    protectors.push({ type: header, id: idMatch[2].toUpperCase(), password });
  }
  return protectors;
}

/** The Numerical Password protectors (ID + password as printed). */
export function parseNumericalPasswords(output: string): { protectorId: string; password: string }[] {
  return parseManageBdeProtectors(output)
    .filter((p): p is ManageBdeProtector & { password: string } => p.password !== null)
    .map((p) => ({ protectorId: p.id, password: p.password }));
}

/** `393943-…` as printed → the normalized form (digits only). */
export function normalizeBitLockerPassword(printed: string): string {
  return printed.replace(/-/g, '');
}

/** 48 normalized digits → the 8 groups of 6 manage-bde expects. */
export function groupBitLockerPassword(normalized: string): string {
  return normalized.match(/.{1,6}/g)?.join('-') ?? normalized;
}
