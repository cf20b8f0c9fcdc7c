/**
 * Admin policy and enrollment over real HTTP: turning escrow off makes a store answer
 * `escrow_disabled` (M3 "contact IT" on the device page); policy values are validated; a new one-time
 * enrollment token enrolls a device for its owner; helpdesk cannot change policy. Users:
 * an admin adds accounts and changes roles, never removing the last admin.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeywardServer, type KeywardServer } from '../../server/main.ts';
import { DEMO_USERS } from '../../server/seed.ts';
import { PortalBrowser } from './browser-session.ts';

describe('admin policy and enrollment tokens', () => {
  let dataDir: string;
  let server: KeywardServer;
  let admin: PortalBrowser;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'keyward-policy-'));
    server = await startKeywardServer({ port: 0, dataDir, demo: true, quiet: true });
    admin = new PortalBrowser(server.url);
    expect((await admin.signIn(DEMO_USERS.admin.email, DEMO_USERS.admin.password)).status).toBe(303);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function enrollMac(token: string): Promise<{ deviceId: string; credential: string }> {
    const res = await fetch(`${server.url}/api/v1/agent/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, name: 'New Mac', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD', encrypted: true }] }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { deviceId: string; credential: string };
  }

  it('an admin creates a one-time enrollment token that enrolls a device for its owner, once', async () => {
    const res = await admin.submit('/admin/policy', '/admin/enrollment-tokens', { ownerEmail: DEMO_USERS.user.email, ownership: 'personal', label: 'Dana laptop' });
    expect(res.res.status).toBe(200);
    const token = /(kwe_[A-Za-z0-9_-]+)/.exec(res.text)?.[1] ?? '';
    expect(token).not.toBe('');
    // The command to run carries the real token and the driver and volume options.
    const command = /<code id="enroll-command">([^<]*)<\/code>/.exec(res.text)?.[1] ?? '';
    expect(command).toBe(`sudo npx keyward-agent enroll --server ${server.url} --token ${token} --driver luks --volume /dev/…`);
    expect(res.text).not.toContain('&lt;token&gt;');
    expect(res.text).toContain('on a Mac use --driver filevault, on Windows --driver bitlocker');

    // The audit log says what happened in words, not as raw `key: value` pairs.
    const audit = await admin.get('/admin/audit?action=enrollment_token.created');
    const row = /<tr data-action="enrollment_token.created"[^]*?<\/tr>/.exec(audit.text)?.[0] ?? '';
    expect(row).toContain('Ownership: Personal');
    expect(row).toContain('Label: Dana laptop');
    expect(row).not.toContain('ownership: personal');
    const { deviceId } = await enrollMac(token);
    const device = await server.db.selectFrom('devices').innerJoin('users', 'users.id', 'devices.owner_id').select(['users.email', 'devices.ownership']).where('devices.id', '=', deviceId).executeTakeFirstOrThrow();
    expect(device).toEqual({ email: DEMO_USERS.user.email, ownership: 'personal' });
    const again = await fetch(`${server.url}/api/v1/agent/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, name: 'x', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'a', name: 'a', encrypted: true }] }) });
    expect(again.status).toBe(400);
  });

  it('escrow turned off by policy → storing a key is refused with escrow_disabled and the device page says to contact IT', async () => {
    const saved = await admin.submit('/admin/policy', '/admin/policy', { supportContact: 'it@demo.test', checkinThresholdMinutes: '60', offlineCache: 'metadata', rotateAfterReveal: '1' });
    expect(saved.res.status).toBe(303);
    const org = await server.db.selectFrom('org').selectAll().executeTakeFirstOrThrow();
    expect(org).toMatchObject({ escrow_enabled: 0, rotate_after_reveal: 1, checkin_threshold_minutes: 60, offline_cache: 'metadata', support_contact: 'it@demo.test' });

    const tokenPage = await admin.submit('/admin/policy', '/admin/enrollment-tokens', { ownerEmail: DEMO_USERS.user.email, ownership: 'personal', label: 'x' });
    const { deviceId } = await enrollMac(/(kwe_[A-Za-z0-9_-]+)/.exec(tokenPage.text)?.[1] ?? '');
    const user = new PortalBrowser(server.url);
    await user.signIn(DEMO_USERS.user.email, DEMO_USERS.user.password);
    const key = 'AU2A-PHMK-WBGX-PWKX-M3X3-VAPY';
    const res = await user.submit(`/devices/${deviceId}`, `/devices/${deviceId}/keys`, { key, confirmKey: key });
    expect(res.res.status).toBe(403);
    expect(res.text).toContain('id="keyward-toast"');
    expect(res.text).toContain('data-cause="escrow_disabled"');

    await admin.submit('/admin/policy', '/admin/policy', { supportContact: 'it@demo.test', checkinThresholdMinutes: '60', offlineCache: 'keys', escrowEnabled: '1', rotateAfterReveal: '1' });
  });

  it('helpdesk may not change the policy; bad values are refused', async () => {
    const helpdesk = new PortalBrowser(server.url);
    await helpdesk.signIn(DEMO_USERS.helpdesk.email, DEMO_USERS.helpdesk.password);
    expect((await helpdesk.get('/admin/policy')).res.status).toBe(403);
    const bad = await admin.submit('/admin/policy', '/admin/policy', { supportContact: 'x', checkinThresholdMinutes: 'soon', offlineCache: 'keys' });
    expect(bad.res.status).toBe(400);
    const org = await server.db.selectFrom('org').selectAll().executeTakeFirstOrThrow();
    expect(org.checkin_threshold_minutes).toBe(60);
  });
});

describe('admin user management', () => {
  let dataDir: string;
  let server: KeywardServer;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'keyward-users-'));
    server = await startKeywardServer({ port: 0, dataDir, demo: true, quiet: true });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('an admin adds a helpdesk user who can then sign in; the last admin cannot be demoted', async () => {
    const admin = new PortalBrowser(server.url);
    await admin.signIn(DEMO_USERS.admin.email, DEMO_USERS.admin.password);
    const added = await admin.submit('/admin/users', '/admin/users', { email: 'New.Helper@demo.keyward.test', name: 'New Helper', role: 'helpdesk', password: 'a-long-initial-pass' });
    expect(added.res.status).toBe(303);
    const dup = await admin.submit('/admin/users', '/admin/users', { email: 'new.helper@demo.keyward.test', name: 'Again', role: 'user', password: 'a-long-initial-pass' });
    expect(dup.res.status).toBe(409);

    const helper = new PortalBrowser(server.url);
    expect((await helper.signIn('new.helper@demo.keyward.test', 'a-long-initial-pass')).status).toBe(303);
    expect((await helper.get('/admin/devices')).res.status).toBe(200);
    expect((await helper.get('/admin/users')).res.status).toBe(403);

    const adminRow = await server.db.selectFrom('users').select('id').where('email', '=', DEMO_USERS.admin.email).executeTakeFirstOrThrow();
    const demote = await admin.submit('/admin/users', `/admin/users/${adminRow.id}/role`, { role: 'user' });
    expect(demote.res.status).toBe(409);
    expect(demote.text).toContain('at least one admin');
    const still = await server.db.selectFrom('users').select('role').where('id', '=', adminRow.id).executeTakeFirstOrThrow();
    expect(still.role).toBe('admin');
    const tooShort = await admin.submit('/admin/users', '/admin/users', { email: 'x@demo.keyward.test', name: 'X', role: 'user', password: 'short' });
    expect(tooShort.res.status).toBe(400);
  });
});
