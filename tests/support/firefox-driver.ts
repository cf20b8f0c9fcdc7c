/**
 * The Firefox driver for the end-to-end scenarios (driver.ts): Debian's firefox-esr through
 * puppeteer-core over WebDriver BiDi (Playwright cannot drive a stock Firefox). The built
 * extension (.output/firefox-mv3) is installed as a temporary add-on; its moz-extension://
 * UUID is pinned with a pref, since BiDi cannot list extensions. Extension pages never report
 * a load event to `page.goto`, so they are opened with the tab's BiDi browsing context. A
 * closed shadow root is reached through BiDi's node serialization (`includeShadowTree: all`).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import puppeteer, { type Browser, type Page, type Target } from 'puppeteer-core';
import { FIREFOX_GECKO_ID } from '../../lib/extension-identity.ts';
import { completePortalSignIn, Scope, until, type ExtensionDriver, type Tab } from './driver.ts';
import type { PortalAccount } from './portal.ts';

export const FIREFOX_EXTENSION_DIR = resolve(import.meta.dirname, '../../.output/firefox-mv3');
const GECKO_ID = 'keyward@keyward.example';
const EXTENSION_UUID = '6f1d3c0a-4b7e-4d2a-9c55-0e8b7a2f4d31';

/** The parts of puppeteer's BiDi objects used here (they are not in its public types). */
type BidiValue = { type: string; value?: unknown; sharedId?: string };
type BidiSession = { send(method: string, params: object): Promise<{ result: { type: string; result?: BidiValue; exceptionDetails?: { text: string } } }> };
type BrowsingContext = {
  id: string;
  navigate(url: string, wait: 'none' | 'interactive' | 'complete'): Promise<void>;
  reload(options: { wait: 'none' | 'interactive' | 'complete' }): Promise<void>;
  userContext: { browser: { session: BidiSession } };
};

export class FirefoxTab implements Tab {
  readonly page: Scope;
  readonly puppeteer: Page;

  constructor(puppeteer: Page) {
    this.puppeteer = puppeteer;
    this.page = Scope.ofDocument(() => this);
  }

  panel(kind: 'store' | 'get'): Scope {
    return Scope.ofShadowRoot(() => this, `[data-keyward-panel="${kind}"] keyward-panel`);
  }

  get #context(): BrowsingContext {
    return (this.puppeteer.mainFrame() as unknown as { browsingContext: BrowsingContext }).browsingContext;
  }

  async url() {
    return this.puppeteer.url();
  }

  async goto(url: string) {
    if (url.startsWith('moz-extension:')) await this.#context.navigate(url, 'complete');
    else await this.puppeteer.goto(url);
  }

  async reload() {
    await this.#context.reload({ wait: 'complete' });
  }

  async close() {
    await this.puppeteer.close();
  }

  async setViewport(width: number, height: number) {
    await this.puppeteer.setViewport({ width, height });
  }

  async addScript(source: string) {
    await this.puppeteer.evaluate(source);
  }

  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    return this.puppeteer.evaluate(fn as (arg: unknown) => Promise<R>, arg as unknown) as Promise<R>;
  }

  async evaluateInShadowRoot<A, R>(hostSelector: string, fn: (root: ShadowRoot, arg: A) => R | Promise<R>, arg: A): Promise<R> {
    const context = this.#context;
    const session = context.userContext.browser.session;
    const target = { context: context.id };
    const host = await session.send('script.callFunction', {
      functionDeclaration: `() => document.querySelector(${JSON.stringify(hostSelector)})`,
      awaitPromise: false, target, resultOwnership: 'none',
      serializationOptions: { maxDomDepth: 0, includeShadowTree: 'all' },
    });
    const root = (host.result.result?.value as { shadowRoot?: BidiValue } | undefined)?.shadowRoot;
    if (!root?.sharedId) throw new Error(`No shadow root under ${hostSelector}`);
    // Arguments and the answer travel as JSON text, so any plain value survives the trip.
    const called = await session.send('script.callFunction', {
      functionDeclaration: `async (root, arg) => JSON.stringify({ value: await (${fn.toString()})(root, JSON.parse(arg)) })`,
      awaitPromise: true, target, resultOwnership: 'none',
      arguments: [{ sharedId: root.sharedId }, { type: 'string', value: JSON.stringify(arg) }],
    });
    if (called.result.type === 'exception') throw new Error(called.result.exceptionDetails?.text ?? 'evaluation failed');
    return (JSON.parse(String(called.result.result?.value)) as { value: R }).value;
  }

  async typeText(text: string) {
    await this.puppeteer.keyboard.type(text);
  }

  async press(key: 'Tab' | 'Enter' | 'Backspace') {
    await this.puppeteer.keyboard.press(key);
  }

  async clickAt(x: number, y: number) {
    await this.puppeteer.mouse.click(x, y);
  }

  async screenshot(path: string) {
    await this.puppeteer.screenshot({ path, fullPage: true });
  }
}

export class FirefoxDriver implements ExtensionDriver {
  readonly name = 'firefox';
  readonly browser: Browser;

  private constructor(browser: Browser) {
    this.browser = browser;
  }

  static async launch(): Promise<FirefoxDriver> {
    if (!existsSync(resolve(FIREFOX_EXTENSION_DIR, 'manifest.json'))) {
      throw new Error(`No built extension in ${FIREFOX_EXTENSION_DIR}: run \`npm run build:firefox\` first.`);
    }
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
      headless: true,
      args: ['--remote-allow-system-access'],
      defaultViewport: { width: 1100, height: 900 },
      extraPrefsFirefox: {
        'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: EXTENSION_UUID }),
        // permissions.request() answers as if the person chose "Allow" (there is no one to click the prompt).
        'extensions.webextOptionalPermissionPrompts': false,
      },
    });
    try {
      await browser.installExtension(FIREFOX_EXTENSION_DIR);
    } catch (error) {
      await browser.close();
      throw error;
    }
    return new FirefoxDriver(browser);
  }

  extensionUrl(path: string): string {
    return `moz-extension://${EXTENSION_UUID}/${path.replace(/^\//, '')}`;
  }

  async newTab(): Promise<FirefoxTab> {
    return new FirefoxTab(await this.browser.newPage());
  }

  async signIn(options: Tab, account: PortalAccount): Promise<void> {
    const known = new Set<Target>(this.browser.targets());
    const opened = this.browser.waitForTarget((t) => t.type() === 'page' && !known.has(t), { timeout: 20_000 });
    await options.page.click('[data-keyward-action="sign-in"]');
    const page = await (await opened).page();
    if (!page) throw new Error('The sign-in window has no page.');
    // launchWebAuthFlow's window: Firefox catches the redirect to the extension's identity URL and closes it.
    await completePortalSignIn(new FirefoxTab(page), account, FIREFOX_GECKO_ID);
    await until(() => options.page.count('[data-keyward-account="signed-in"]'), (n) => n > 0, 'the options page to show the account', 15_000);
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}
