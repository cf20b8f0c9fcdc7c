/**
 * No acknowledged store is lost when the service is killed under load (SQLite, group commit):
 * the real server (`keyward serve`, its own process) takes concurrent key stores, is killed
 * with SIGKILL while stores are in flight, and after a restart on the same data directory every
 * store it answered with 2xx is there and opens (under the KEK) to exactly the key that was
 * stored, and the audit chain verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKeywardServer } from '../../server/main.ts';
import { createUser } from '../../server/seed.ts';
import { createEnrollmentToken, enrollDevice } from '../../server/services/agent-enroll.ts';
import { EXTENSION_CLIENT_ID, exchangeAuthorizationCode, issueAuthorizationCode } from '../../server/auth/oauth.ts';
import { openKeyVersion } from '../../server/services/key-versions.ts';
import { runVerifyAudit } from '../../server/verify-audit.ts';
import { CHROME_REDIRECT_URI } from '../../lib/extension-identity.ts';
import { formatRecoveryKey, generateRecoveryKey } from '../../lib/keys/index.ts';
import { CLI } from './cli-run.ts';

const DEVICES = 240;
const WORKERS = 24;
/** Killed once this many stores were acknowledged (the others are in flight or not sent yet). */
const KILL_AFTER_ACKS = 80;

let dataDir: string;
let token: string;
let devices: string[];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'keyward-crash-'));
  const server = await startKeywardServer({ port: 0, dataDir, quiet: true });
  try {
    const deps = server.deps;
    const org = await deps.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
    const userId = await createUser(deps, { orgId: org.id, email: 'crash@test.example', name: 'Crash', password: 'crash-pass', role: 'user' });
    const verifier = randomBytes(32).toString('base64url');
    const code = await issueAuthorizationCode(deps, userId, { clientId: EXTENSION_CLIENT_ID, redirectUri: CHROME_REDIRECT_URI, codeChallenge: createHash('sha256').update(verifier).digest('base64url'), state: '' });
    token = (await exchangeAuthorizationCode(deps, { code, code_verifier: verifier, redirect_uri: CHROME_REDIRECT_URI, client_id: EXTENSION_CLIENT_ID }, 'crash test')).access_token;
    devices = await Promise.all(Array.from({ length: DEVICES }, async (_, i) => {
      const enrollment = await createEnrollmentToken(deps, { ownerId: userId, ownership: 'personal', label: `crash ${i}` });
      const volumes = [{ ref: 'disk1s1', name: 'Macintosh HD', encrypted: true, protectorIds: [] }];
      return (await enrollDevice(deps, { token: enrollment, name: `crash mac ${i}`, platform: 'macos', keyKind: 'filevault', volumes }, null)).deviceId;
    }));
  } finally {
    await server.stop();
  }
}, 120_000);

afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Starts `keyward serve` on this data directory and resolves with its URL once it serves. */
function serve(): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const serving = /keyward: serving (http:\/\/\S+)/.exec(stdout);
      if (serving) resolve({ child, url: serving[1] });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`keyward serve exited (${code}) before serving: ${stderr}`)));
  });
}

const newKey = () => formatRecoveryKey('filevault', generateRecoveryKey('filevault'));
const digitsOf = (key: string) => key.replace(/[^0-9A-Z]/gi, '').toUpperCase();

describe('SQLite: killed under load', () => {
  it('loses no acknowledged store', async () => {
    const { child, url } = await serve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const acknowledged = new Map<string, string>();
    let killed = false;
    const worker = async (w: number) => {
      for (let i = w; i < devices.length && !killed; i += WORKERS) {
        const key = newKey();
        const res = await fetch(`${url}/api/v1/devices/${devices[i]}/keys`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ key, confirmKey: key }),
        }).catch(() => null);
        if (!res) return; // the connection died with the process
        await res.arrayBuffer().catch(() => undefined);
        if (res.status >= 200 && res.status < 300) acknowledged.set(devices[i], key);
        else if (!killed) throw new Error(`store answered ${res.status}`);
        if (acknowledged.size >= KILL_AFTER_ACKS && !killed) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    await exited;
    expect(killed).toBe(true);
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);

    // A stored key waits as the volume's candidate for the device's agent: read it back with the KEK.
    const restarted = await startKeywardServer({ port: 0, dataDir, quiet: true });
    try {
      for (const [deviceId, key] of acknowledged) {
        const versions = await restarted.db.selectFrom('key_versions').selectAll().where('device_id', '=', deviceId).execute();
        const keys = versions.map((v) => digitsOf(openKeyVersion(restarted.deps, v, 'filevault')));
        expect(keys, `the key acknowledged for ${deviceId}`).toContain(digitsOf(key));
      }
    } finally {
      await restarted.stop();
    }
    const verified = await runVerifyAudit({ dataDir });
    expect(verified.lines.join('\n')).toMatch(/audit log intact/);
    expect(verified.exitCode).toBe(0);
  }, 180_000);
});
