/**
 * A browser stand-in that goes between sites, as a sign-in through an identity provider does:
 * it follows redirects across origins, keeps each site's cookies (by host, port and path), and
 * can stop at a redirect to let a test look at, or change, where it is being sent.
 */
export type Hop = { url: string; status: number };

type Cookie = { value: string; path: string };

export class WebBrowser {
  private readonly jars = new Map<string, Map<string, Cookie>>();
  acceptLanguage = 'en';

  private jar(url: URL): Map<string, Cookie> {
    let jar = this.jars.get(url.host);
    if (!jar) {
      jar = new Map();
      this.jars.set(url.host, jar);
    }
    return jar;
  }

  private absorb(url: URL, res: Response): void {
    const jar = this.jar(url);
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const path = attributes.map((a) => a.trim()).find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      const expired = /max-age=0/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line);
      if (value === '' || expired) jar.delete(`${path} ${name}`);
      else jar.set(`${path} ${name}`, { value, path });
    }
  }

  cookie(host: string, name: string): string | undefined {
    for (const [key, c] of this.jars.get(host) ?? []) if (key.endsWith(` ${name}`)) return c.value;
    return undefined;
  }

  private cookieHeader(url: URL): string {
    return [...this.jar(url)]
      .filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([key, c]) => `${key.slice(key.indexOf(' ') + 1)}=${c.value}`)
      .join('; ');
  }

  /** One request, no redirect followed. */
  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ res: Response; text: string }> {
    const target = new URL(url);
    const res = await fetch(target, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: {
        cookie: this.cookieHeader(target),
        'accept-language': this.acceptLanguage,
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    this.absorb(target, res);
    return { res, text: await res.text() };
  }

  /**
   * Follows redirects from `url` until a page answers, or until `stopAt` says to stop at a
   * redirect target (returned unvisited as `stoppedAt`).
   */
  async follow(url: string, o: { form?: Record<string, string>; stopAt?: (next: URL) => boolean } = {}): Promise<{ res: Response; text: string; url: string; hops: Hop[]; stoppedAt?: string }> {
    const hops: Hop[] = [];
    let current = url;
    let answer = await this.request(current, { form: o.form });
    for (let i = 0; i < 20; i++) {
      hops.push({ url: current, status: answer.res.status });
      const location = answer.res.headers.get('location');
      if (answer.res.status < 300 || answer.res.status >= 400 || !location) return { ...answer, url: current, hops };
      const next = new URL(location, current);
      if (o.stopAt?.(next)) return { ...answer, url: current, hops, stoppedAt: next.href };
      current = next.href;
      answer = await this.request(current);
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /** The CSRF token of a portal page's forms. */
  static csrfOf(pageHtml: string): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(pageHtml);
    if (!m) throw new Error('no CSRF field on the page');
    return m[1];
  }
}
