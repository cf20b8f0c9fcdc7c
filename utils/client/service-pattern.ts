/**
 * The match pattern for the configured escrow service: the host permission the extension
 * asks for and the pattern the portal content script is registered with. Chromium matches
 * ports in patterns, so there it is the exact origin. Firefox never matches a pattern that
 * names a port (not for content scripts, not for host permissions), so there it is the
 * scheme and host with any port — the narrowest pattern Firefox honours — and the exact
 * origin is enforced by the background, which answers a portal content script only from the
 * configured origin (entrypoints/background/sender-policy.ts).
 */
export function serviceMatchPattern(serviceUrl: string, portsInPatterns: boolean): string {
  const url = new URL(serviceUrl);
  return portsInPatterns ? `${url.origin}/*` : `${url.protocol}//${url.hostname}/*`;
}
