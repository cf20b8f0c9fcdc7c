/**
 * The background's modules together, as the service worker runs them, against WXT's fake
 * browser, fake-indexeddb (the real vault, production KDF) and a stand-in escrow service over
 * HTTP: the router and its messages, the vault session (setup, unlock, lockout, auto-lock,
 * resume after a worker restart, lock), sync (full, then delta from the one cursor), reveals
 * online and offline, and sign-out.
 */
import { fakeBrowser, registeredScripts, resetExtension } from './fake-extension.ts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Message, MessageType, Reply } from '../../utils/client/messages.ts';
import { onSignedOut, signOut } from '../../entrypoints/background/auth.ts';
import { revealRecoveryKey } from '../../entrypoints/background/keys.ts';
import { createHandlers, dispatch, EXTENSION_PAGE, isMessage } from '../../entrypoints/background/router.ts';
import { writeSettings } from '../../entrypoints/background/settings.ts';
import { accountItem, tokensItem, vaultSessionItem } from '../../entrypoints/background/storage-items.ts';
import { readSyncStatus, updateSyncStatus } from '../../entrypoints/background/sync-status.ts';
import { syncNow } from '../../entrypoints/background/sync.ts';
import { openVaultPort } from '../../entrypoints/background/vault-adapter.ts';
import { AUTOLOCK_ALARM, createVaultSession } from '../../entrypoints/background/vault-session.ts';
import { FREE_UNLOCK_ATTEMPTS } from '../../utils/vault/backoff.ts';
import { device } from '../vault/helpers.ts';
import { startFakeService, type FakeService } from './fake-service.ts';

const PASSPHRASE = 'correct horse battery staple';
/** A port nothing listens on: the service is unreachable. */
const UNREACHABLE = 'http://127.0.0.1:9';
const KEY = { deviceId: 'mac', volumeId: 'mac-v1', volumeName: 'Macintosh HD', kind: 'filevault' as const, version: 1, key: 'AU2A-PHMK-WBGX-PWKX-M3X3-VAPY', protectorId: null, revealedAt: '2026-11-20T10:00:00.000Z', hideAfterSeconds: 300 };

let service: FakeService;
beforeAll(async () => {
  service = await startFakeService();
});
afterAll(() => service.close());
beforeEach(() => {
  resetExtension();
  service.requests.length = 0;
  service.devices = [device('mac', 'MacBook', { volumes: [{ id: 'mac-v1', name: 'Macintosh HD', keyStatus: 'escrowed', activeVersion: 1, protectorIds: [] }] })];
  service.cursor = 'cursor-1';
  service.keys = new Map([['mac', KEY]]);
  service.me.org.offlineCache = 'keys';
});

/** A fresh background (as after a service-worker restart): the same storage and IndexedDB, nothing in memory. */
function startBackground() {
  const vault = openVaultPort();
  const session = createVaultSession(vault);
  const handlers = createHandlers(vault, session);
  async function send<K extends MessageType>(message: Message<K>): Promise<Reply<K>> {
    return (await dispatch(handlers, message, EXTENSION_PAGE)) as Reply<K>;
  }
  return { vault, session, handlers, send };
}

async function signIn(serviceUrl: string): Promise<void> {
  await writeSettings({ serviceUrl });
  await tokensItem.setValue({ accessToken: 'access-1', refreshToken: 'refresh-1', expiresAt: Date.now() + 60 * 60_000 });
}

describe('router', () => {
  it('recognises only its own message types, and never a message meant for the offscreen document', () => {
    const { handlers } = startBackground();
    expect(isMessage({ type: 'state.get' }, handlers)).toBe(true);
    expect(isMessage({ type: 'offscreen.done' }, handlers)).toBe(true);
    expect(isMessage({ type: 'clipboard.clearLater', target: 'offscreen', sha256: 'x', delayMs: 1 }, handlers)).toBe(false);
    expect(isMessage({ type: 'toString' }, handlers)).toBe(false);
    expect(isMessage({ type: 'vault.progress', fraction: 0.5 }, handlers)).toBe(false);
    expect(isMessage('state.get', handlers)).toBe(false);
    expect(isMessage(null, handlers)).toBe(false);
  });

  it('answers a malformed message with a plain failure', async () => {
    const { handlers } = startBackground();
    const malformed: unknown = JSON.parse('{"type":"vault.setup"}');
    if (!isMessage(malformed, handlers)) throw new Error('not recognised');
    expect(await dispatch(handlers, malformed, EXTENSION_PAGE)).toEqual({ ok: false, error: { code: 'bad_state', message: 'The request could not be handled.' } });
  });

  it('state.get: a fresh install is signed out, has no vault and follows the browser language', async () => {
    const { send } = startBackground();
    expect(await send({ type: 'state.get' })).toEqual({
      signedIn: false, account: null, supportContact: null, serviceUrl: 'http://127.0.0.1:8787', online: false, vault: 'none', lastSyncAt: null, locale: 'en',
    });
  });

  it('settings.set: a new service signs out and moves the portal script to it; a bad URL changes nothing', async () => {
    const { send } = startBackground();
    await signIn('https://escrow.example.com');
    const kept = await send({ type: 'settings.set', settings: { clipboardSeconds: 20 } });
    expect(kept).toMatchObject({ ok: true, settings: { clipboardSeconds: 20, serviceUrl: 'https://escrow.example.com' } });
    expect(await tokensItem.getValue()).not.toBeNull();

    const moved = await send({ type: 'settings.set', settings: { serviceUrl: 'https://other.example.com/' } });
    expect(moved).toMatchObject({ ok: true, settings: { serviceUrl: 'https://other.example.com' } });
    expect(await tokensItem.getValue()).toBeNull();
    expect([...registeredScripts.values()].map((s) => s.matches)).toEqual([['https://other.example.com/*']]);

    expect(await send({ type: 'settings.set', settings: { serviceUrl: 'ftp://x.example.com' } })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await send({ type: 'settings.get' })).toMatchObject({ serviceUrl: 'https://other.example.com', clipboardSeconds: 20 });
  });
});

describe('vault session', () => {
  it('sets up, survives a worker restart unlocked, auto-locks after the set minutes, and locks for good', async () => {
    const first = startBackground();
    await writeSettings({ autoLockMinutes: 7 });
    expect(await first.send({ type: 'vault.unlock', passphrase: PASSPHRASE })).toMatchObject({ ok: false, error: { code: 'no_vault' } });
    expect(await first.send({ type: 'vault.setup', passphrase: 'short' })).toMatchObject({ ok: false, error: { code: 'weak_passphrase' } });
    const before = Date.now();
    expect(await first.send({ type: 'vault.setup', passphrase: PASSPHRASE })).toEqual({ ok: true });
    expect(await first.session.state()).toBe('unlocked');
    expect(await vaultSessionItem.getValue()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const alarm = await fakeBrowser.alarms.get(AUTOLOCK_ALARM);
    expect(alarm?.scheduledTime).toBeGreaterThanOrEqual(before + 7 * 60_000);
    expect(alarm?.scheduledTime).toBeLessThanOrEqual(Date.now() + 7 * 60_000);
    expect(await first.send({ type: 'vault.setup', passphrase: PASSPHRASE })).toMatchObject({ ok: false, error: { code: 'bad_state' } });

    const restarted = startBackground();
    expect(await restarted.session.state()).toBe('unlocked');
    expect(await restarted.send({ type: 'vault.lock' })).toEqual({ ok: true });
    expect(await vaultSessionItem.getValue()).toBeNull();
    expect(await fakeBrowser.alarms.get(AUTOLOCK_ALARM)).toBeUndefined();

    expect(await startBackground().session.state()).toBe('locked');
    // Nothing of the session is in storage.local.
    expect(Object.keys(await fakeBrowser.storage.local.get(null))).not.toContain('vaultSession');
  });

  it('counts wrong passphrases, says how long a lockout lasts, and refuses the right one meanwhile', async () => {
    const { send } = startBackground();
    await send({ type: 'vault.setup', passphrase: PASSPHRASE });
    await send({ type: 'vault.lock' });
    // The guesses before the one that starts a lockout.
    for (let i = 0; i < FREE_UNLOCK_ATTEMPTS - 1; i++) {
      expect(await send({ type: 'vault.unlock', passphrase: `wrong guess ${i}` })).toEqual({ ok: false, error: { code: 'wrong_passphrase', message: 'Wrong passphrase.' } });
    }
    const started = await send({ type: 'vault.unlock', passphrase: 'the guess that starts a lockout' });
    expect(started).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    const wait = started.ok ? 0 : started.error.retryAfterMs ?? 0;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(10_000);
    expect(await send({ type: 'vault.unlock', passphrase: PASSPHRASE })).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(await send({ type: 'state.get' })).toMatchObject({ vault: 'locked' });
  });

  it('changes the passphrase; a reset (signed in only) starts over', async () => {
    const { send } = startBackground();
    await send({ type: 'vault.setup', passphrase: PASSPHRASE });
    expect(await send({ type: 'vault.change', oldPassphrase: 'not it at all', newPassphrase: 'a new passphrase' })).toMatchObject({ ok: false, error: { code: 'wrong_passphrase' } });
    expect(await send({ type: 'vault.change', oldPassphrase: PASSPHRASE, newPassphrase: 'a new passphrase' })).toEqual({ ok: true });
    await send({ type: 'vault.lock' });
    expect(await send({ type: 'vault.unlock', passphrase: 'a new passphrase' })).toEqual({ ok: true });

    expect(await send({ type: 'vault.reset' })).toMatchObject({ ok: false, error: { code: 'not_signed_in' } });
    await signIn(UNREACHABLE);
    expect(await send({ type: 'vault.reset' })).toEqual({ ok: true });
    expect(await send({ type: 'state.get' })).toMatchObject({ vault: 'none' });
  });
});

describe('sync', () => {
  it('needs a sign-in', async () => {
    const { vault } = startBackground();
    expect(await syncNow(vault)).toMatchObject({ ok: false, error: { code: 'not_signed_in' } });
  });

  it('a full sync caches devices and the account; a scheduled one asks for the delta from the kept cursor', async () => {
    const { vault, send } = startBackground();
    await signIn(service.url);
    expect(await syncNow(vault)).toEqual({ ok: true });
    expect(service.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/me', 'GET /api/v1/devices']);
    expect(service.requests[0].authorization).toBe('Bearer access-1');
    expect(await readSyncStatus()).toMatchObject({ online: true, cursor: 'cursor-1' });
    expect(await accountItem.getValue()).toEqual({ name: 'Astrid Lund', email: 'astrid@example.com', supportContact: 'it@example.com', locale: 'sv', offlineCache: 'keys' });
    expect(await send({ type: 'devices.cached' })).toMatchObject({ devices: [{ id: 'mac', name: 'MacBook' }] });
    expect(await send({ type: 'state.get' })).toMatchObject({ signedIn: true, online: true, locale: 'sv', account: { name: 'Astrid Lund' } });

    service.requests.length = 0;
    service.cursor = 'cursor-2';
    service.devices = [device('pc', 'ThinkPad')];
    expect(await syncNow(vault, 'scheduled')).toEqual({ ok: true });
    expect(service.requests.map((r) => r.path)).toEqual(['/api/v1/me', '/api/v1/devices?cursor=cursor-1']);
    expect(await readSyncStatus()).toMatchObject({ cursor: 'cursor-2' });
    // A delta adds to what is cached.
    expect((await vault.listDevices()).map((d) => d.id)).toEqual(['mac', 'pc']);
  });

  it('records that the service is unreachable', async () => {
    const { vault } = startBackground();
    await signIn(UNREACHABLE);
    await updateSyncStatus({ online: true });
    expect(await syncNow(vault)).toMatchObject({ ok: false, error: { code: 'network' } });
    expect(await readSyncStatus()).toMatchObject({ online: false });
  });
});

describe('reveal', () => {
  it('online: shows the service’s key and caches it in the unlocked vault', async () => {
    const { vault, session, send } = startBackground();
    await signIn(service.url);
    await send({ type: 'vault.setup', passphrase: PASSPHRASE });
    expect(await revealRecoveryKey(vault, session, 'mac')).toEqual({ ok: true, key: KEY, offline: false });
    expect(await vault.readCachedKey('mac')).toMatchObject({ key: KEY.key, version: 1, volumeId: 'mac-v1' });
  });

  it('offline: shows the cached key only from an unlocked vault, and queues the reveal for the audit log', async () => {
    const { vault, session, send } = startBackground();
    await signIn(UNREACHABLE);
    expect(await revealRecoveryKey(vault, session, 'mac')).toMatchObject({ ok: false, error: { code: 'network' } });
    await send({ type: 'vault.setup', passphrase: PASSPHRASE });
    expect(await revealRecoveryKey(vault, session, 'mac')).toMatchObject({ ok: false, error: { code: 'not_cached' } });
    await vault.saveRevealedKey(KEY);
    const shown = await revealRecoveryKey(vault, session, 'mac');
    expect(shown).toMatchObject({ ok: true, offline: true, key: { key: KEY.key, volumeId: 'mac-v1', hideAfterSeconds: 300 } });
    expect(await readSyncStatus()).toMatchObject({ online: false });
    expect(await vault.pendingOfflineReveals()).toMatchObject([{ deviceId: 'mac', volumeId: 'mac-v1', version: 1 }]);

    await send({ type: 'vault.lock' });
    expect(await revealRecoveryKey(vault, session, 'mac')).toMatchObject({ ok: false, error: { code: 'locked' } });
  });

  it('needs a sign-in', async () => {
    const { vault, session } = startBackground();
    expect(await revealRecoveryKey(vault, session, 'mac')).toMatchObject({ ok: false, error: { code: 'not_signed_in' } });
  });
});

describe('sign-out', () => {
  it('forgets tokens, account and cursor, and runs what the background asked for', async () => {
    const { vault } = startBackground();
    await signIn(service.url);
    await syncNow(vault);
    let forgotten = 0;
    onSignedOut(async () => {
      forgotten += 1;
      await vault.forgetDevices();
    });
    await signOut();
    expect(forgotten).toBe(1);
    expect(await tokensItem.getValue()).toBeNull();
    expect(await accountItem.getValue()).toBeNull();
    expect(await readSyncStatus()).toMatchObject({ cursor: null, lastSyncAt: null, lastFullSyncAt: null });
    expect(await vault.listDevices()).toEqual([]);
  });
});
