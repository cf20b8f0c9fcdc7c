/**
 * The built extension asks for little and locks its pages down: only the permissions it
 * uses, loopback hosts only at install (others are asked for when the user picks a service),
 * only callback.html reachable from the web, and a CSP under which the vault's WebAssembly
 * still runs but eval, inline scripts, plugins and framing by web pages do not. The one
 * web-reachable page, callback.html, shows no text taken from its URL and finishes a sign-in
 * only for the `state` the extension itself sent. A malformed message gets a plain failure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { EXTENSION_DIR, launchWithExtension, type ExtensionBrowser } from '../support/browser.ts';
import { PENDING_SIGN_IN, TOKENS } from '../../entrypoints/background/storage-keys.ts';

type Manifest = {
  permissions: string[];
  host_permissions: string[];
  optional_host_permissions: string[];
  web_accessible_resources: { resources: string[]; matches: string[] }[];
  content_security_policy: { extension_pages: string };
  content_scripts?: unknown[];
};

const manifest = JSON.parse(readFileSync(join(EXTENSION_DIR, 'manifest.json'), 'utf8')) as Manifest;

let browser: ExtensionBrowser;
let site: Server;
let siteUrl: string;
let options: Page;

beforeAll(async () => {
  browser = await launchWithExtension();
  site = createServer((request, response) => {
    const target = new URL(request.url ?? '/', 'http://x').searchParams.get('frame') ?? '';
    response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><iframe id="f" src="${target}"></iframe>`);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  options = await browser.context.newPage();
  await options.goto(browser.extensionUrl('options.html'));
  await options.locator('#kw-service-url').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
});

describe('manifest', () => {
  it('requests only the permissions the extension uses', () => {
    expect([...manifest.permissions].sort()).toEqual(['alarms', 'clipboardRead', 'clipboardWrite', 'idle', 'offscreen', 'scripting', 'storage']);
    for (const host of manifest.host_permissions) expect(host).toMatch(/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/\*$/);
    expect(manifest.content_scripts ?? []).toEqual([]);
    expect(manifest.web_accessible_resources.flatMap((r) => r.resources)).toEqual(['callback.html']);
  });

  it('has a strict CSP for its pages that still allows WebAssembly', () => {
    const csp = manifest.content_security_policy.extension_pages;
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-(eval|inline)'/);
  });
});

describe('extension pages under the CSP', () => {
  it('run WebAssembly (the vault) but refuse eval and inline scripts', async () => {
    const result = await options.evaluate(async () => {
      const empty = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
      const wasm = await WebAssembly.compile(empty).then(() => 'compiled', (e: Error) => e.name);
      let evaluated = 'ran';
      try {
        new Function('return 1')();
      } catch (e) {
        evaluated = (e as Error).name;
      }
      // An allowed inline script runs as it is appended; a blocked one fires a CSP violation instead.
      const violation = new Promise<string>((resolve) => {
        document.addEventListener('securitypolicyviolation', (event) => resolve(`blocked ${event.effectiveDirective}`), { once: true });
      });
      const script = document.createElement('script');
      script.textContent = 'document.documentElement.dataset.inlineRan = "1"';
      document.head.append(script);
      const inline = document.documentElement.dataset.inlineRan === '1' ? 'ran' : await violation;
      return { wasm, evaluated, inline };
    });
    expect(result).toEqual({ wasm: 'compiled', evaluated: 'EvalError', inline: expect.stringMatching(/^blocked script-src/) });
  });

  it('cannot be framed by a web page, not even the web-reachable callback page', async () => {
    const page = await browser.context.newPage();
    for (const path of ['callback.html', 'options.html', 'popup.html']) {
      await page.goto(`${siteUrl}/?frame=${encodeURIComponent(browser.extensionUrl(path))}`);
      const frame = await (await page.locator('#f').elementHandle())!.contentFrame();
      // The site's page has loaded, so has its frame: it must hold the browser's error page, not ours.
      const inside = await frame!.evaluate(() => ({ href: location.href, app: document.querySelector('main, #app')?.innerHTML ?? null }));
      expect(inside.href, path).not.toMatch(/^chrome-extension:/);
      expect(inside.href, path).toBe(frame!.url());
      expect(inside.app, path).toBeNull();
    }
    await page.close();
  });
});

describe('background messages', () => {
  it('answers a malformed message with a plain failure, never an exception carrying internals', async () => {
    const reply = await options.evaluate(() => (globalThis as unknown as { chrome: { runtime: { sendMessage(m: object): Promise<unknown> } } }).chrome.runtime.sendMessage({ type: 'vault.setup' })
      .then((value) => ({ value }), (error: Error) => ({ thrown: error.message })));
    expect(reply).toEqual({ value: { ok: false, error: { code: 'bad_state', message: 'The request could not be handled.' } } });
  });
});

describe('the web-reachable callback page', () => {
  type StorageGet = { get(key: string): Promise<Record<string, unknown>> };
  /** A storage item's value (undefined when absent), read in the background. */
  const itemValue = async (item: { key: string }) => {
    const [area, key] = item.key.split(':');
    const worker = await browser.serviceWorker();
    const values = await worker.evaluate(({ which, name }) => (globalThis as { chrome?: { storage: Record<string, StorageGet> } }).chrome!.storage[which].get(name), { which: area, name: key });
    return values[key];
  };

  it('shows only its own words, never text a site put into the URL', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${siteUrl}/`);
    const lure = encodeURIComponent('Your vault is compromised: call +1 555 0100 now');
    await page.goto(browser.extensionUrl(`callback.html?error=access_denied&error_description=${lure}`));
    await page.locator('[data-keyward-callback="failed"]').waitFor();
    expect(await page.locator('main').textContent()).toContain('You did not allow this browser to connect.');
    expect(await page.locator('main').textContent()).not.toContain('555');
    await page.goto(browser.extensionUrl(`callback.html?error=${lure}`));
    await page.locator('[data-keyward-callback="failed"]').waitFor();
    expect(await page.locator('main').textContent()).not.toContain('555');
    await page.close();
  });

  it('refuses a code whose state the extension did not send, and keeps the pending sign-in', async () => {
    const authorizeTab = browser.context.waitForEvent('page');
    await options.getByRole('button', { name: 'Sign in' }).click();
    await (await authorizeTab).close();
    const pending = () => itemValue(PENDING_SIGN_IN);
    expect(await pending()).toBeDefined();

    const page = await browser.context.newPage();
    await page.goto(browser.extensionUrl('callback.html?code=a-stolen-code&state=a-guessed-state'));
    await page.locator('[data-keyward-callback="failed"]').waitFor();
    expect(await page.locator('main').textContent()).toContain('The sign-in code is not valid or has expired.');
    expect(page.url()).not.toContain('a-stolen-code');
    expect(await itemValue(TOKENS)).toBeUndefined();
    expect(await pending()).toBeDefined();
    await page.close();
  });
});
