/**
 * IMAP import throughput of the whole pipeline, measured from outside: a mailbox of N generated
 * messages (../shared/bench/gen_mail.py: mixed sizes, realistic headers, threads, attachments)
 * served by a local Dovecot over IMAPS, imported by a real `caliopen import imap` child process
 * into a fresh data dir (fetch, parse, authenticate, spam, PI, discussions, index, commit; the
 * command ends once every message is committed). Side by side: mbsync (Debian isync) syncing the
 * same mailbox to a Maildir, the reference for "just copying the mail". Peak memory is the child's
 * VmHWM (and sampled VmRSS).
 *
 *   node --import tsx bench/import/run.ts [--count 20000] [--only caliopen,mbsync] [--config JSON] [--profile]
 *
 * Needs root (Dovecot), python3, mbsync (apt-get install isync) for the side-by-side run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startDnsServer } from '../../tests/helpers/dns-server.js';
import { startDovecot } from '../../tests/helpers/dovecot.js';
import { openReadDb, closeDb } from '../../server/store/db.js';
import { loadConfig } from '../../server/config.js';
import { createDeps, closeDeps } from '../../server/deps.js';
import { findUserByLogin } from '../../server/accounts/users.js';
import { createAccount } from '../../server/imap-import/account-store.js';
import { summarizeProfile } from '../lib/cpuprofile.js';
import { fmt, intArg, machineInfo, onCleanup, runBench, sampleRss, startChild, table, tempDir } from '../lib/common.js';
import { ADMIN, applianceEnv, installedBin, repoRoot, setupBox } from '../lib/appliance.js';

const argv = process.argv.slice(2);
const COUNT = intArg(argv, '--count', 20_000);
const onlyIdx = argv.indexOf('--only');
const ONLY = new Set(onlyIdx >= 0 ? argv[onlyIdx + 1]!.split(',') : ['caliopen', 'mbsync']);
/** extra configuration for the importing process, e.g. --config '{"imports":{"concurrency":32},"ingest":{"analyzerThreads":0}}' */
const configIdx = argv.indexOf('--config');
const CONFIG = configIdx >= 0 ? (JSON.parse(argv[configIdx + 1]!) as Record<string, unknown>) : null;
const PROFILE = argv.includes('--profile');
const STAGES = ['syncAccount', 'syncFolder', 'importBatch', 'ingestOne', 'fetch', 'ingest', 'prepareShared', 'prepareForUser', 'analyze', 'scoreSpam', 'collectPrivacySignals', 'writeMessages', 'put'];
const GEN = path.resolve(repoRoot, '../shared/bench/gen_mail.py');
const MBSYNC = '/usr/bin/mbsync';

interface Row {
  target: string;
  wallS: number;
  stored: number;
  hwmMb: number | null;
  peakRssMb: number;
}

async function timedChild(cmd: string, args: string[], env: Record<string, string>, cwd: string): Promise<{ ms: number; code: number | null; output: string; hwmMb: number | null; peakRssMb: number }> {
  const started = performance.now();
  const { child, exited, output } = startChild(cmd, args, { env: { ...process.env, ...env }, cwd });
  const rss = sampleRss(child.pid!, 50);
  const code = await exited;
  const ms = performance.now() - started;
  const mem = rss.stop();
  return { ms, code, output: output(), hwmMb: mem.hwmMb, peakRssMb: mem.peakRssMb };
}

async function caliopenRun(imapsPort: number, certPem: string, fingerprint: string): Promise<Row> {
  const dataDir = tempDir('cal-bench-import-');
  const dns = await startDnsServer({}); // every name NXDOMAIN at once: nothing leaves loopback
  onCleanup('dns server', () => dns.close());
  const env = applianceEnv(dataDir, dns.address);
  if (CONFIG) {
    fs.writeFileSync(path.join(dataDir, 'bench-config.json'), JSON.stringify(CONFIG));
    env.CALIOPEN_CONFIG = path.join(dataDir, 'bench-config.json');
    process.stdout.write(`config: ${JSON.stringify(CONFIG)}\n`);
  }
  await setupBox(env);
  const deps = await createDeps(loadConfig(env, {}, dataDir));
  const alice = await findUserByLogin(deps.db, ADMIN.username);
  await createAccount(deps.db, deps.secrets, {
    userId: alice!.id, address: 'alice@remote.test', host: '127.0.0.1', port: imapsPort, tls: 'implicit', username: 'alice', password: 'alicepass',
    intervalMinutes: 15, trustedFingerprint: fingerprint, trustedCertPem: certPem,
  }, Date.now());
  await closeDeps(deps);
  const profDir = path.join(dataDir, 'profiles');
  const flags = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
  const r = await timedChild(installedBin, ['import', 'imap', '--account', 'alice@remote.test'], { ...env, CALIOPEN_NODE_FLAGS: flags.join(' ') }, dataDir);
  if (PROFILE) {
    // kept after the run (the data dir goes), for Chrome DevTools → Performance
    const keep = path.join(os.tmpdir(), 'caliopen-bench');
    fs.mkdirSync(keep, { recursive: true });
    for (const [i, f] of fs.readdirSync(profDir).sort().entries()) {
      const sum = summarizeProfile(path.join(profDir, f), STAGES, 15);
      fs.copyFileSync(path.join(profDir, f), path.join(keep, `import-${COUNT}-${i === 0 ? 'main' : `thread${i}`}.cpuprofile`));
      process.stdout.write(`\nprofile ${f}: ${fmt(sum.totalMs / 1000)} s, idle ${fmt(sum.idleMs / 1000)} s, GC ${fmt(sum.gcMs / 1000)} s (copied to ${keep})\n`);
      process.stdout.write(table(['self by file', 'ms', '%'], sum.selfByFile.slice(0, 12).map((x) => [x.file, fmt(x.ms, 0), fmt(x.pct)])) + '\n');
      process.stdout.write(table(['inclusive', 'ms', '%'], sum.inclusive.map((x) => [x.name, fmt(x.ms, 0), fmt(x.pct)])) + '\n');
    }
  }
  if (r.code !== 0) throw new Error(`caliopen import imap failed (${r.code}):\n${r.output.slice(-3000)}`);
  process.stdout.write(r.output.split('\n').filter((l) => /^(done|alice@remote)/.test(l)).join('\n') + '\n');
  const db = openReadDb(dataDir, 1);
  const stored = Number((await db('messages').count({ n: '*' }))[0]!.n);
  await closeDb(db);
  return { target: 'caliopen import imap (full pipeline)', wallS: r.ms / 1000, stored, hwmMb: r.hwmMb, peakRssMb: r.peakRssMb };
}

async function mbsyncRun(imapsPort: number, certFile: string): Promise<Row> {
  const dir = tempDir('cal-bench-mbsync-');
  fs.mkdirSync(path.join(dir, 'maildir'));
  const conf = path.join(dir, 'mbsyncrc');
  fs.writeFileSync(conf, `IMAPAccount bench
Host localhost
Port ${imapsPort}
User alice
Pass alicepass
SSLType IMAPS
CertificateFile ${certFile}

IMAPStore remote
Account bench

MaildirStore local
Path ${dir}/maildir/
Inbox ${dir}/maildir/INBOX

Channel bench
Far :remote:
Near :local:
Patterns *
Create Near
Sync Pull
SyncState *
`);
  const r = await timedChild(MBSYNC, ['-q', '-c', conf, '-a'], {}, dir);
  if (r.code !== 0) throw new Error(`mbsync failed (${r.code}):\n${r.output.slice(-3000)}`);
  const stored = Number(execFileSync('sh', ['-c', `find '${dir}/maildir' -type f -path '*/cur/*' -o -type f -path '*/new/*' | wc -l`], { encoding: 'utf8' }).trim());
  return { target: 'mbsync (isync) to a Maildir', wallS: r.ms / 1000, stored, hwmMb: r.hwmMb, peakRssMb: r.peakRssMb };
}

async function main(): Promise<void> {
  const info = machineInfo();
  process.stdout.write(`# IMAP import bench: ${COUNT} messages over IMAPS from Dovecot\n${info.date} · ${info.cpus} × ${info.cores} · ${info.memGb} GB · node ${info.node} · load ${info.loadavg}\n`);
  const dovecot = await startDovecot({ teardown: (fn) => void onCleanup('dovecot', async () => void (await fn())) }, { alice: 'alicepass' });
  const maildir = path.join(dovecot.dir, 'mail', 'alice', 'Maildir');
  let t0 = performance.now();
  execFileSync('python3', [GEN, '--out', maildir, '--count', String(COUNT)], { stdio: 'inherit' });
  execFileSync('chown', ['-R', '5000:5000', path.join(dovecot.dir, 'mail')]);
  const bytes = Number(execFileSync('du', ['-sb', maildir], { encoding: 'utf8' }).split(/\s/)[0]);
  process.stdout.write(`generated ${COUNT} messages, ${fmt(bytes / 1048576)} MB, in ${fmt((performance.now() - t0) / 1000)} s\n`);
  t0 = performance.now();
  // Dovecot indexes a Maildir on first access: done here, so neither client pays for it
  process.stdout.write(dovecot.doveadm(['mailbox', 'status', '-u', 'alice', 'messages vsize', 'INBOX']));
  process.stdout.write(`Dovecot index built in ${fmt((performance.now() - t0) / 1000)} s\n`);
  const certFile = path.join(dovecot.dir, 'cert.pem');
  const rows: Row[] = [];
  if (ONLY.has('mbsync')) {
    if (fs.existsSync(MBSYNC)) rows.push(await mbsyncRun(dovecot.imapsPort, certFile));
    else process.stdout.write('mbsync missing (apt-get install isync): side-by-side run skipped\n');
  }
  if (ONLY.has('caliopen')) rows.push(await caliopenRun(dovecot.imapsPort, dovecot.certPem, dovecot.fingerprint));
  process.stdout.write('\n' + table(['target', 'wall s', 'msg/s', 'VmHWM MB', 'peak VmRSS MB', 'stored'],
    rows.map((r) => [r.target, fmt(r.wallS), fmt(r.stored / r.wallS, 0), fmt(r.hwmMb), fmt(r.peakRssMb), r.stored])) + '\n');
  const cal = rows.find((r) => r.target.startsWith('caliopen'));
  const mb = rows.find((r) => r.target.startsWith('mbsync'));
  if (cal && mb) process.stdout.write(`caliopen / mbsync rate: ${fmt(cal.stored / cal.wallS / (mb.stored / mb.wallS), 3)}\n`);
  if (cal) {
    const rate = cal.stored / cal.wallS;
    process.stdout.write(`targets: ≥ 500 msg/s ${rate >= 500 ? 'met' : 'MISSED'} (${fmt(rate, 0)}), VmHWM ≤ 200 MB ${cal.hwmMb !== null && cal.hwmMb <= 200 ? 'met' : 'MISSED'} (${fmt(cal.hwmMb)})\n`);
  }
  process.stdout.write(`load at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
}

void runBench(main);
