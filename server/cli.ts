/**
 * The `caliopen` command: start the appliance, set it up, manage domains and users, import mail,
 * print the configuration. Errors are one clear line on stderr and a non-zero exit code.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig, redactConfig, describeConfig, type Config } from './config.js';
import { createDeps, type Deps } from './deps.js';
import { AppError, isAppError } from './errors.js';
import { addDomainWithKeys, listDomains } from './accounts/domains.js';
import { addUser, listUsers, removeUser, findUserByLogin } from './accounts/users.js';
import { runSetup } from './setup/first-run.js';
import { createIngestor } from './mail/ingest.js';
import { createAnalyzer } from './mail/analyzer.js';
import { importMailbox } from './mail/import-mailbox.js';
import { detectMailboxFormat } from './mail/mailbox-readers.js';
import { closeDeps } from './deps.js';
import { doctorCmd } from './cli/doctor.js';
import { queueCmd } from './cli/queue.js';
import { importImapCmd } from './cli/import-imap.js';

const USAGE = `Usage: caliopen <command> [options]

  start                                   run the appliance (SMTP + web + API)
  setup --domain D --admin U --password-file F [--lang en|fr]
                                          first run, non-interactive
  domain add D | domain list
  user add U --domain D --password-file F [--admin] | user list | user remove U
  import mbox|maildir PATH --user U [--tag T]...
                                          import a local mailbox through the ingest pipeline
  import imap --account ID|ADDRESS        sync an external account now (added in the web app), with progress
  print-config [--describe]               effective configuration, secrets redacted
  doctor [--domain D]                     DNS records to publish and their live check, TLS, ports, disk
  relay set URL [--domain D] | relay list | relay remove D|*
  queue list [--all] | queue retry ID | queue drop ID
                                          the outbound queue: what waits, try now, give up
                                          smarthost for outgoing mail (all domains, or one recipient domain)
  help

Environment: CALIOPEN_DATA_DIR, CALIOPEN_HTTP_PORT, CALIOPEN_SMTP_PORT, CALIOPEN_HOSTNAME,
CALIOPEN_CONFIG, CALIOPEN_RESOLVER, CALIOPEN_RELAY (see README).`;

function readPasswordFile(file: string | undefined): string {
  if (!file) throw new AppError('bad_request', '--password-file is required');
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new AppError('bad_request', `cannot read password file ${file}: ${(err as Error).message}`);
  }
}

async function withDeps<T>(config: Config, fn: (deps: Deps) => Promise<T>): Promise<T> {
  const deps = await createDeps(config);
  try {
    return await fn(deps);
  } finally {
    await closeDeps(deps);
  }
}

type Opts = Record<string, string | boolean | string[] | undefined>;
const out = (line: string): void => {
  process.stdout.write(line + '\n');
};

async function domainCmd(config: Config, [sub, name]: string[]): Promise<void> {
  await withDeps(config, async (deps) => {
    if (sub === 'add' && name) {
      const d = await addDomainWithKeys(deps, name);
      out(`domain ${d.name} added; DNS records to publish: caliopen doctor --domain ${d.name}`);
    } else if (sub === 'list') for (const d of await listDomains(deps.db)) out(d.name);
    else throw new AppError('bad_request', 'usage: caliopen domain add D | domain list');
  });
}

async function userCmd(config: Config, [sub, name]: string[], o: Opts): Promise<void> {
  await withDeps(config, async ({ db, clock }) => {
    if (sub === 'add' && name) {
      const password = readPasswordFile(o['password-file'] as string | undefined);
      if (!o.domain) throw new AppError('bad_request', '--domain is required');
      const u = await addUser(db, clock, { username: name, domain: o.domain as string, password, isAdmin: !!o.admin });
      out(`user ${u.username} added (${u.username}@${String(o.domain).toLowerCase()})`);
    } else if (sub === 'list') {
      for (const u of await listUsers(db)) out(`${u.username}\t${u.address ?? ''}${u.is_admin ? '\tadmin' : ''}`);
    } else if (sub === 'remove' && name) {
      await removeUser(db, name);
      out(`user ${name} removed`);
    } else throw new AppError('bad_request', 'usage: caliopen user add U --domain D --password-file F | user list | user remove U');
  });
}

async function importCmd(config: Config, [format, file]: string[], o: Opts): Promise<void> {
  if (format === 'imap') return withDeps(config, (deps) => importImapCmd(deps, o.account as string | undefined, out));
  if (format !== 'mbox' && format !== 'maildir') throw new AppError('bad_request', 'usage: caliopen import mbox|maildir PATH --user U');
  if (!file || !fs.existsSync(file)) throw new AppError('bad_request', `no such file or directory: ${file ?? '(missing PATH)'}`);
  if (detectMailboxFormat(file) !== format) throw new AppError('bad_request', `${file} does not look like a ${format}`);
  await withDeps(config, async (deps) => {
    const user = await findUserByLogin(deps.db, String(o.user ?? ''));
    if (!user) throw new AppError('user_not_found', `no user ${o.user ?? '(missing --user)'}`);
    const ingestor = createIngestor(deps, createAnalyzer({ threads: config.ingest.analyzerThreads, resolver: deps.dns, resolverAddress: config.resolver, log: deps.log }));
    const started = Date.now();
    let lastPrint = 0;
    const result = await importMailbox(ingestor, {
      format, path: file, userId: user.id, tags: (o.tag as string[] | undefined) ?? [],
      onProgress: (p) => {
        if (Date.now() - lastPrint < 500 || !process.stderr.isTTY) return;
        lastPrint = Date.now();
        process.stderr.write(`\r${p.seen} read, ${p.imported} imported, ${p.duplicates} duplicates, ${p.failed} failed`);
      },
      onError: (err, index) => process.stderr.write(`\nmessage #${index} not imported: ${(err as Error).message}\n`),
    });
    await ingestor.drain();
    const secs = (Date.now() - started) / 1000;
    if (process.stderr.isTTY) process.stderr.write('\n');
    out(`${result.imported} imported, ${result.duplicates} duplicates, ${result.failed} failed (${result.seen} read in ${secs.toFixed(1)} s)`);
    if (result.failed > 0) process.exitCode = 1;
  });
}

export async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      domain: { type: 'string' }, admin: { type: 'string' }, 'password-file': { type: 'string' }, lang: { type: 'string' },
      user: { type: 'string' }, account: { type: 'string' }, tag: { type: 'string', multiple: true }, describe: { type: 'boolean' }, all: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const [cmd, ...rest] = positionals;
  try {
    if (!cmd || cmd === 'help' || values.help) return out(USAGE);
    if (cmd === 'start') return void (await (await import('./main.js')).start());
    const config = loadConfig();
    switch (cmd) {
      case 'print-config':
        return out(values.describe ? describeConfig().join('\n') : JSON.stringify(redactConfig(config), null, 2));
      case 'setup':
        return await withDeps(config, async ({ db, clock, secrets }) => {
          if (!values.domain || !values.admin) throw new AppError('bad_request', 'usage: caliopen setup --domain D --admin U --password-file F');
          const lang = values.lang === 'fr' ? 'fr' : 'en';
          const u = await runSetup(db, clock, { domain: values.domain, admin: values.admin, password: readPasswordFile(values['password-file']), lang }, secrets);
          out(`box set up: domain ${values.domain.toLowerCase()}, admin ${u.username}`);
        });
      case 'domain':
        return await domainCmd(config, rest);
      case 'user':
        return await userCmd(config, rest, { ...values, admin: values.admin !== undefined });
      case 'import':
        return await importCmd(config, rest, values);
      case 'doctor':
        return await withDeps(config, (deps) => doctorCmd(deps, { domain: values.domain }, out));
      case 'queue':
        return await withDeps(config, (deps) => queueCmd(deps, rest, { all: values.all }, out));
      case 'relay':
        return await withDeps(config, async (deps) => (await import('./cli/relay.js')).relayCmd(deps, values.domain ? [...rest, '--domain', values.domain] : rest, out));
      default:
        throw new AppError('bad_request', `unknown command "${cmd}"\n\n${USAGE}`);
    }
  } catch (err) {
    process.stderr.write(`caliopen: ${isAppError(err) ? err.message : (err as Error).stack ?? String(err)}\n`);
    process.exitCode = isAppError(err) && err.code === 'invalid_config' ? 78 : 1;
  }
}
