#!/usr/bin/env node
/**
 * `keyward serve [--port 8787] [--host 127.0.0.1] [--data ./data] [--database postgres://…] [--demo] [--simulated-agents] [--trusted-proxy CIDR[,CIDR…]]`
 *   `--trusted-proxy` (or KEYWARD_TRUSTED_PROXY): reverse proxies whose X-Forwarded-For/-Proto/-Host are believed.
 * `keyward verify-audit [--data ./data] [--database postgres://…]`
 * `keyward rewrap-kek [--data ./data] [--database postgres://…]` (new KEK; old one kept as kek.key.old-<id>)
 */
import { parseArgs } from 'node:util';
import { startKeywardServer } from './main.ts';
import { openDatabase } from './db/open.ts';
import { verifyAuditChain } from './audit.ts';
import { rewrapAllKeys } from './rewrap.ts';
import { parseTrustedProxies, splitProxyList } from './http/trusted-proxy.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '8787' },
    host: { type: 'string', default: '127.0.0.1' },
    data: { type: 'string', default: './data' },
    database: { type: 'string' },
    demo: { type: 'boolean', default: false },
    'simulated-agents': { type: 'boolean', default: false },
    'trusted-proxy': { type: 'string' },
  },
});

const command = positionals[0] ?? 'serve';

if (command === 'serve') {
  const trustedProxies = splitProxyList(values['trusted-proxy'] ?? process.env.KEYWARD_TRUSTED_PROXY);
  try {
    parseTrustedProxies(trustedProxies);
  } catch (error) {
    console.error(`keyward: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  }
  const server = await startKeywardServer({
    port: Number(values.port),
    host: values.host,
    dataDir: values.data,
    databaseUrl: values.database,
    demo: values.demo,
    simulatedAgents: values['simulated-agents'],
    config: { trustedProxies },
  });
  const shutdown = () => {
    console.log('keyward: stopping');
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} else if (command === 'verify-audit') {
  const opened = await openDatabase({ dataDir: values.data, databaseUrl: values.database });
  const result = await verifyAuditChain(opened.db);
  await opened.close();
  if (result.ok) console.log(`audit chain intact: ${result.count} events`);
  else console.log(`audit chain BROKEN at event ${result.brokenAtSeq} (${result.count} events verified before it)`);
  process.exit(result.ok ? 0 : 1);
} else if (command === 'rewrap-kek') {
  const count = await rewrapAllKeys({ dataDir: values.data, databaseUrl: values.database });
  console.log(`re-wrapped ${count} key versions under the new KEK`);
} else {
  console.error(`unknown command: ${command} (serve, verify-audit, rewrap-kek)`);
  process.exit(2);
}
