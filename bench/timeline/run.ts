/**
 * Timeline latency at mailbox scale: the first page of GET /discussions must stay within 30 ms at
 * 100,000 messages. Rows are written straight into a fresh database (ingesting 100k real messages
 * would measure ingest, not the timeline), shaped like a real mailbox and its worst case: thousands
 * of small discussions, one mailing list with a fifth of all messages on the first page, 5% spam.
 * Then each query shape runs many times and the median and p95 are printed.
 *
 *   node --import tsx bench/timeline/run.ts [--messages 100000] [--runs 50]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { openDb, closeDb } from '../../server/store/db.js';
import { listDiscussions, type TimelineQuery } from '../../server/mail/timeline.js';
import { seedMailbox } from '../../tests/helpers/seed-mailbox.js';

function intArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const MESSAGES = intArg('--messages', 100_000);
const RUNS = intArg('--runs', 50);
const BUDGET_MS = 30;

async function time(db: Knex, userId: number, q: TimelineQuery): Promise<{ median: number; p95: number; items: number }> {
  const samples: number[] = [];
  let items = 0;
  for (let i = 0; i < RUNS + 5; i++) {
    const t0 = process.hrtime.bigint();
    const page = await listDiscussions(db, userId, q);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= 5) samples.push(ms); // the first runs warm the page cache and statement cache
    items = page.items.length;
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)]!, p95: samples[Math.floor(samples.length * 0.95)]!, items };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cal-bench-timeline-'));
  const db = await openDb(dir);
  try {
    // Seeding only: these rows are thrown away, durability would just slow the setup down.
    await db.raw('PRAGMA synchronous = OFF');
    const t0 = Date.now();
    const seeded = await seedMailbox(db, MESSAGES);
    console.log(`seeded ${MESSAGES} messages in ${seeded.discussions} discussions in ${((Date.now() - t0) / 1000).toFixed(1)} s (${os.cpus()[0]?.model}, ${os.cpus().length} cpus)`);
    await db.raw('PRAGMA synchronous = FULL');
    const first = await listDiscussions(db, seeded.userId, { limit: 50 });
    const shapes: Array<[string, TimelineQuery]> = [
      ['first page (50)', { limit: 50 }],
      ['first page (100)', { limit: 100 }],
      ['second page', { limit: 50, before: first.next ?? undefined }],
      ['include spam', { limit: 50, includeSpam: true }],
      ['tag (user tag, 10%)', { limit: 50, tag: 'Family' }],
      ['tag INBOX', { limit: 50, tag: 'INBOX' }],
      ['pi 0..40', { limit: 50, piMax: 40 }],
      ['importance ≥ 5', { limit: 50, importanceMin: 5 }],
    ];
    console.log(`\n${'query'.padEnd(24)} ${'median ms'.padStart(10)} ${'p95 ms'.padStart(8)} ${'items'.padStart(6)}`);
    let worstFirst = 0;
    for (const [name, q] of shapes) {
      const r = await time(db, seeded.userId, q);
      if (name.startsWith('first page (50)')) worstFirst = r.median;
      console.log(`${name.padEnd(24)} ${r.median.toFixed(2).padStart(10)} ${r.p95.toFixed(2).padStart(8)} ${String(r.items).padStart(6)}`);
    }
    console.log(`\nfirst page median ${worstFirst.toFixed(2)} ms: ${worstFirst <= BUDGET_MS ? 'within' : 'OVER'} the ${BUDGET_MS} ms budget`);
    if (worstFirst > BUDGET_MS) process.exitCode = 1;
  } finally {
    await closeDb(db);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
