/**
 * The pattern the extension asks host access for and registers the portal content script
 * with: the exact service origin where the browser matches ports (Chromium), the service's
 * scheme and host where it never does (Firefox), and never anything wider.
 */
import { describe, expect, it } from 'vitest';
import { serviceMatchPattern } from '../../utils/client/service-pattern.ts';

describe('service match pattern', () => {
  it('is the exact origin, port included, for a browser that matches ports', () => {
    expect(serviceMatchPattern('http://127.0.0.1:8787', true)).toBe('http://127.0.0.1:8787/*');
    expect(serviceMatchPattern('https://keys.example.org', true)).toBe('https://keys.example.org/*');
  });

  it('drops the port for Firefox, which never matches a pattern naming one, and keeps scheme and host', () => {
    expect(serviceMatchPattern('http://127.0.0.1:8787', false)).toBe('http://127.0.0.1/*');
    expect(serviceMatchPattern('https://keys.example.org:8443/ignored/path?q=1', false)).toBe('https://keys.example.org/*');
    expect(serviceMatchPattern('https://keys.example.org', false)).toBe('https://keys.example.org/*');
  });
});
