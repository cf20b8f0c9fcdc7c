/**
 * The one interface the end-to-end scenarios drive the extension through, with one driver
 * per browser: Chromium (playwright-core over the DevTools protocol, chromium-driver.ts) and
 * Firefox (puppeteer-core over WebDriver BiDi, firefox-driver.ts). A scenario is written
 * once and runs against each.
 *
 * A `Scope` is where a scenario looks for things: a tab's document, or the closed shadow
 * root of a portal panel — which page scripts cannot reach, but the browser's automation
 * protocol can. Scenarios type with the keyboard and click with the mouse at the element's
 * place on screen, as a person does.
 */
import type { PortalAccount } from './portal.ts';

export type BrowserName = 'chromium' | 'firefox';

/** What a scenario looks for: a CSS selector, a button by its accessible name, a form field by its label. */
export type Target = string | { button: string } | { label: string };

export interface Tab {
  url(): Promise<string>;
  /** Navigates and waits until the page has loaded (extension pages included). */
  goto(url: string): Promise<void>;
  reload(): Promise<void>;
  close(): Promise<void>;
  setViewport(width: number, height: number): Promise<void>;
  /** Runs a script's source in the page's own world (as the protocol does, so the page's CSP does not stop it). */
  addScript(source: string): Promise<void>;
  /** Runs `fn` in the page's own world. */
  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  /** Runs `fn` in the page with the shadow root (open or closed) of the first element matching `hostSelector`. */
  evaluateInShadowRoot<A, R>(hostSelector: string, fn: (root: ShadowRoot, arg: A) => R | Promise<R>, arg: A): Promise<R>;
  /** Types into the focused element, key by key. */
  typeText(text: string): Promise<void>;
  press(key: 'Tab' | 'Enter' | 'Backspace'): Promise<void>;
  clickAt(x: number, y: number): Promise<void>;
  screenshot(path: string): Promise<void>;
  /** The tab's document. */
  readonly page: Scope;
  /** The shadow root of a portal panel (`store` or `get`). */
  panel(kind: 'store' | 'get'): Scope;
}

export interface ExtensionDriver {
  readonly name: BrowserName;
  /** The URL of one of the extension's pages (`options.html`, `popup.html`, …). */
  extensionUrl(path: string): string;
  newTab(): Promise<Tab>;
  /**
   * Signs the extension in as `account`: options › Sign in → the portal's sign-in and consent
   * (Chromium: in a tab that ends on the callback page; Firefox: in the window
   * `identity.launchWebAuthFlow` opens, which Firefox closes itself), ending with the options
   * page showing the account. The one place that knows how the sign-in window looks.
   */
  signIn(options: Tab, account: PortalAccount): Promise<void>;
  close(): Promise<void>;
}

type Op =
  | { op: 'count' }
  | { op: 'text' }
  | { op: 'attribute'; name: string }
  | { op: 'value' }
  | { op: 'enabled' }
  | { op: 'point' }
  | { op: 'focus' }
  | { op: 'select'; value: string }
  | { op: 'style'; property: string };

type Request = Op & { target: Target };

/**
 * Runs in the page (serialized, so self-contained): finds `target` under `root` and does `op`.
 * Only rendered elements count, so the portal's own forms hidden behind the panels are not found.
 */
function inPage(root: ParentNode, request: Request): string | number | boolean | null | { x: number; y: number } {
  const norm = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();
  const rendered = (el: Element) => el.getClientRects().length > 0;
  const all = (selector: string) => Array.from(root.querySelectorAll(selector));
  const find = (target: Target): Element[] => {
    if (typeof target === 'string') return all(target);
    if ('button' in target) {
      return all('button, [role="button"], input[type="submit"]').filter((el) =>
        rendered(el) && (norm(el.getAttribute('aria-label')) || norm(el.textContent) || norm((el as HTMLInputElement).value)) === target.button);
    }
    const byLabel = all('label').filter((l) => norm(l.textContent) === target.label).map((l) => (l as HTMLLabelElement).control);
    const byAria = all('input, select, textarea').filter((el) => norm(el.getAttribute('aria-label')) === target.label);
    return [...byLabel, ...byAria].filter((el): el is HTMLElement => el !== null && rendered(el));
  };
  const found = find(request.target);
  if (request.op === 'count') return found.length;
  const el = found[0];
  if (!el) {
    if (request.op === 'text' || request.op === 'attribute') return null;
    throw new Error(`Not found: ${JSON.stringify(request.target)}`);
  }
  switch (request.op) {
    case 'text': return el.textContent;
    case 'attribute': return el.getAttribute(request.name);
    case 'value': return (el as HTMLInputElement).value;
    case 'enabled': return !(el as HTMLButtonElement).disabled;
    case 'style': return getComputedStyle(el).getPropertyValue(request.property);
    case 'point': {
      el.scrollIntoView({ block: 'center', inline: 'center' });
      const box = el.getBoundingClientRect();
      return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
    }
    case 'focus': {
      (el as HTMLElement).focus();
      if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) el.select();
      return true;
    }
    case 'select': {
      (el as HTMLSelectElement).value = request.value;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
      return true;
    }
  }
}

const POLL_MS = 100;

/** Polls `probe` until `accept` holds (errors while a page navigates count as "not yet"). */
export async function until<T>(probe: () => Promise<T>, accept: (value: T) => boolean, what: string, timeout = 10_000): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (accept(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeout} ms waiting for ${what} (last: ${JSON.stringify(last)}${lastError ? `, ${String(lastError)}` : ''})`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

type Runner = <R>(request: Request) => Promise<R>;

/** A place to look in: the document or a shadow root, reached through `run`. */
export class Scope {
  readonly #run: Runner;
  readonly #tab: () => Tab;

  constructor(run: Runner, tab: () => Tab) {
    this.#run = run;
    this.#tab = tab;
  }

  /** For drivers: a scope over `tab`'s document. */
  static ofDocument(tab: () => Tab): Scope {
    // Built from inPage's source: what is handed to the page must be self-contained.
    const inDocument = new Function('request', `return (${inPage.toString()})(document, request);`) as (request: Request) => ReturnType<typeof inPage>;
    return new Scope((request) => tab().evaluate(inDocument, request) as never, tab);
  }

  /** For drivers: a scope over the shadow root of the first element matching `hostSelector`. */
  static ofShadowRoot(tab: () => Tab, hostSelector: string): Scope {
    return new Scope((request) => tab().evaluateInShadowRoot(hostSelector, inPage, request) as never, tab);
  }

  count(target: Target): Promise<number> {
    return this.#run({ op: 'count', target });
  }

  /** The first match's text, or null when there is none. */
  text(target: Target): Promise<string | null> {
    return this.#run({ op: 'text', target });
  }

  attribute(target: Target, name: string): Promise<string | null> {
    return this.#run({ op: 'attribute', name, target });
  }

  value(target: Target): Promise<string> {
    return this.#run({ op: 'value', target });
  }

  isEnabled(target: Target): Promise<boolean> {
    return this.#run({ op: 'enabled', target });
  }

  /** A computed style property of the first match. */
  style(target: Target, property: string): Promise<string> {
    return this.#run({ op: 'style', property, target });
  }

  async waitFor(target: Target, timeout = 10_000): Promise<void> {
    await until(() => this.count(target), (n) => n > 0, JSON.stringify(target), timeout);
  }

  /** Waits for the target and returns its text once it is there. */
  async waitForText(target: Target, timeout = 10_000): Promise<string> {
    await this.waitFor(target, timeout);
    return (await this.text(target)) ?? '';
  }

  async click(target: Target): Promise<void> {
    await this.waitFor(target);
    const point = await this.#run<{ x: number; y: number }>({ op: 'point', target });
    await this.#tab().clickAt(point.x, point.y);
  }

  /** Focuses the field, selects what it holds and types `text` over it. */
  async fill(target: Target, text: string): Promise<void> {
    await this.waitFor(target);
    await this.#run({ op: 'focus', target });
    if (text === '') await this.#tab().press('Backspace');
    else await this.#tab().typeText(text);
  }

  async focus(target: Target): Promise<void> {
    await this.waitFor(target);
    await this.#run({ op: 'focus', target });
  }

  async select(target: Target, value: string): Promise<void> {
    await this.waitFor(target);
    await this.#run({ op: 'select', value, target });
  }
}

/** In the tab or window the extension opened for sign-in: the portal's sign-in form (when shown), then "Allow" on the consent page once it names `extensionId`. */
export async function completePortalSignIn(tab: Tab, account: PortalAccount, extensionId: string): Promise<void> {
  await tab.page.waitFor('#login-form, #consent', 20_000);
  if ((await tab.page.count('#login-form')) > 0) {
    await tab.page.fill({ label: 'Email' }, account.email);
    await tab.page.fill({ label: 'Password' }, account.password);
    await tab.page.click({ button: 'Sign in' });
    await tab.page.waitFor('#consent', 15_000);
  }
  // The consent page names the extension asking, by the id the service knows it under.
  const named = await tab.page.text('#consent-extension-id');
  if (named !== extensionId) throw new Error(`The consent page names ${named}, not ${extensionId}.`);
  await tab.page.click({ button: 'Allow' });
}
