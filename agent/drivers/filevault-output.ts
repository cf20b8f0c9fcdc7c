/**
 * Parsers for `fdesetup` output (macOS FileVault): `status`, `validaterecovery`,
 * `haspersonalrecoverykey`, and the new personal recovery key printed by
 * `changerecovery -personal` (plain text or `-outputplist`). The input plist for
 * `-inputplist` is built here too (XML-escaped).
 */

export type FileVaultStatus = 'on' | 'off' | 'encrypting' | 'decrypting' | 'unknown';

export function parseFdesetupStatus(output: string): FileVaultStatus {
  if (/Encryption in progress/i.test(output)) return 'encrypting';
  if (/Decryption in progress/i.test(output)) return 'decrypting';
  if (/FileVault is On/i.test(output)) return 'on';
  if (/FileVault is Off/i.test(output)) return 'off';
  return 'unknown';
}

/** `validaterecovery` and `haspersonalrecoverykey` print `true` or `false` (after any prompt). */
export function parseFdesetupBoolean(output: string): boolean | null {
  const match = /\b(true|false)\s*$/i.exec(output.trim());
  return match ? match[1].toLowerCase() === 'true' : null;
}

/** The new personal recovery key, normalized (24 characters, no dashes), or null. */
export function parseNewRecoveryKey(output: string): string | null {
  const plist = /<key>RecoveryKey<\/key>\s*<string>([^<]+)<\/string>/.exec(output);
  const text = /New (?:personal )?recovery key\s*=\s*'([^']+)'/i.exec(output);
  const raw = plist?.[1] ?? text?.[1];
  if (!raw) return null;
  const normalized = raw.replace(/[-\s]/g, '').toUpperCase();
  return /^[0-9A-Z]{24}$/.test(normalized) ? normalized : null;
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The `-inputplist` document: the user name (if any) and the current recovery key as password. */
export function buildAuthPlist(username: string | null, recoveryKey: string): string {
  const user = username === null ? '' : `\n  <key>Username</key>\n  <string>${escapeXml(username)}</string>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>${user}
  <key>Password</key>
  <string>${escapeXml(recoveryKey)}</string>
</dict>
</plist>
`;
}

/** 24 normalized characters → the grouped form fdesetup prints and accepts. */
export function groupFileVaultKey(normalized: string): string {
  return normalized.match(/.{1,4}/g)?.join('-') ?? normalized;
}
