/**
 * The Firefox build (.output/firefox-mv3): `web-ext lint` reports no error, and its manifest
 * asks only for what Firefox needs — no offscreen permission (the background page clears the
 * clipboard itself), a background script instead of a service worker, loopback hosts only at
 * install (the service's host is asked for when the user picks it), and the gecko id.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FIREFOX_EXTENSION_DIR } from '../support/firefox-driver.ts';
import { FIREFOX_GECKO_ID } from '../../lib/extension-identity.ts';

type LintMessage = { code: string; message: string; file?: string };
type LintReport = { summary: { errors: number }; errors: LintMessage[] };

const WEB_EXT = resolve(import.meta.dirname, '../../node_modules/web-ext/bin/web-ext.js');

describe('the Firefox build', () => {
  it('passes web-ext lint with no error', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [WEB_EXT, 'lint', '--source-dir', FIREFOX_EXTENSION_DIR, '--output', 'json', '--no-input'], { maxBuffer: 16 * 1024 * 1024 })
      .catch((failure: { stdout?: string }) => ({ stdout: failure.stdout ?? '' }));
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as LintReport;
    expect(report.errors.map((e) => `${e.code} ${e.file ?? ''}: ${e.message}`)).toEqual([]);
    expect(report.summary.errors).toBe(0);
  }, 60_000);

  it('asks only for what Firefox needs', () => {
    const manifest = JSON.parse(readFileSync(join(FIREFOX_EXTENSION_DIR, 'manifest.json'), 'utf8')) as {
      permissions: string[]; host_permissions: string[]; background: { scripts?: string[]; service_worker?: string };
      browser_specific_settings: { gecko: { id: string } };
    };
    // identity: sign-in through launchWebAuthFlow, whose redirect only this gecko id receives.
    expect([...manifest.permissions].sort()).toEqual(['alarms', 'clipboardRead', 'clipboardWrite', 'identity', 'idle', 'scripting', 'storage']);
    expect(manifest.host_permissions).toEqual(['http://127.0.0.1/*', 'http://localhost/*']);
    expect(manifest.background).toEqual({ scripts: ['background.js'] });
    expect(manifest.browser_specific_settings.gecko.id).toBe(FIREFOX_GECKO_ID);
  });
});
