/**
 * Where an SMTP ingest spends its time: the same createApp() as `caliopen start`, in this process,
 * fed by the same smtp-source command as run.ts, with the store and the outside world wrapped
 * (no file outside bench/ changes): every SQL statement is timed and attributed to a statement
 * class, inside or outside the group-commit transaction; the single writer connection's waits and
 * holds are timed; blob writes and whole ingest() calls are timed, DNS queries counted.
 *
 *   node --import tsx bench/ingest/stages.ts [--count 2000] [--sessions 20] [--size 10240]
 */
import { threadPoolSize } from '../lib/threadpool.js';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { loadConfig } from '../../server/config.js';
import { createApp } from '../../server/app.js';
import { openDb } from '../../server/store/db.js';
import { createBlobStore, type BlobStore } from '../../server/store/blobs.js';
import { runSetup } from '../../server/setup/first-run.js';
import { systemClock } from '../../server/clock.js';
import { silentLogger } from '../../server/log.js';
import { startDnsServer } from '../../tests/helpers/dns-server.js';
import { fmt, intArg, machineInfo, onCleanup, percentile, runBench, runTimed, table, tempDir } from '../lib/common.js';
import { ADMIN, DOMAIN } from '../lib/appliance.js';

const argv = process.argv.slice(2);
const COUNT = intArg(argv, '--count', 2000);
const SESSIONS = intArg(argv, '--sessions', 20);
const SIZE = intArg(argv, '--size', 10_240);

/** Accumulates durations (ms) per key. */
class Timings {
  readonly m = new Map<string, number[]>();
  add(key: string, ms: number): void {
    const a = this.m.get(key);
    if (a) a.push(ms);
    else this.m.set(key, [ms]);
  }
  get(key: string): number[] {
    return this.m.get(key) ?? [];
  }
}

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

/** A statement class: the SQL with its values gone and long IN-lists folded, so like ones group. */
function classify(sql: string): string {
  return sql
    .replace(/\s+/g, ' ')
    .replace(/savepoint \w+|release savepoint \w+|rollback to savepoint \w+/gi, (m) => m.replace(/ \w+$/, ' <sp>'))
    .replace(/\((\?, )+\?\)/g, '(?…)')
    .replace(/(\(\?…\), )+\(\?…\)/g, '(?…)…')
    .trim()
    .slice(0, 110);
}

await runBench(async () => {
  const dataDir = tempDir('caliopen-bench-stages-');
  const dns = await startDnsServer({});
  onCleanup('dns server', () => dns.close());
  const config = loadConfig(
    { CALIOPEN_DATA_DIR: dataDir, CALIOPEN_HTTP_PORT: '0', CALIOPEN_SMTP_PORT: '0', CALIOPEN_SUBMISSION_PORT: '0', CALIOPEN_SUBMISSIONS_PORT: '0', CALIOPEN_HOSTNAME: 'mx.example.test', CALIOPEN_RESOLVER: dns.address },
    { smtp: { host: '127.0.0.1' }, http: { host: '127.0.0.1' }, logLevel: 'warn' },
    dataDir,
  );
  const db = await openDb(dataDir);
  await runSetup(db, systemClock, { domain: DOMAIN, admin: ADMIN.username, password: ADMIN.password });

  // --- statements: knex emits 'query' before and 'query-response' after each one, with a uid.
  // Attached to the writer here, and to the read pool (if the store has one) once the app exists.
  const stmt = new Timings();
  const open = new Map<string, { t: number; key: string }>();
  let measuring = false;
  const instrument = (knex: Knex, role: 'writer' | 'reader') => {
    knex.on('query', (q: { __knexQueryUid: string; __knexTxId?: string; sql: string }) => {
      if (!measuring) return;
      if (role === 'writer' && hold && q.__knexTxId) {
        hold.trx = true;
        hold.firstIssue ??= performance.now();
        // one messages row per stored message: a multi-row insert is "select … union all select …"
        if (/^insert into `messages`/i.test(q.sql)) hold.jobs += (q.sql.match(/union all/gi)?.length ?? 0) + 1;
      }
      const where = role === 'reader' ? 'read pool' : q.__knexTxId ? 'writer trx' : 'writer';
      open.set(q.__knexQueryUid, { t: performance.now(), key: `${where.padEnd(10)} | ${classify(q.sql)}` });
    });
    const done = (q: { __knexQueryUid: string }) => {
      const o = open.get(q.__knexQueryUid);
      if (!o) return;
      open.delete(q.__knexQueryUid);
      stmt.add(o.key, performance.now() - o.t);
      if (hold && o.key.startsWith('writer trx')) hold.lastAnswer = performance.now();
    };
    knex.on('query-response', (_r: unknown, q: { __knexQueryUid: string }) => done(q));
    knex.on('query-error', (_e: unknown, q: { __knexQueryUid: string }) => done(q));
  };
  instrument(db, 'writer');

  // --- the writer connection: how long callers wait for it, how long each holder keeps it.
  // Its pool max is 1 (store/db.ts), so at most one hold is open at any time.
  const pool = (db as Knex & { client: { pool: NodeJS.EventEmitter } }).client.pool;
  const acquireStart = new Map<number, number>();
  const heldSince = new Map<unknown, number>();
  const poolT = new Timings();
  // A commit batch's hold, split: BEGIN (acquire → first statement issued), its statements (first
  // issued → last answered) and COMMIT (last answer → release: the WAL fsync and the callbacks).
  let hold: { trx: boolean; jobs: number; start: number; firstIssue?: number; lastAnswer?: number } | null = null;
  const batchSizes: number[] = [];
  pool.on('acquireRequest', (id: number) => measuring && acquireStart.set(id, performance.now()));
  pool.on('acquireSuccess', (id: number, res: unknown) => {
    const t = acquireStart.get(id);
    if (t === undefined) return;
    acquireStart.delete(id);
    poolT.add('wait', performance.now() - t);
    heldSince.set(res, performance.now());
    hold = { trx: false, jobs: 0, start: performance.now() };
  });
  pool.on('release', (res: unknown) => {
    const t = heldSince.get(res);
    if (t === undefined) return;
    heldSince.delete(res);
    const ms = performance.now() - t;
    poolT.add('hold', ms);
    if (hold?.trx) {
      poolT.add('hold by a commit batch', ms);
      batchSizes.push(hold.jobs);
      if (hold.firstIssue !== undefined && hold.lastAnswer !== undefined) {
        poolT.add('batch: begin', hold.firstIssue - hold.start);
        poolT.add('batch: statements', hold.lastAnswer - hold.firstIssue);
        poolT.add('batch: commit', performance.now() - hold.lastAnswer);
      }
    } else poolT.add('hold by a single statement', ms);
    hold = null;
  });

  // --- blobs and DNS, wrapped
  const realBlobs = createBlobStore(dataDir);
  const io = new Timings();
  const blobs: BlobStore = {
    ...realBlobs,
    async put(bytes) {
      const t = performance.now();
      try {
        return await realBlobs.put(bytes);
      } finally {
        if (measuring) io.add('blob put (2 fsyncs)', performance.now() - t);
      }
    },
  };
  // No DNS override: with an injected resolver the app analyses inline instead of in its worker
  // thread (app.ts); the loopback DNS server's query log counts the look-ups instead.
  const app = await createApp(config, { db, blobs, log: silentLogger });
  onCleanup('app', () => app.stop());
  await app.start();
  const readDb = (app.services.deps as { readDb?: Knex }).readDb;
  if (readDb && readDb !== db) instrument(readDb, 'reader');

  // --- whole ingest() calls: the SMTP handler calls services.ingestor.ingest at call time
  const ingestor = app.services.ingestor;
  const realIngest = ingestor.ingest.bind(ingestor);
  ingestor.ingest = async (input) => {
    const t = performance.now();
    try {
      return await realIngest(input);
    } finally {
      if (measuring) io.add('ingest() call', performance.now() - t);
    }
  };

  // Event-loop health: how late timers fire (every callback of every statement pays this) and
  // how busy the main thread is.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const elu0 = performance.eventLoopUtilization();
  // Memory of this process while it ingests: which part of the RSS is the JS heap, which part
  // Buffers (external/arrayBuffers), and the rest native (SQLite page caches, the analyzer
  // worker's own V8 isolate, malloc arenas).
  const memPeak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const memTimer = setInterval(() => {
    const m = process.memoryUsage();
    for (const k of Object.keys(memPeak) as Array<keyof typeof memPeak>) memPeak[k] = Math.max(memPeak[k], m[k]);
  }, 100).unref();
  const memBefore = process.memoryUsage();
  dns.queries.length = 0;
  measuring = true;
  const args = ['-s', String(SESSIONS), '-d', '-l', String(SIZE), '-m', String(COUNT), '-f', 'bench@remote.test', '-t', ADMIN.address, `127.0.0.1:${app.ports.smtp}`];
  const r = await runTimed('/usr/sbin/smtp-source', args, 60_000 + COUNT * 50);
  measuring = false;
  loopDelay.disable();
  clearInterval(memTimer);
  const elu = performance.eventLoopUtilization(elu0);
  const wall = r.ms / 1000;

  const info = machineInfo();
  process.stdout.write(`ingest stages ${info.date}, in-process createApp() (UV_THREADPOOL_SIZE ${threadPoolSize}), smtp-source ${args.join(' ').replace(/:\d+$/, ':PORT')}\n`);
  process.stdout.write(`${COUNT} messages in ${fmt(wall, 2)} s = ${fmt(COUNT / wall, 0)} msg/s (smtp-source exit ${r.code})\n\n`);

  // Batches: knex does not report BEGIN/SAVEPOINT/COMMIT as queries; a batch is a connection
  // hold during which transaction statements ran, its size the messages rows inserted in it.
  const begins = batchSizes.length;
  const savepoints = sum(batchSizes);
  const rows = [...stmt.m]
    .map(([k, v]) => ({ k, n: v.length, total: sum(v), p50: percentile(v, 50), p95: percentile(v, 95) }))
    .sort((a, b) => b.total - a.total);
  process.stdout.write(
    table(
      ['statement class (time from issue to answer: queueing for the pool thread + SQLite)', 'per msg', 'total s', 'p50 ms', 'p95 ms'],
      rows.slice(0, 30).map((x) => [x.k, fmt(x.n / COUNT, 2), fmt(x.total / 1000, 2), fmt(x.p50, 2), fmt(x.p95, 2)]),
    ) + '\n\n',
  );
  const totalStmts = sum(rows.map((x) => x.n));
  const inTrx = rows.filter((x) => x.k.startsWith('writer trx'));
  const outside = rows.filter((x) => !x.k.startsWith('writer trx'));
  const wait = poolT.get('wait');
  const holds = poolT.get('hold');
  const others = [...io.m].map(([k, v]) => [k, fmt(v.length / COUNT, 2), fmt(percentile(v, 50), 2), fmt(percentile(v, 95), 2), fmt(sum(v) / 1000, 1)]);
  process.stdout.write(
    table(['figure', 'value'], [
      ['SQL statements per message', fmt(totalStmts / COUNT, 1)],
      ['  inside the commit transaction', `${fmt(sum(inTrx.map((x) => x.n)) / COUNT, 1)} (${fmt(sum(inTrx.map((x) => x.total)) / 1000, 1)} s summed)`],
      ['  outside it (look-ups: recipients, history, bayes…)', `${fmt(sum(outside.map((x) => x.n)) / COUNT, 1)} (${fmt(sum(outside.map((x) => x.total)) / 1000, 1)} s summed)`],
      ['commit batches (BEGIN … COMMIT)', `${begins}: ${fmt(savepoints / Math.max(1, begins), 1)} messages per batch`],
      ['writer connection acquisitions per message', fmt(wait.length / COUNT, 1)],
      ['  wait for the writer p50 / p95 / summed', `${fmt(percentile(wait, 50), 2)} / ${fmt(percentile(wait, 95), 2)} ms / ${fmt(sum(wait) / 1000, 1)} s`],
      ['  writer held p50 / p95 / max', `${fmt(percentile(holds, 50), 2)} / ${fmt(percentile(holds, 95), 2)} / ${fmt(Math.max(0, ...holds), 1)} ms`],
      ['  writer busy (held) share of wall time', `${fmt((100 * sum(holds)) / r.ms, 0)} %`],
      ['  held by commit batches p50 / p95 / summed', `${fmt(percentile(poolT.get('hold by a commit batch'), 50), 1)} / ${fmt(percentile(poolT.get('hold by a commit batch'), 95), 1)} ms / ${fmt(sum(poolT.get('hold by a commit batch')) / 1000, 1)} s`],
      ['  held by single statements p50 / p95 / summed', `${fmt(percentile(poolT.get('hold by a single statement'), 50), 2)} / ${fmt(percentile(poolT.get('hold by a single statement'), 95), 2)} ms / ${fmt(sum(poolT.get('hold by a single statement')) / 1000, 1)} s`],
      ...(['begin', 'statements', 'commit'] as const).map((part) => {
        const v = poolT.get(`batch: ${part}`);
        return [`    ${part === 'begin' ? 'BEGIN (acquire → first statement)' : part === 'statements' ? 'statements (first issued → last answered)' : 'COMMIT incl. WAL fsync (last answer → release)'} p50 / p95 / summed`, `${fmt(percentile(v, 50), 1)} / ${fmt(percentile(v, 95), 1)} ms / ${fmt(sum(v) / 1000, 1)} s`];
      }),
      ['  commit batch size p50 / p95 / max', `${percentile(batchSizes, 50)} / ${percentile(batchSizes, 95)} / ${Math.max(0, ...batchSizes)}`],
      ['main thread busy (event-loop utilization)', `${fmt(100 * elu.utilization, 0)} %`],
      ['event-loop delay p50 / p99 / max', `${fmt(loopDelay.percentile(50) / 1e6, 2)} / ${fmt(loopDelay.percentile(99) / 1e6, 2)} / ${fmt(loopDelay.max / 1e6, 1)} ms`],
    ]) + '\n\n',
  );
  const MB = (n: number) => fmt(n / 2 ** 20, 0);
  process.stdout.write(
    table(['memory of this process (MB)', 'before the run', 'peak during the run'], [
      ['RSS', MB(memBefore.rss), MB(memPeak.rss)],
      ['V8 heap total (main thread)', MB(memBefore.heapTotal), MB(memPeak.heapTotal)],
      ['V8 heap used (main thread)', MB(memBefore.heapUsed), MB(memPeak.heapUsed)],
      ['external (Buffers, native objects)', MB(memBefore.external), MB(memPeak.external)],
      ['  of which ArrayBuffers', MB(memBefore.arrayBuffers), MB(memPeak.arrayBuffers)],
      ['max RSS (getrusage)', '', MB(process.resourceUsage().maxRSS * 1024)],
    ]) + '\n\n',
  );
  others.push(['DNS queries (loopback server log)', fmt(dns.queries.length / COUNT, 2), '', '', '']);
  process.stdout.write(table(['wrapped call', 'per msg', 'p50 ms', 'p95 ms', 'summed s'], others) + '\n\n');
  process.stdout.write(
    JSON.stringify({
      bench: 'ingest-stages', ...info, count: COUNT, seconds: wall, msgsPerSec: COUNT / wall, batches: begins, messagesPerBatch: savepoints / Math.max(1, begins),
      statementsPerMsg: totalStmts / COUNT, connectionWait: { p50: percentile(wait, 50), p95: percentile(wait, 95), sumS: sum(wait) / 1000 },
      connectionBusyPct: (100 * sum(holds)) / r.ms, eventLoopUtilization: elu.utilization,
      eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6 },
      memoryMb: Object.fromEntries(Object.entries(memPeak).map(([k, v]) => [k, v / 2 ** 20])),
      statements: rows.slice(0, 30).map((x) => ({ cls: x.k, perMsg: x.n / COUNT, totalS: x.total / 1000, p50: x.p50, p95: x.p95 })),
      wrapped: Object.fromEntries([...io.m].map(([k, v]) => [k, { perMsg: v.length / COUNT, p50: percentile(v, 50), p95: percentile(v, 95) }])),
    }) + '\n',
  );
});
