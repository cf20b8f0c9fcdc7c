/**
 * The single sign-on client secret is sealed with the KEK like every escrowed key: a KEK
 * rotation re-wraps it, and the old KEK is retired only once the secret no longer needs it —
 * so after add → rewrap → retire the service can still sign people in with the provider.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startKeywardServer } from '../../server/main.ts';
import { loadSso, openClientCredential, parseSsoForm, saveSso } from '../../server/auth/oidc-settings.ts';
import { addKek, retireOldKeks, rewrapAllKeys, type KekCommandOptions } from '../../server/rewrap.ts';

const root = mkdtempSync(join(tmpdir(), 'keyward-sso-kek-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SECRET = 'provider-client-secret-value';

describe('KEK rotation with single sign-on configured', () => {
  it('re-wraps the client secret, so it still opens with the new KEK alone once the old one is retired', async () => {
    const dataDir = join(root, 'data');
    const server = await startKeywardServer({ port: 0, dataDir, quiet: true, kekReloadIntervalMs: 50 });
    try {
      const deps = server.deps;
      await saveSso(
        deps,
        parseSsoForm({
          enabled: '1', name: 'Org ID', issuer: 'https://id.example.org', clientId: 'keyward', clientAuth: 'client_secret_basic', clientSecret: SECRET,
          redirectUri: `${server.url}/sso/callback`, scopes: 'openid email profile', roleClaim: 'groups', adminValues: '', helpdeskValues: '',
          maxSessionHours: '8', localPasswords: '1', breakGlass: '',
        }),
        { actorId: null, actorKind: 'system', ip: null, at: new Date().toISOString() },
      );
      const oldKek = deps.kek.id;
      const options: KekCommandOptions = { kekFile: join(dataDir, 'kek.key'), auditKeyFile: join(dataDir, 'audit.key'), dataDir, waitForInstancesMs: 5_000 };
      const added = addKek(options.kekFile);
      const deadline = Date.now() + 5_000;
      while (!deps.previousKeks?.some((k) => k.id === added.kek.id) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));

      await rewrapAllKeys(options);
      expect((await retireOldKeks(options)).retired).toEqual([oldKek]);
      const stored = await loadSso(deps.db);
      if (!stored) throw new Error('the single sign-on settings are gone');
      expect(stored.sealed.secret_kek_id).toBe(added.kek.id);
      expect(openClientCredential({ kek: added.kek, previousKeks: [] }, stored.sealed)).toBe(SECRET);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
