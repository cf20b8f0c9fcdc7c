/**
 * The Chromium driver for the end-to-end scenarios (driver.ts): the system Chromium with the
 * built extension through playwright-core (browser.ts). A closed shadow root is reached
 * through the DevTools protocol (DOM.describeNode with `pierce` names it, DOM.resolveNode
 * hands it to Runtime.callFunctionOn), which page scripts cannot do.
 */
import type { CDPSession, Page } from 'playwright-core';
import { launchWithExtension, type ExtensionBrowser } from './browser.ts';
import { completePortalSignIn, Scope, type ExtensionDriver, type Tab } from './driver.ts';
import type { PortalAccount } from './portal.ts';

type RemoteObject = { objectId?: string; value?: unknown };
type CallResult = { result: RemoteObject; exceptionDetails?: { text: string; exception?: { description?: string } } };
type DescribedNode = { node: { shadowRoots?: { backendNodeId: number }[] } };

export class ChromiumTab implements Tab {
  readonly page: Scope;
  readonly playwright: Page;
  readonly #browser: ExtensionBrowser;
  #cdp: Promise<CDPSession> | null = null;

  constructor(playwright: Page, browser: ExtensionBrowser) {
    this.playwright = playwright;
    this.#browser = browser;
    this.page = Scope.ofDocument(() => this);
  }

  panel(kind: 'store' | 'get'): Scope {
    return Scope.ofShadowRoot(() => this, `[data-keyward-panel="${kind}"] keyward-panel`);
  }

  async url() {
    return this.playwright.url();
  }

  async goto(url: string) {
    await this.playwright.goto(url);
  }

  async reload() {
    await this.playwright.reload();
  }

  async close() {
    await this.playwright.close();
  }

  async setViewport(width: number, height: number) {
    await this.playwright.setViewportSize({ width, height });
  }

  async addScript(source: string) {
    await this.playwright.evaluate(source);
  }

  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    return this.playwright.evaluate<R, unknown>(fn as (arg: unknown) => R | Promise<R>, arg);
  }

  async evaluateInShadowRoot<A, R>(hostSelector: string, fn: (root: ShadowRoot, arg: A) => R | Promise<R>, arg: A): Promise<R> {
    const cdp = await (this.#cdp ??= this.#browser.context.newCDPSession(this.playwright));
    const objectGroup = 'keyward-shadow';
    try {
      const host = (await cdp.send('Runtime.evaluate', { expression: `document.querySelector(${JSON.stringify(hostSelector)})`, objectGroup })) as CallResult;
      if (!host.result.objectId) throw new Error(`No element ${hostSelector}`);
      const described = (await cdp.send('DOM.describeNode', { objectId: host.result.objectId, depth: 0, pierce: true })) as DescribedNode;
      const root = described.node.shadowRoots?.[0];
      if (!root) throw new Error(`${hostSelector} has no shadow root`);
      const resolved = (await cdp.send('DOM.resolveNode', { backendNodeId: root.backendNodeId, objectGroup })) as { object: RemoteObject };
      const called = (await cdp.send('Runtime.callFunctionOn', {
        objectId: resolved.object.objectId,
        functionDeclaration: `function (arg) { return (${fn.toString()})(this, arg); }`,
        arguments: [{ value: arg }],
        returnByValue: true,
        awaitPromise: true,
        objectGroup,
      })) as CallResult;
      if (called.exceptionDetails) throw new Error(called.exceptionDetails.exception?.description ?? called.exceptionDetails.text);
      return called.result.value as R;
    } finally {
      await cdp.send('Runtime.releaseObjectGroup', { objectGroup }).catch(() => undefined);
    }
  }

  async typeText(text: string) {
    await this.playwright.keyboard.type(text);
  }

  async press(key: 'Tab' | 'Enter' | 'Backspace') {
    await this.playwright.keyboard.press(key);
  }

  async clickAt(x: number, y: number) {
    await this.playwright.mouse.click(x, y);
  }

  async screenshot(path: string) {
    await this.playwright.screenshot({ path, fullPage: true });
  }
}

export class ChromiumDriver implements ExtensionDriver {
  readonly name = 'chromium';
  readonly browser: ExtensionBrowser;

  constructor(browser: ExtensionBrowser) {
    this.browser = browser;
  }

  static async launch(existingProfile?: string): Promise<ChromiumDriver> {
    return new ChromiumDriver(await launchWithExtension(existingProfile));
  }

  extensionUrl(path: string): string {
    return this.browser.extensionUrl(path);
  }

  async newTab(): Promise<ChromiumTab> {
    return new ChromiumTab(await this.browser.context.newPage(), this.browser);
  }

  async signIn(options: Tab, account: PortalAccount): Promise<void> {
    const authorizeTab = this.browser.context.waitForEvent('page');
    await options.page.click('[data-keyward-action="sign-in"]');
    // The new tab may still be about:blank when it is handed over: completePortalSignIn waits for the portal's page.
    const tab = new ChromiumTab(await authorizeTab, this.browser);
    await completePortalSignIn(tab, account, this.browser.extensionId);
    await tab.page.waitFor('[data-keyward-callback="done"]', 15_000);
    await tab.close();
    await options.page.waitFor('[data-keyward-account="signed-in"]');
  }

  close(options?: { keepProfile?: boolean }): Promise<void> {
    return this.browser.close(options);
  }
}
