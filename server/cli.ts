#!/usr/bin/env node
/**
 * `keyward <command> [flags]`: `serve` (the default), `verify-audit`, the KEK rotation
 * (`kek-add`, `rewrap-kek`, `kek-retire`), `init`, `demo-remove`, `backup`, `restore`, `help`.
 * `keyward --help`, `keyward help` and `keyward <command> --help` list the commands and flags.
 * Bad arguments and a database that cannot be used are one line on stderr and exit code 2 —
 * never a stack trace.
 * `keyward sso show|configure …` (single sign-on; see server/sso-cli.ts) has its own options.
 */
import { parseArgs } from 'node:util';
import { startKeywardServer } from './main.ts';
import { runVerifyAudit } from './verify-audit.ts';
import { existsSync } from 'node:fs';
import { addKek, kekAddSteps, KekRotationRefused, retireOldKeks, rewrapAllKeys } from './rewrap.ts';
import { defaultKekPath } from './crypto/kek.ts';
import { defaultAuditKeyPath } from './crypto/audit-key.ts';
import { DatabaseUnavailable } from './db/open.ts';
import { openAdminSession } from './admin-session.ts';
import { initOrganisation, InitRefused, validateInitInput } from './init.ts';
import { removeDemoAccounts } from './demo-accounts.ts';
import { readSecretLines } from './read-secret.ts';
import { backup, BackupRefused, restoreSqlite } from './backup.ts';
import { defaultCheckpointPath } from './audit-checkpoints.ts';
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
      { name: 'trusted-proxy', value: 'CIDR[,CIDR…]', help: 'reverse proxies whose X-Forwarded-For/-Proto/-Host are believed (env KEYWARD_TRUSTED_PROXY)' },
      { name: 'tls-cert', value: 'FILE', help: 'serve HTTPS with this PEM certificate (chain); re-read on SIGHUP (env KEYWARD_TLS_CERT)' },
      { name: 'tls-key', value: 'FILE', help: 'the PEM private key of --tls-cert; re-read on SIGHUP (env KEYWARD_TLS_KEY)' },
    ],
  },
  init: {
    summary: 'set up the organisation and its first admin (once; the password is typed, or piped as one line)',
    flags: [
      { name: 'org', value: 'NAME', help: "the organisation's name" },
      { name: 'email', value: 'EMAIL', help: "the first admin's email (their sign-in)" },
      { name: 'name', value: 'NAME', help: "the first admin's name" },
      { name: 'support-contact', value: 'TEXT', help: 'who people should contact when no key is found; default your IT support' },
      DATA, DATABASE, KEK_FILE, AUDIT_KEY_FILE,
    ],
  },
  'demo-remove': {
    summary: 'remove the demo accounts (published passwords): they can no longer sign in; audited',
    flags: [DATA, DATABASE, KEK_FILE, AUDIT_KEY_FILE],
  },
  backup: {
    summary: 'back up the database (SQLite online copy, or pg_dump) to --out and the KEK ring, audit key and checkpoints to --keys-out, kept apart',
    flags: [
      { name: 'out', value: 'DIR', help: 'where the database copy goes (a new directory)' },
      { name: 'keys-out', value: 'DIR', help: 'where the key files and checkpoints go: not inside --out, and stored apart from it' },
      DATA, DATABASE, KEK_FILE, AUDIT_KEY_FILE,
      { name: 'audit-checkpoint-file', value: 'FILE', help: "this instance's checkpoint file; default <data>/audit-checkpoints.jsonl (env KEYWARD_AUDIT_CHECKPOINT_FILE)" },
    ],
  },
  restore: {
    summary: 'put a SQLite backup (--from) and its key backup (--keys-from) into a new data directory (PostgreSQL: pg_restore, see README)',
    flags: [
      { name: 'from', value: 'DIR', help: 'the database backup (--out of backup)' },
      { name: 'keys-from', value: 'DIR', help: 'the key backup (--keys-out of backup)' },
      DATA,
    ],
  },
  'verify-audit': {
    summary: 'check the audit log (keyed chain, head, signed checkpoints); exit 0 only when intact',
    flags: [
      DATA, DATABASE, AUDIT_KEY_FILE,
      { name: 'checkpoints', value: 'FILE', help: 'a checkpoint file to check against (repeat for each instance); default <data>/audit-checkpoints.jsonl' },
    ],
  },
  'kek-add': {
    summary: 'KEK rotation, step 1: write a new KEK to <kek>.new, to be copied to every instance (needs --data or --kek-file)',
    flags: [DATA, KEK_FILE],
  },
  'rewrap-kek': {
    summary: 'KEK rotation, step 2: once every running instance holds <kek>.new, re-wrap every key under it, online and resumably; audited',
    flags: [DATA, DATABASE, KEK_FILE, AUDIT_KEY_FILE],
  },
  'kek-retire': {
    summary: 'KEK rotation, step 3: delete the old KEK files (<kek>.old-<id>) no key needs any more; audited',
    flags: [DATA, DATABASE, KEK_FILE, AUDIT_KEY_FILE],
  },
  sso: { summary: 'single sign-on settings: sso show, sso configure … (keyward sso --help)', flags: [] },
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
        'trusted-proxy': { type: 'string' },
        'kek-file': { type: 'string' },
        'audit-key-file': { type: 'string' },
        'audit-checkpoint-file': { type: 'string' },
        'audit-checkpoint-stdout': { type: 'boolean', default: false },
        checkpoints: { type: 'string', multiple: true },
        org: { type: 'string' },
        out: { type: 'string' },
        'keys-out': { type: 'string' },
        from: { type: 'string' },
        'keys-from': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        email: { type: 'string' },
        name: { type: 'string' },
        'support-contact': { type: 'string' },
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

/** The KEK commands act on files that must be named: a default ./data would quietly make a new, unrelated ring. */
async function runKekCommand(name: 'kek-add' | 'rewrap-kek' | 'kek-retire'): Promise<void> {
  const named = (flag: string) => tokens.some((t) => t.kind === 'option' && t.name === flag);
  if (!named('data') && !kekFile) fail(`${name} needs the KEK your instances use: --kek-file FILE (or KEYWARD_KEK_FILE) or --data DIR for DIR/kek.key (keyward ${name} --help)`);
  const ring = kekFile ?? defaultKekPath(values.data);
  if (!existsSync(ring)) fail(`no KEK file at ${ring}: name the one your instances use with --kek-file or --data`);
  const options = {
    kekFile: ring,
    auditKeyFile: auditKeyFile ?? defaultAuditKeyPath(values.data),
    dataDir: values.data,
    databaseUrl: values.database,
    say: (line: string) => console.log(line),
  };
  try {
    if (name === 'kek-add') {
      const added = addKek(ring);
      console.log(`keyward: ${added.created ? 'new KEK' : 'the KEK already added'} ${added.kek.id} is in ${added.path}. Next:`);
      for (const step of kekAddSteps(ring)) console.log(`  ${step}`);
    } else if (name === 'rewrap-kek') {
      const done = await rewrapAllKeys(options);
      console.log(`keyward: re-wrapped ${done.count} key versions under KEK ${done.to}; ${ring} is now that KEK (the old one kept as ${ring}.old-<id>). Next:`);
      console.log(`  ${kekAddSteps(ring)[2]}`);
    } else {
      const done = await retireOldKeks(options);
      for (const id of done.retired) console.log(`keyward: retired KEK ${id} (its file is deleted)`);
      for (const k of done.kept) console.log(`keyward: kept KEK ${k.id}: ${k.rows} key versions still need it; run rewrap-kek first`);
      if (done.retired.length === 0 && done.kept.length === 0) console.log('keyward: no old KEK to retire');
    }
  } catch (error) {
    if (error instanceof KekRotationRefused || error instanceof DatabaseUnavailable) fail(error.message);
    throw error;
  }
}

async function runAdminCommand(name: 'init' | 'demo-remove'): Promise<void> {
  let password = '';
  if (name === 'init') {
    const missing = (['org', 'email', 'name'] as const).filter((f) => !values[f]);
    if (missing.length > 0) fail(`init needs ${missing.map((f) => `--${f}`).join(', ')} (keyward init --help)`);
    if (process.stdin.isTTY) {
      const [first, again] = await readSecretLines([`Password for ${values.email}: `, 'The same password again: ']);
      if (first !== again) fail('the two passwords differ; run init again');
      password = first;
    } else {
      password = (await readSecretLines(['']))[0] ?? '';
    }
  }
  const input = { orgName: values.org ?? '', email: values.email ?? '', name: values.name ?? '', password, supportContact: values['support-contact'] ?? 'your IT support' };
  if (name === 'init') {
    try {
      validateInitInput(input);
    } catch (error) {
      if (error instanceof InitRefused) fail(error.message);
      throw error;
    }
  }
  const session = await openAdminSession({ dataDir: values.data, databaseUrl: values.database, kekFile, auditKeyFile });
  try {
    if (name === 'init') {
      await initOrganisation(session.deps, input);
      const same = [values.data !== './data' ? `--data ${values.data}` : '', values.database ? '--database …' : '', kekFile ? `--kek-file ${kekFile}` : '', auditKeyFile ? `--audit-key-file ${auditKeyFile}` : ''].filter(Boolean).join(' ');
      console.log(`keyward: organisation "${values.org}" is set up; ${values.email} is its admin. Start the service (keyward serve${same ? ` ${same}` : ''}) and sign in.`);
    } else {
      const removed = await removeDemoAccounts(session.deps);
      console.log(removed.length > 0 ? `keyward: removed the demo accounts ${removed.join(', ')} (they can no longer sign in)` : 'keyward: no demo account to remove');
    }
  } catch (error) {
    if (error instanceof InitRefused) fail(error.message);
    throw error;
  } finally {
    await session.close();
  }
}

async function runBackupCommand(name: 'backup' | 'restore'): Promise<void> {
  const named = (flag: string) => tokens.some((t) => t.kind === 'option' && t.name === flag);
  try {
    if (name === 'backup') {
      if (!values.out || !values['keys-out']) fail('backup needs --out DIR (the database copy) and --keys-out DIR (the keys, stored apart) (keyward backup --help)');
      if (!named('data') && !kekFile) fail('backup needs the data directory (--data DIR) or --kek-file and --audit-key-file of the service');
      const done = await backup({
        dataDir: values.data, databaseUrl: values.database, out: values.out, keysOut: values['keys-out'],
        kekFile: kekFile ?? defaultKekPath(values.data), auditKeyFile: auditKeyFile ?? defaultAuditKeyPath(values.data),
        checkpointFiles: [values['audit-checkpoint-file'] ?? env.KEYWARD_AUDIT_CHECKPOINT_FILE ?? defaultCheckpointPath(values.data)],
      });
      console.log(`keyward: database backed up to ${done.database}`);
      console.log(`keyward: KEK ring (${done.kekIds.join(', ')}), audit key and checkpoints backed up to ${values['keys-out']}: store them apart from the database backup`);
    } else {
      if (!values.from || !values['keys-from'] || !named('data')) fail('restore needs --from DIR, --keys-from DIR and --data DIR (a new data directory) (keyward restore --help)');
      const restored = restoreSqlite({ from: values.from, keysFrom: values['keys-from'], dataDir: values.data });
      console.log(`keyward: restored ${restored.length} files into ${values.data}; start it with keyward serve --data ${values.data}, then check it with keyward verify-audit --data ${values.data}`);
    }
  } catch (error) {
    if (error instanceof BackupRefused || error instanceof DatabaseUnavailable) fail(error.message);
    throw error;
  }
}

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
    const tlsCert = values['tls-cert'] ?? env.KEYWARD_TLS_CERT;
    const tlsKey = values['tls-key'] ?? env.KEYWARD_TLS_KEY;
    if (Boolean(tlsCert) !== Boolean(tlsKey)) fail('HTTPS needs both --tls-cert FILE and --tls-key FILE');
    const starting = startKeywardServer({
      ...(tlsCert && tlsKey ? { tls: { certFile: tlsCert, keyFile: tlsKey } } : {}),
      port,
      host: values.host,
      dataDir: values.data,
      databaseUrl: values.database,
      kekFile,
      auditKeyFile,
      auditCheckpointFile: values['audit-checkpoint-file'] ?? env.KEYWARD_AUDIT_CHECKPOINT_FILE,
      auditCheckpointStdout: values['audit-checkpoint-stdout'],
      demo: values.demo,
      config: { trustedProxies },
    });
    // Listening before the start finishes: a stop asked for meanwhile still writes the last checkpoint.
    const shutdown = () => {
      console.log('keyward: stopping');
      starting.then((server) => server.stop()).then(() => process.exit(0), () => process.exit(1));
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
    // SIGHUP: pick up a renewed TLS certificate and KEK files added for a rotation, without a restart.
    process.on('SIGHUP', () => void starting.then((server) => server.reload(), () => undefined));
    await starting;
  } else if (command === 'verify-audit') {
    const checkpointFiles = values.checkpoints ?? (env.KEYWARD_AUDIT_CHECKPOINT_FILE ? [env.KEYWARD_AUDIT_CHECKPOINT_FILE] : undefined);
    const report = await runVerifyAudit({ dataDir: values.data, databaseUrl: values.database, auditKeyFile, checkpointFiles });
    for (const line of report.lines) (report.exitCode === 2 ? console.error : console.log)(line);
    process.exit(report.exitCode);
  } else if (command === 'backup' || command === 'restore') {
    await runBackupCommand(command);
  } else if (command === 'init' || command === 'demo-remove') {
    await runAdminCommand(command);
  } else if (command === 'kek-add' || command === 'rewrap-kek' || command === 'kek-retire') {
    await runKekCommand(command);
  }
}

try {
  await run();
} catch (error) {
  // One line like every other failure: an operator acts on the message, not on a stack trace.
  console.error(`keyward: ${command} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  process.exit(1);
}
