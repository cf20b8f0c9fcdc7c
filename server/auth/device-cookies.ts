/**
 * Sign-in device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"):
 * after a successful sign-in the browser gets a cookie naming the account, when it was
 * issued and a random nonce, with an HMAC-SHA256 over the three under a secret the service
 * keeps in its database, so nobody can make one for an account they have not signed in to.
 * A sign-in attempt that presents a valid one for the account it names is throttled per
 * cookie only: someone guessing that account's password from elsewhere cannot lock its owner's
 * known browser out. One cookie holds entries for up to five accounts.
 */
import { createHmac } from 'node:crypto';
import type { AppDeps } from '../deps.ts';
import { randomToken, safeEqual } from '../crypto/secrets.ts';

export const DEVICE_COOKIE = 'kw_device';
export const DEVICE_COOKIE_DAYS = 180;
const MAX_ACCOUNTS = 5;
const SECRET_NAME = 'device_cookie_mac';

type Entry = { userId: string; issuedAt: number; nonce: string; mac: string };

const ENTRY = /^([A-Za-z0-9-]{1,64})\.(\d{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

function parseEntries(cookie: string | undefined): Entry[] {
  return (cookie ?? '')
    .split('~')
    .slice(0, MAX_ACCOUNTS)
    .flatMap((text) => {
      const m = ENTRY.exec(text);
      return m ? [{ userId: m[1], issuedAt: Number(m[2]), nonce: m[3], mac: m[4] }] : [];
    });
}

function serialize(entries: readonly Entry[]): string {
  return entries.map((e) => `${e.userId}.${e.issuedAt}.${e.nonce}.${e.mac}`).join('~');
}

/** The MAC key: made once (by whichever instance gets there first) and kept in the database. */
async function loadOrCreateSecret(deps: AppDeps): Promise<Buffer> {
  await deps.db
    .insertInto('service_secrets')
    .values({ name: SECRET_NAME, value: randomToken(32), created_at: deps.clock.now().toISOString() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await deps.db.selectFrom('service_secrets').select('value').where('name', '=', SECRET_NAME).executeTakeFirstOrThrow();
  return Buffer.from(row.value, 'base64url');
}

export class DeviceCookies {
  private readonly deps: AppDeps;
  private secret: Promise<Buffer> | null = null;

  constructor(deps: AppDeps) {
    this.deps = deps;
  }

  private async mac(userId: string, issuedAt: number, nonce: string): Promise<string> {
    this.secret ??= loadOrCreateSecret(this.deps).catch((error: unknown) => {
      this.secret = null;
      throw error;
    });
    return createHmac('sha256', await this.secret).update(`${userId}.${issuedAt}.${nonce}`).digest('base64url');
  }

  /** The nonce of this browser's valid, unexpired device cookie for the account; null if it has none. */
  async trustedNonce(cookie: string | undefined, userId: string): Promise<string | null> {
    const nowSeconds = Math.floor(this.deps.clock.now().getTime() / 1000);
    for (const e of parseEntries(cookie)) {
      if (e.userId !== userId || e.issuedAt > nowSeconds + 300 || nowSeconds - e.issuedAt > DEVICE_COOKIE_DAYS * 86_400) continue;
      if (safeEqual(await this.mac(e.userId, e.issuedAt, e.nonce), e.mac)) return e.nonce;
    }
    return null;
  }

  /** The cookie's new value after a successful sign-in: a fresh entry for this account first, the others kept. */
  async issue(cookie: string | undefined, userId: string): Promise<string> {
    const issuedAt = Math.floor(this.deps.clock.now().getTime() / 1000);
    const nonce = randomToken(16);
    const fresh: Entry = { userId, issuedAt, nonce, mac: await this.mac(userId, issuedAt, nonce) };
    const others = parseEntries(cookie).filter((e) => e.userId !== userId);
    return serialize([fresh, ...others].slice(0, MAX_ACCOUNTS));
  }
}
