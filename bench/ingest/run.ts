/**
 * Ingest throughput of the whole durable pipeline, measured from outside like a real MX sees it:
 * Postfix's smtp-source (N sessions, reused connections, fixed-size messages) against a real
 * `caliopen start` process on a fresh data dir. smtp-source exits once every message got its 250,
 * and Caliopen answers 250 only after the message is fsynced and committed, so its wall time is
 * the time to store N messages durably. The same smtp-source command against smtp-sink (no
 * storage: the protocol ceiling) and Dovecot LMTP into a Maildir (a mail store) gives the anchors.
 *
 *   node --import tsx bench/ingest/run.ts [--count 20000] [--sessions 20] [--size 10240]
 *        [--only caliopen,sink,dovecot] [--profile] [--timeout-s S] [--node-flags 'F …']
 *
 * --profile runs the appliance under `node --cpu-prof` and prints where its main thread spent time.
 * --trained gives the user a trained spam filter first (totals of 50 spam / 50 ham sorted, no
 * tokens): without it the user is new, and ingest skips the spam-token look-up of untrained filters.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDnsServer } from '../../tests/helpers/dns-server.js';
import { openDb, openReadDb, closeDb } from '../../server/store/db.js';
import {
  cpuSeconds, duBytes, fmt, freePort, intArg, machineInfo, onCleanup, rssMb, runBench, runTimed, sampleRss,
  schedstat, startChild, stopChild, table, tempDir, threadCpu, threadCpuDelta, waitForPort,
} from '../lib/common.js';
import { ADMIN, applianceEnv, setupBox, startAppliance } from '../lib/appliance.js';
import { summarizeProfile } from '../lib/cpuprofile.js';

const SMTP_SOURCE = '/usr/sbin/smtp-source';
const SMTP_SINK = '/usr/sbin/smtp-sink';
const DOVECOT = '/usr/sbin/dovecot';
const SENDER = 'bench@remote.test';
/** uid/gid Dovecot delivers as: numeric, no /etc/passwd entry needed (TESTING.md §1). */
const VUID = 5000;

const argv = process.argv.slice(2);
const COUNT = intArg(argv, '--count', 20_000);
const SESSIONS = intArg(argv, '--sessions', 20);
const SIZE = intArg(argv, '--size', 10_240);
const onlyIdx = argv.indexOf('--only');
const ONLY = new Set(onlyIdx >= 0 ? argv[onlyIdx + 1]!.split(',') : ['sink', 'dovecot', 'caliopen']);
const PROFILE = argv.includes('--profile');
const TRAINED = argv.includes('--trained');
/** extra node flags for the appliance, for A/B runs (e.g. --node-flags '--heap-growing-percent=0') */
const nodeFlagsIdx = argv.indexOf('--node-flags');
const NODE_FLAGS = nodeFlagsIdx >= 0 ? argv[nodeFlagsIdx + 1]!.split(' ').filter(Boolean) : [];
/** Profiles are kept out of the repo, next to the search bench's cached corpus. */
const KEEP_DIR = '/tmp/caliopen-bench';
/** Generous bound: 50 ms per message (20 msg/s) plus a minute, so a stuck run ends by itself. */
const RUN_TIMEOUT_MS = intArg(argv, '--timeout-s', 60 + COUNT / 20) * 1000;

interface Row {
  target: string;
  ok: boolean;
  stored: number | null;
  seconds: number;
  rate: number;
  peakRssMb: number | null;
  hwmMb: number | null;
  note: string;
  deciles: number[];
}

/**
 * The one smtp-source command all three targets get; -L turns it into LMTP for Dovecot.
 * -c prints a running count of completed DATA commands, from which blast() draws the rate over
 * time (the same for every target, and far cheaper than the messages themselves).
 */
function smtpSourceArgs(port: number, lmtp = false): string[] {
  return [...(lmtp ? ['-L'] : []), '-c', '-s', String(SESSIONS), '-d', '-l', String(SIZE), '-m', String(COUNT), '-f', SENDER, '-t', ADMIN.address, `127.0.0.1:${port}`];
}

interface Blast {
  ms: number;
  ok: boolean;
  output: string;
  /** msg/s within each tenth of the messages (first 10 %, next 10 %, …): shows a rate that decays */
  decileRates: number[];
}

async function blast(port: number, lmtp = false): Promise<Blast> {
  const started = performance.now();
  const reachedAt: number[] = []; // ms at which the count passed each tenth of COUNT
  let pending = '';
  const onStdout = (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    const parts = pending.split(/[\r\n]/);
    pending = parts.pop() ?? '';
    const last = Number(parts.filter((x) => /^\d+$/.test(x)).pop() ?? NaN);
    if (Number.isNaN(last)) return;
    const now = performance.now() - started;
    while (reachedAt.length < 10 && last >= Math.ceil(((reachedAt.length + 1) * COUNT) / 10)) reachedAt.push(now);
  };
  const r = await runTimed(SMTP_SOURCE, smtpSourceArgs(port, lmtp), RUN_TIMEOUT_MS, {}, onStdout);
  const errors = r.output.split(/[\r\n]/).filter((l) => /warning|fatal|error/i.test(l));
  // smtp-source reports any non-2xx reply or lost session on stderr, and exits non-zero on fatal ones.
  const ok = r.code === 0 && errors.length === 0;
  const decileRates = reachedAt.map((t, i) => COUNT / 10 / ((t - (i === 0 ? 0 : reachedAt[i - 1]!)) / 1000));
  return { ms: r.ms, ok, output: errors.join('\n').trim(), decileRates };
}

async function benchSink(): Promise<Row> {
  const port = await freePort();
  const sink = startChild(SMTP_SINK, ['-u', 'nobody', '-c', `127.0.0.1:${port}`, '256']);
  try {
    await waitForPort(port, 10_000);
    const r = await blast(port);
    return { target: 'smtp-sink (no storage)', ok: r.ok, stored: null, seconds: r.ms / 1000, rate: COUNT / (r.ms / 1000), peakRssMb: null, hwmMb: null, note: r.ok ? '' : r.output.slice(0, 200), deciles: r.decileRates };
  } finally {
    await stopChild(sink.child, sink.exited);
  }
}

/** A standalone LMTP-only Dovecot (TESTING.md §1 minus IMAP/TLS) delivering into a Maildir. */
async function benchDovecot(): Promise<Row> {
  const dir = tempDir('caliopen-bench-dovecot-');
  fs.chmodSync(dir, 0o755); // auth runs as user dovecot and mail as VUID: both need +x on the path
  for (const d of ['run', 'state', 'mail']) fs.mkdirSync(path.join(dir, d));
  const port = await freePort();
  const home = path.join(dir, 'mail', 'alice');
  fs.writeFileSync(path.join(dir, 'users'), `alice:{PLAIN}${ADMIN.password}:${VUID}:${VUID}::${home}::\n`);
  // LMTP looks the recipient up by its full address; %n keeps the local part, so
  // alice@example.test finds the passwd-file user "alice".
  fs.writeFileSync(
    path.join(dir, 'dovecot.conf'),
    `# standalone: does NOT include /etc/dovecot/conf.d
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = caliopen-bench-${port}
log_path = ${dir}/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
mail_location = maildir:~/Maildir
mail_uid = ${VUID}
mail_gid = ${VUID}
first_valid_uid = ${VUID}
last_valid_uid = ${VUID}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n ${dir}/users
}
userdb {
  driver = passwd-file
  args = username_format=%n ${dir}/users
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${port}
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`,
  );
  fs.mkdirSync(home, { recursive: true });
  fs.chownSync(home, VUID, VUID);
  const dovecot = startChild(DOVECOT, ['-F', '-c', path.join(dir, 'dovecot.conf')]);
  try {
    await waitForPort(port, 10_000);
    const r = await blast(port, true);
    const maildir = path.join(home, 'Maildir');
    const stored = ['new', 'cur'].reduce((n, d) => n + (fs.existsSync(path.join(maildir, d)) ? fs.readdirSync(path.join(maildir, d)).length : 0), 0);
    const log = fs.existsSync(path.join(dir, 'dovecot.log')) ? fs.readFileSync(path.join(dir, 'dovecot.log'), 'utf8') : '';
    const errors = log.split('\n').filter((l) => /Error|Fatal|Panic/.test(l));
    const ok = r.ok && stored === COUNT;
    const note = [ok ? '' : r.output.slice(0, 200), errors.slice(0, 2).join(' / ')].filter(Boolean).join(' ');
    return { target: 'Dovecot LMTP → Maildir', ok, stored, seconds: r.ms / 1000, rate: COUNT / (r.ms / 1000), peakRssMb: null, hwmMb: null, note, deciles: r.decileRates };
  } finally {
    await stopChild(dovecot.child, dovecot.exited, 10_000);
  }
}

/**
 * VmRSS as the kernel splits it: anonymous (V8 heaps, malloc arenas, SQLite caches) and file-backed
 * (mostly the node binary's own pages, ~55 MB that no setting of ours changes), with the thread count.
 */
interface RssSplit { anonMb: number; fileMb: number; threads: number }

function rssSplit(pid: number): RssSplit | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { anonMb: field('RssAnon') / 1024, fileMb: field('RssFile') / 1024, threads: field('Threads') };
  } catch {
    return null;
  }
}

interface CaliopenDetail {
  idleRssMb: number | null;
  idleSplit: RssSplit | null;
  /** read right after the last message got its 250, before stopping */
  endSplit: RssSplit | null;
  rssByTenth: number[];
  cpu: { total: number | null; main: number | null; busiestOther: number | null; rest: number | null; mainWaitingForCpu: number | null };
  dnsQueries: number;
  dataBytes: { db: number; blobs: number };
  /** one summary per thread that wrote a profile: the main thread, then worker threads */
  profiles: Array<{ thread: string; summary: ReturnType<typeof summarizeProfile> }>;
}

/**
 * Functions of the ingest path whose inclusive time the profile summary reports: the main thread's
 * (SMTP, look-ups, commit) and the analyzer worker's (parse, SPF/DKIM/DMARC, tokens). Names that do
 * not occur in a thread are left out of its table.
 */
const STAGES = [
  // main thread
  'receive', 'deliver', 'resolve', 'classify', 'ingest', 'prepareShared', 'put', 'analyze', 'rehydrate', 'prepareForUser',
  'loadIngestFacts', 'scoreSpam', 'repliesToUser', 'collectPrivacySignals', 'computePi', 'runBatch', 'writeMessages',
  'committedDuplicates', 'lookupDiscussions', 'discussionOf', 'nextMessageId', 'contactIdsFor', 'insertMany', 'indexMessagesText', 'addToDiscussion',
  // analyzer worker
  'analyzeMessage', 'parseMessage', 'simpleParser', 'fallbackParse', 'authenticateMessage', 'contentHash', 'tokenize',
];

async function countMessages(dataDir: string): Promise<number> {
  // Read after the run through the appliance's own store code, read-only: running the migrations
  // here would fail on a migration added to the tree while the appliance ran (another checkout's work).
  const db = openReadDb(dataDir, 1);
  try {
    const row = (await db('messages').count({ n: '*' }).first()) as { n: number };
    return Number(row.n);
  } finally {
    await closeDb(db);
  }
}

/** A user who has sorted mail already: the filter's totals say trained, so every message's tokens are looked up. */
async function trainFilter(dataDir: string): Promise<void> {
  const db = await openDb(dataDir);
  const user = await db('users').first('id');
  await db('spam_stats').insert({ user_id: user.id, spam_messages: 50, ham_messages: 50 }).onConflict('user_id').merge();
  await closeDb(db);
}

async function benchCaliopen(): Promise<{ row: Row; detail: CaliopenDetail }> {
  const dataDir = tempDir('caliopen-bench-ingest-');
  const dns = await startDnsServer({}); // every name NXDOMAIN, answered at once, nothing leaves loopback
  onCleanup('dns server', () => dns.close());
  const env = applianceEnv(dataDir, dns.address);
  await setupBox(env);
  if (TRAINED) await trainFilter(dataDir);
  const profDir = path.join(dataDir, 'cpu-profile');
  const app = await startAppliance(env, [...NODE_FLAGS, ...(PROFILE ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [])]);
  // The analyzer worker loads its modules after the ports are announced: idle means once it has.
  await new Promise((r) => setTimeout(r, 2000));
  const idleRssMb = rssMb(app.pid);
  const idleSplit = rssSplit(app.pid);
  const cpu0 = cpuSeconds(app.pid);
  const thr0 = threadCpu(app.pid);
  const sched0 = schedstat(app.pid);
  dns.queries.length = 0;
  const sampler = sampleRss(app.pid, 100);
  const r = await blast(app.ports.smtp);
  const mem = sampler.stop();
  const endSplit = rssSplit(app.pid);
  const cpu1 = cpuSeconds(app.pid);
  const thr1 = threadCpu(app.pid);
  const sched1 = schedstat(app.pid);
  const dnsQueries = dns.queries.length;
  const threads = threadCpuDelta(app.pid, thr0, thr1);
  const code = await app.stop();
  // Counted after a clean stop; the 250s already meant "committed", stop() adds nothing to count.
  const stored = await countMessages(dataDir);
  const blobs = fs.existsSync(path.join(dataDir, 'blobs')) ? duBytes(path.join(dataDir, 'blobs')) : 0;
  const dbBytes = fs.readdirSync(dataDir).filter((f) => f.startsWith('caliopen.sqlite')).reduce((n, f) => n + fs.statSync(path.join(dataDir, f)).size, 0);
  const profiles: CaliopenDetail['profiles'] = [];
  if (PROFILE) {
    // node --cpu-prof writes one file per thread: CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile
    const files = fs.existsSync(profDir) ? fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')) : [];
    const threadOf = (f: string) => Number(f.split('.').at(-3));
    fs.mkdirSync(KEEP_DIR, { recursive: true });
    for (const f of files.sort((a, b) => threadOf(a) - threadOf(b))) {
      const thread = threadOf(f) === 0 ? 'main' : `worker ${threadOf(f)}`;
      const keep = path.join(KEEP_DIR, `ingest-${COUNT}-${thread.replace(' ', '')}.cpuprofile`);
      fs.copyFileSync(path.join(profDir, f), keep);
      profiles.push({ thread, summary: summarizeProfile(keep, STAGES) });
    }
    if (!files.length) process.stderr.write(`no CPU profile written (exit code ${code})\n`);
  }
  const ok = r.ok && stored === COUNT;
  const note = ok ? '' : `smtp-source: ${r.output.slice(0, 300)}; stored ${stored}/${COUNT}`;
  return {
    row: { target: 'Caliopen (SMTP → durable store)', ok, stored, seconds: r.ms / 1000, rate: COUNT / (r.ms / 1000), peakRssMb: mem.peakRssMb, hwmMb: mem.hwmMb, note, deciles: r.decileRates },
    detail: {
      idleRssMb,
      idleSplit,
      endSplit,
      rssByTenth: mem.peakByTenth,
      cpu: {
        total: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null,
        main: threads?.main ?? null,
        busiestOther: threads?.busiestOther ?? null,
        rest: threads?.rest ?? null,
        mainWaitingForCpu: sched0 && sched1 ? sched1.waiting - sched0.waiting : null,
      },
      dnsQueries,
      dataBytes: { db: dbBytes, blobs },
      profiles,
    },
  };
}

await runBench(async () => {
  for (const bin of [SMTP_SOURCE, ...(ONLY.has('sink') ? [SMTP_SINK] : []), ...(ONLY.has('dovecot') ? [DOVECOT] : [])]) {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is not installed (see /work/shared/docs/TESTING.md §1–2)`);
  }
  const info = machineInfo();
  const command = `smtp-source ${smtpSourceArgs(0).join(' ').replace(':0', ':PORT')}`;
  process.stdout.write(`ingest bench ${info.date} — ${info.cores} × ${info.cpus}, ${info.memGb} GB, node ${info.node}, load average ${info.loadavg}\n${command}\n\n`);

  const rows: Row[] = [];
  // Anchors first: they are quick, and a broken anchor should show before the long run.
  if (ONLY.has('sink')) rows.push(await benchSink());
  if (ONLY.has('dovecot')) rows.push(await benchDovecot());
  let detail: CaliopenDetail | null = null;
  if (ONLY.has('caliopen')) {
    const c = await benchCaliopen();
    rows.push(c.row);
    detail = c.detail;
  }

  process.stdout.write(
    table(
      ['target', 'messages', 'wall s', 'msg/s', 'peak VmRSS MB', 'VmHWM MB', 'ok', 'note'],
      rows.map((r) => [r.target, r.stored ?? COUNT, fmt(r.seconds, 2), fmt(r.rate, 0), fmt(r.peakRssMb), fmt(r.hwmMb), r.ok ? 'yes' : 'NO', r.note]),
    ) + '\n\n',
  );

  process.stdout.write(
    table(
      ['msg/s by tenth of the run', ...Array.from({ length: 10 }, (_, i) => `${i * 10}–${i * 10 + 10}%`)],
      rows.map((r) => [r.target, ...Array.from({ length: 10 }, (_, i) => fmt(r.deciles[i], 0))]),
    ) + '\n\n',
  );

  const cal = rows.find((r) => r.target.startsWith('Caliopen'));
  const sink = rows.find((r) => r.target.startsWith('smtp-sink'));
  const dove = rows.find((r) => r.target.startsWith('Dovecot'));
  if (cal && detail) {
    const busy = detail.cpu;
    process.stdout.write(
      table(['Caliopen figure', 'value', 'target'], [
        ['throughput', `${fmt(cal.rate, 0)} msg/s`, `≥ 500 msg/s: ${cal.rate >= 500 ? 'met' : 'MISSED'}`],
        ['peak RSS (VmHWM)', `${fmt(cal.hwmMb)} MB`, `≤ 200 MB: ${(cal.hwmMb ?? cal.peakRssMb ?? Infinity) <= 200 ? 'met' : 'MISSED'}`],
        ['idle RSS after start', `${fmt(detail.idleRssMb)} MB`, ''],
        ...([['  at idle', detail.idleSplit], ['  after the run', detail.endSplit]] as const).map(([when, x]) =>
          [when, x ? `anonymous ${fmt(x.anonMb)} + file-backed ${fmt(x.fileMb)} MB, ${x.threads} threads` : '–', '']),
        ['peak VmRSS by tenth of the run', detail.rssByTenth.map((x) => fmt(x, 0)).join(', ') + ' MB', ''],
        ['ratio to smtp-sink', sink ? fmt(cal.rate / sink.rate, 3) : '–', ''],
        ['ratio to Dovecot LMTP', dove ? fmt(cal.rate / dove.rate, 2) : '–', ''],
        ['CPU during run (all threads)', `${fmt(busy.total, 1)} s = ${fmt((busy.total ?? NaN) / cal.seconds, 2)} cores`, ''],
        ['CPU per message (all threads / main thread)', `${fmt((1000 * (busy.total ?? NaN)) / COUNT, 2)} / ${fmt((1000 * (busy.main ?? NaN)) / COUNT, 2)} ms`, 'the figure a shared box does not bend much'],
        ['  main JS thread', `${fmt(busy.main, 1)} s = ${fmt((100 * (busy.main ?? NaN)) / cal.seconds, 0)} % of wall`, ''],
        ['  main thread runnable but waiting for a CPU', `${fmt(busy.mainWaitingForCpu, 1)} s = ${fmt((100 * (busy.mainWaitingForCpu ?? NaN)) / cal.seconds, 0)} % of wall (machine load)`, ''],
        ['  busiest other thread (the analyzer worker)', `${fmt(busy.busiestOther, 1)} s = ${fmt((100 * (busy.busiestOther ?? NaN)) / cal.seconds, 0)} % of wall`, ''],
        ['  all other threads (libuv pool: sqlite, fsync; V8 GC)', `${fmt(busy.rest, 1)} s`, ''],
        ['DNS queries per message', fmt(detail.dnsQueries / COUNT, 2), ''],
        ['store size per message', `db ${fmt(detail.dataBytes.db / COUNT / 1024)} KB + raw ${fmt(detail.dataBytes.blobs / COUNT / 1024)} KB`, ''],
      ]) + '\n\n',
    );
  }
  for (const { thread, summary: p } of detail?.profiles ?? []) {
    const busyMs = p.totalMs - p.idleMs;
    process.stdout.write(`CPU profile, ${thread} thread: ${fmt(p.totalMs / 1000, 1)} s sampled, busy ${fmt(busyMs / 1000, 1)} s (${fmt((100 * busyMs) / p.totalMs, 0)} %), GC ${fmt(p.gcMs / 1000, 1)} s`);
    process.stdout.write(` (kept in ${KEEP_DIR}/ingest-${COUNT}-${thread.replace(' ', '')}.cpuprofile; Chrome DevTools → Performance)\n\n`);
    process.stdout.write(table([`stage (inclusive, ${thread} thread)`, 'ms', '% of busy'], p.inclusive.filter((s) => s.ms > 0).map((s) => [s.name, fmt(s.ms, 0), fmt(s.pct, 1)])) + '\n\n');
    process.stdout.write(table([`self time by file (${thread})`, 'ms', '% of busy'], p.selfByFile.slice(0, 15).map((s) => [s.file, fmt(s.ms, 0), fmt(s.pct, 1)])) + '\n\n');
    process.stdout.write(table([`self time by function (${thread})`, 'ms', '% of busy'], p.selfByFunction.slice(0, 20).map((s) => [s.name, fmt(s.ms, 0), fmt(s.pct, 1)])) + '\n\n');
  }

  const json = {
    bench: 'ingest',
    ...info,
    command,
    count: COUNT,
    sessions: SESSIONS,
    size: SIZE,
    results: rows.map((r) => ({ target: r.target, ok: r.ok, stored: r.stored, seconds: +r.seconds.toFixed(3), msgsPerSec: +r.rate.toFixed(1), peakRssMb: r.peakRssMb && +r.peakRssMb.toFixed(1), hwmMb: r.hwmMb && +r.hwmMb.toFixed(1), decileMsgsPerSec: r.deciles.map((d) => +d.toFixed(1)) })),
    ratios: cal ? { toSink: sink ? +(cal.rate / sink.rate).toFixed(4) : null, toDovecot: dove ? +(cal.rate / dove.rate).toFixed(3) : null } : null,
    caliopen: detail && { idleRssMb: detail.idleRssMb, idleSplit: detail.idleSplit, endSplit: detail.endSplit, rssByTenthMb: detail.rssByTenth.map((x) => +x.toFixed(1)), cpu: detail.cpu, dnsQueriesPerMsg: detail.dnsQueries / COUNT, dataBytes: detail.dataBytes },
    targets: cal ? { rate500: cal.rate >= 500, rss200: (cal.hwmMb ?? cal.peakRssMb ?? Infinity) <= 200 } : null,
  };
  // The load at the end too: a colleague's job starting mid-run shows here, not in the first one.
  process.stdout.write(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  process.stdout.write(JSON.stringify({ ...json, loadavgEnd: os.loadavg().map((l) => +l.toFixed(2)).join(' ') }) + '\n');
  if (rows.some((r) => !r.ok)) process.exitCode = 1;
});
