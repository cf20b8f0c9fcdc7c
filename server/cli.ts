#!/usr/bin/env node
/**
 * `keyward serve [--port 8787] [--host 127.0.0.1] [--data ./data] [--database postgres://…] [--demo] [--simulated-agents]`
 * `keyward verify-audit [--data ./data] [--database postgres://…]`
 * `keyward rewrap-kek [--data ./data] [--database postgres://…]` (new KEK; old one kept as kek.key.old-<id>)
 * `keyward sso show|configure …` (single sign-on; see server/sso-cli.ts)
 */
import { parseArgs } from 'node:util';
import { startKeywardServer } from './main.ts';
import { openDatabase } from './db/open.ts';
import { verifyAuditChain } from './audit.ts';
import { rewrapAllKeys } from './rewrap.ts';
import { runSsoCommand } from './sso-cli.ts';

// `sso` has its own options (server/sso-cli.ts).
if (process.argv[2] === 'sso') process.exit(await runSsoCommand(process.argv.slice(3)));

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '8787' },
    host: { type: 'string', default: '127.0.0.1' },
    data: { type: 'string', default: './data' },
    database: { type: 'string' },
    demo: { type: 'boolean', default: false },
    'simulated-agents': { type: 'boolean', default: false },
  },
});

const command = positionals[0] ?? 'serve';

if (command === 'serve') {
  const server = await startKeywardServer({
    port: Number(values.port),
    host: values.host,
    dataDir: values.data,
    databaseUrl: values.database,
    demo: values.demo,
    simulatedAgents: values['simulated-agents'],
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
