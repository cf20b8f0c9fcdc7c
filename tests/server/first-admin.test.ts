/**
 * A real organisation without the demo: `serve` on a fresh database says nobody can sign in
 * and how to fix it; `keyward init` creates the organisation and its first admin with the
 * password they typed (never on the command line) and refuses to run twice. A database with
 * the demo's published accounts is refused by `serve` without --demo until `keyward
 * demo-remove`, after which the demo admin can no longer sign in. The portal labels demo accounts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startKeywardServer } from '../../server/main.ts';
import { verifyPassword } from '../../server/crypto/secrets.ts';
import { createSession } from '../../server/auth/sessions.ts';
import { DEMO_USERS } from '../../server/seed.ts';
import { keyward, noStackTrace } from './cli-run.ts';
import { openAdminSession } from '../../server/admin-session.ts';
import { initOrganisation, InitRefused } from '../../server/init.ts';
import { dropPostgresSchema } from '../../server/db/open.ts';
import { PG_URL } from './harness.ts';
import { randomBytes } from 'node:crypto';

const root = mkdtempSync(join(tmpdir(), 'keyward-init-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PASSWORD = 'correct horse battery staple';

describe('first admin without the demo', () => {
  it('serve on a fresh database says how to get in; init creates the organisation and its admin once', async () => {
    const dataDir = join(root, 'fresh');
    const lines: string[] = [];
    const first = await startKeywardServer({ port: 0, dataDir, alert: (l) => lines.push(l) , quiet: false });
    await first.stop();
    expect(lines.filter((l) => l.includes('nobody can sign in yet'))).toEqual([expect.stringContaining(`keyward init --org NAME --email EMAIL --name NAME --data ${dataDir}`)]);

    const init = await keyward(['init', '--data', dataDir, '--org', 'Acme AB', '--email', 'It.Admin@acme.example', '--name', 'Ingrid Admin', '--support-contact', 'helpdesk@acme.example'], { input: `${PASSWORD}\n` });
    expect([init.code, init.stderr]).toEqual([0, '']);
    expect(init.stdout).toContain('organisation "Acme AB" is set up; It.Admin@acme.example is its admin');
    expect(`${init.stdout}${init.stderr}`).not.toContain(PASSWORD);

    const server = await startKeywardServer({ port: 0, dataDir, quiet: true });
    try {
      const org = await server.db.selectFrom('org').selectAll().executeTakeFirstOrThrow();
      expect([org.name, org.support_contact]).toEqual(['Acme AB', 'helpdesk@acme.example']);
      const admin = await server.db.selectFrom('users').selectAll().where('email', '=', 'it.admin@acme.example').executeTakeFirstOrThrow();
      expect(admin.role).toBe('admin');
      expect(await verifyPassword(PASSWORD, admin.password_hash)).toBe(true);
      const events = await server.db.selectFrom('audit_events').select(['action', 'actor_id']).where('action', '=', 'org.initialised').execute();
      expect(events).toEqual([{ action: 'org.initialised', actor_id: admin.id }]);
    } finally {
      await server.stop();
    }

    const again = await keyward(['init', '--data', dataDir, '--org', 'Evil', '--email', 'evil@evil.example', '--name', 'Evil'], { input: `${PASSWORD}\n` });
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toBe("keyward: this organisation is already set up (admin it.admin@acme.example); add people on the admin console's Users page");
  }, 60_000);

  it('init refuses a short password and missing flags in one line', async () => {
    const dataDir = join(root, 'short');
    const short = await keyward(['init', '--data', dataDir, '--org', 'A', '--email', 'a@a.example', '--name', 'A'], { input: 'short\n' });
    expect([short.code, short.stderr.trim()]).toEqual([2, 'keyward: the password must have at least 12 characters']);
    const missing = await keyward(['init', '--data', dataDir], { input: `${PASSWORD}\n` });
    expect([missing.code, missing.stderr.trim()]).toEqual([2, 'keyward: init needs --org, --email, --name (keyward init --help)']);
    noStackTrace(missing);
  }, 60_000);

  it('the demo accounts are labelled, refused by serve without --demo, and removed for good by demo-remove', async () => {
    const dataDir = join(root, 'demo');
    const demo = await startKeywardServer({ port: 0, dataDir, demo: true, quiet: true });
    const demoAdmin = await demo.db.selectFrom('users').select('id').where('email', '=', DEMO_USERS.admin.email).executeTakeFirstOrThrow();
    const session = await createSession(demo.deps, demoAdmin.id);
    const page = await fetch(`${demo.url}/devices`, { headers: { cookie: `kw_session=${session.token}` } });
    expect(await page.text()).toContain('Demo account (published password)');
    await demo.stop();

    await expect(startKeywardServer({ port: 0, dataDir, quiet: true })).rejects.toThrow(
      `this database still has the demo accounts (${DEMO_USERS.admin.email}, ${DEMO_USERS.helpdesk.email}, ${DEMO_USERS.user.email}), whose passwords are published: remove them with keyward demo-remove`,
    );
    const cli = await keyward(['serve', '--data', dataDir, '--port', '0']);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/^keyward: serve failed: this database still has the demo accounts .* keyward demo-remove/m);
    noStackTrace(cli);

    const removed = await keyward(['demo-remove', '--data', dataDir]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(`removed the demo accounts ${DEMO_USERS.admin.email}`);

    const server = await startKeywardServer({ port: 0, dataDir, quiet: true });
    try {
      const form = new URLSearchParams({ email: DEMO_USERS.admin.email, password: DEMO_USERS.admin.password });
      const row = await server.db.selectFrom('users').select('password_hash').where('email', '=', DEMO_USERS.admin.email).executeTakeFirstOrThrow();
      expect(await verifyPassword(form.get('password') ?? '', row.password_hash)).toBe(false);
      expect(await server.db.selectFrom('sessions').select('user_id').where('user_id', '=', demoAdmin.id).execute()).toEqual([]);
      const audited = await server.db.selectFrom('audit_events').select('action').where('action', '=', 'demo.account_removed').execute();
      expect(audited).toHaveLength(3);
    } finally {
      await server.stop();
    }
    const init = await keyward(['init', '--data', dataDir, '--org', 'Real Org', '--email', 'admin@real.example', '--name', 'Real Admin'], { input: `${PASSWORD}\n` });
    expect(init.code).toBe(0);
  }, 90_000);

  it('two inits at once on PostgreSQL: exactly one admin is created', async () => {
    const schema = `kw_init_${process.pid}_${randomBytes(4).toString('hex')}`;
    const sessions = await Promise.all([0, 1].map((i) => openAdminSession({ dataDir: join(root, `pg-${i}`), databaseUrl: PG_URL, pgSchema: schema, warn: () => undefined })));
    try {
      const results = await Promise.allSettled(sessions.map((s, i) => initOrganisation(s.deps, { orgName: `Org ${i}`, supportContact: 'it', email: `admin${i}@race.example`, name: `Admin ${i}`, password: PASSWORD })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected');
      expect(refused?.status === 'rejected' && refused.reason instanceof InitRefused).toBe(true);
      expect(await sessions[0].deps.db.selectFrom('users').select('email').where('role', '=', 'admin').execute()).toHaveLength(1);
    } finally {
      for (const s of sessions) await s.close();
      await dropPostgresSchema(PG_URL, schema);
    }
  }, 60_000);
});
