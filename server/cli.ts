#!/usr/bin/env node
/**
 * `keyward <command> [flags]`: `serve` (the default), `verify-audit`, `rewrap-kek`, `help`.
 * `keyward --help`, `keyward help` and `keyward <command> --help` list the commands and flags.
 * Bad arguments and a database that cannot be used are one line on stderr and exit code 2 —
 * never a stack trace.
 * `keyward sso show|configure …` (single sign-on; see server/sso-cli.ts) has its own options.
 */
import { parseArgs } from 'node:util';
import { startKeywardServer } from './main.ts';
import { runVerifyAudit } from './verify-audit.ts';
import { rewrapAllKeys } from './rewrap.ts';
import { parseTrustedProxies, splitProxyList } from './http/trusted-proxy.ts';
import { runSsoCommand } from './sso-cli.ts';

// `sso` has its own options (server/sso-cli.ts).
if (process.argv[2] === 'sso') process.exit(await runSsoCommand(process.argv.slice(3)));

type Flag = { name: string; value?: string; help: string };

const DATA: Flag = { name: 'data', value: 'DIR', help: 'data directory (SQLite database, key files, checkpoints); default ./data' };
const DATABASE: Flag = { name: 'database', value: 'URL', help: 'PostgreSQL instead of SQLite: postgres://user@host/db' };
const KEK_FILE: Flag = { name: 'kek-file', value: 'FILE', help: 'the KEK file; default <data>/kek.key (env KEYWARD_KEK_FILE)' };
const AUDIT_KEY_FILE: Flag = { name: 'audit-key-file', value: 'FILE', help: 'the audit key file; default <data>/audit.key (env KEYWARD_AUDIT_KEY_FILE)' };

const COMMANDS: Record<string, { summary: string; flags: Flag[] }> = {
  serve: {
    summary: 'run the escrow service (the default command)',
    flags: [
      { name: 'port', value: 'N', help: 'port to listen on; default 8787' },
      { name: 'host', value: 'HOST', help: 'address to listen on; default 127.0.0.1' },
      DATA, DATABASE, KEK_FILE, AUDIT_KEY_FILE,
      { name: 'audit-checkpoint-file', value: 'FILE', help: "this instance's signed audit checkpoints; default <data>/audit-checkpoints.jsonl (env KEYWARD_AUDIT_CHECKPOINT_FILE)" },
      { name: 'audit-checkpoint-stdout', help: 'also print each checkpoint as one line on stdout (syslog/journald)' },
      { name: 'demo', help: 'create the demo organisation on first start' },
      { name: 'simulated-agents', help: 'run simulated devices against the service (demo)' },
      { name: 'trusted-proxy', value: 'CIDR[,CIDR…]', help: 'reverse proxies whose X-Forwarded-For/-Proto/-Host are believed (env KEYWARD_TRUSTED_PROXY)' },
    ],
  },
  'verify-audit': {
    summary: 'check the audit log (keyed chain, head, signed checkpoints); exit 0 only when intact',
    flags: [
      DATA, DATABASE, AUDIT_KEY_FILE,
      { name: 'checkpoints', value: 'FILE', help: 'a checkpoint file to check against (repeat for each instance); default <data>/audit-checkpoints.jsonl' },
    ],
  },
  'rewrap-kek': {
    summary: 're-wrap every escrowed key under a new KEK (the old one is kept as <kek>.old-<id>)',
    flags: [DATA, DATABASE, KEK_FILE],
  },
  help: { summary: 'show this help (also keyward --help, keyward <command> --help)', flags: [] },
};

function usage(command?: string): string {
  const flagLines = (flags: Flag[]) => flags.map((f) => `  --${f.name}${f.value ? ` ${f.value}` : ''}`.padEnd(36) + f.help);
  if (command && command !== 'help') {
    const spec = COMMANDS[command];
    return [`Usage: keyward ${command} [flags]`, '', spec.summary, '', 'Flags:', ...flagLines(spec.flags), `  --help`.padEnd(36) + 'show this help'].join('\n');
  }
  return [
    'Usage: keyward <command> [flags]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(14)}${spec.summary}`),
    '',
    ...Object.entries(COMMANDS).filter(([, spec]) => spec.flags.length > 0).flatMap(([name, spec]) => [`Flags of ${name}:`, ...flagLines(spec.flags), '']),
    'keyward <command> --help shows one command.',
  ].join('\n');
}

function fail(message: string): never {
  console.error(`keyward: ${message}`);
  process.exit(2);
}

function parse() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        port: { type: 'string', default: '8787' },
        host: { type: 'string', default: '127.0.0.1' },
        data: { type: 'string', default: './data' },
        database: { type: 'string' },
        demo: { type: 'boolean', default: false },
        'simulated-agents': { type: 'boolean', default: false },
        'trusted-proxy': { type: 'string' },
        'kek-file': { type: 'string' },
        'audit-key-file': { type: 'string' },
        'audit-checkpoint-file': { type: 'string' },
        'audit-checkpoint-stdout': { type: 'boolean', default: false },
        checkpoints: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h', default: false },
      },
      tokens: true,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const unknown = error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'([^']+)'/.exec(message) : null;
    return fail(`${unknown ? `unknown flag ${unknown[1]}` : message} (keyward --help lists the flags)`);
  }
}

const { positionals, values, tokens } = parse();
const command = positionals[0] ?? 'serve';
const spec = COMMANDS[command];
if (!spec) fail(`unknown command: ${command} (${Object.keys(COMMANDS).join(', ')})`);
if (command === 'help' || values.help) {
  const about = command === 'help' ? positionals[1] : positionals[0];
  console.log(usage(about && COMMANDS[about] ? about : undefined));
  process.exit(0);
}
if (positionals.length > 1) fail(`${command} takes no argument "${positionals[1]}" (keyward ${command} --help)`);
const stray = tokens.find((t) => t.kind === 'option' && !spec.flags.some((f) => f.name === t.name));
if (stray && stray.kind === 'option') fail(`${command} does not take --${stray.name} (keyward ${command} --help)`);

const env = process.env;
const kekFile = values['kek-file'] ?? env.KEYWARD_KEK_FILE;
const auditKeyFile = values['audit-key-file'] ?? env.KEYWARD_AUDIT_KEY_FILE;

async function run(): Promise<void> {
  if (command === 'serve') {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, not "${values.port}"`);
    const trustedProxies = splitProxyList(values['trusted-proxy'] ?? env.KEYWARD_TRUSTED_PROXY);
    try {
      parseTrustedProxies(trustedProxies);
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error));
    }
    const starting = startKeywardServer({
      port,
      host: values.host,
      dataDir: values.data,
      databaseUrl: values.database,
      kekFile,
      auditKeyFile,
      auditCheckpointFile: values['audit-checkpoint-file'] ?? env.KEYWARD_AUDIT_CHECKPOINT_FILE,
      auditCheckpointStdout: values['audit-checkpoint-stdout'],
      demo: values.demo,
      simulatedAgents: values['simulated-agents'],
      config: { trustedProxies },
    });
    // Listening before the start finishes: a stop asked for meanwhile still writes the last checkpoint.
    const shutdown = () => {
      console.log('keyward: stopping');
      starting.then((server) => server.stop()).then(() => process.exit(0), () => process.exit(1));
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
    await starting;
  } else if (command === 'verify-audit') {
    const checkpointFiles = values.checkpoints ?? (env.KEYWARD_AUDIT_CHECKPOINT_FILE ? [env.KEYWARD_AUDIT_CHECKPOINT_FILE] : undefined);
    const report = await runVerifyAudit({ dataDir: values.data, databaseUrl: values.database, auditKeyFile, checkpointFiles });
    for (const line of report.lines) (report.exitCode === 2 ? console.error : console.log)(line);
    process.exit(report.exitCode);
  } else if (command === 'rewrap-kek') {
    const count = await rewrapAllKeys({ dataDir: values.data, databaseUrl: values.database, kekFile });
    console.log(`re-wrapped ${count} key versions under the new KEK`);
  }
}

try {
  await run();
} catch (error) {
  // One line like every other failure: an operator acts on the message, not on a stack trace.
  console.error(`keyward: ${command} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  process.exit(1);
}
