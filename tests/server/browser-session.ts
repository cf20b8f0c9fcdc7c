/** How a PortalBrowser sends a request: `fetch` over real HTTP, or an app in-process. */
export type Send = (url: string, init: RequestInit) => Response | Promise<Response>;

/** A minimal browser stand-in for portal tests (over real HTTP unless given `send`): a cookie jar, forms with CSRF. */
export class PortalBrowser {
  readonly base: string;
  readonly cookies = new Map<string, string>();
  readonly setCookieHeaders: string[] = [];
  acceptLanguage = 'en';
  private readonly send: Send;

  constructor(base: string, send: Send = fetch) {
    this.base = base;
    this.send = send;
  }

  private absorb(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      this.setCookieHeaders.push(line);
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string): Promise<{ res: Response; text: string }> {
    const res = await this.send(this.base + path, { redirect: 'manual', headers: { cookie: this.cookieHeader(), 'accept-language': this.acceptLanguage } });
    this.absorb(res);
    return { res, text: await res.text() };
  }

  async post(path: string, fields: Record<string, string>): Promise<{ res: Response; text: string }> {
    const res = await this.send(this.base + path, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded', 'accept-language': this.acceptLanguage },
      body: new URLSearchParams(fields).toString(),
    });
    this.absorb(res);
    return { res, text: await res.text() };
  }

  /** The CSRF token from a page's forms. */
  static csrfOf(pageHtml: string): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(pageHtml);
    if (!m) throw new Error('no CSRF field on the page');
    return m[1];
  }

  async signIn(email: string, password: string): Promise<Response> {
    const login = await this.get('/login');
    const { res } = await this.post('/login', { _csrf: PortalBrowser.csrfOf(login.text), email, password, next: '/devices' });
    return res;
  }

  /** GET a page and POST one of its forms with the page's CSRF token. */
  async submit(pagePath: string, action: string, fields: Record<string, string>): Promise<{ res: Response; text: string }> {
    const pageRes = await this.get(pagePath);
    return this.post(action, { _csrf: PortalBrowser.csrfOf(pageRes.text), ...fields });
  }
}

export async function eventually<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
