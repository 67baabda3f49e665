/**
 * How well the spam filter separates the labelled corpus (../shared/corpus/{spam,ham}), and how fast
 * it scores. For each fixed seed: shuffle, train a fresh user's filter on 60% of each class through
 * trainSpam, classify the rest through scoreSpam as mail from an unknown sender without auth results.
 * Several seeds, because with ~230 messages one split alone swings accuracy by ±5 points.
 *
 *   node --import tsx bench/spam/eval.ts [--verbose]
 *
 * The integration test tests/integration/spam-corpus.test.ts runs the same evaluation.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser, type ParsedMail } from 'mailparser';
import { corpusDir, corpusFiles } from '../../tests/helpers/corpus.js';
import { closeDb, openDb, type Db } from '../../server/store/db.js';
import type { SenderHistory } from '../../server/mail/types.js';
import { scoreSpam, tokenize, trainSpam } from '../../server/spam/index.js';

export interface LabelledMessage {
  name: string;
  isSpam: boolean;
  parsed: ParsedMail;
}

export interface Metrics {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  precision: number;
  recall: number;
  accuracy: number;
}

export interface SplitReport {
  seed: number;
  train: { spam: number; ham: number };
  test: { spam: number; ham: number };
  rulesOnly: Metrics;
  trained: Metrics;
  misclassified: string[];
}

export interface EvalReport {
  splits: SplitReport[];
  /** confusion matrices of all splits added up */
  pooled: { rulesOnly: Metrics; trained: Metrics; majorityRate: number };
  speed: { messagesPerSecond: number; cpuMicrosPerMessage: number; meanTokens: number };
}

const ENVELOPE = /^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) +\w{3} +\d{1,2} \d{1,2}:\d{2}(?::\d{2})? \d{4}/;
const HEADER_LINE = /^[!-9;-~]+:/;

/** An mbox split on its "From " envelope lines (mboxrd ">From " unquoted); a lone message stays whole. */
export function splitMbox(raw: Buffer): Buffer[] {
  const chunks: string[][] = [[]];
  for (const line of raw.toString('latin1').split('\n')) {
    if (ENVELOPE.test(line)) chunks.push([]);
    else chunks[chunks.length - 1]!.push(line.replace(/^>(>*From )/, '$1'));
  }
  // the part before the first envelope is a message only if it starts with a header (not bsmtp's HELO…)
  return chunks
    .filter((lines) => HEADER_LINE.test(lines.find((l) => l.trim() !== '') ?? ''))
    .map((lines) => Buffer.from(lines.join('\n'), 'latin1'));
}

export async function loadLabelledCorpus(): Promise<LabelledMessage[]> {
  const out: LabelledMessage[] = [];
  for (const [sub, isSpam] of [['spam', true], ['ham', false]] as const) {
    for (const file of corpusFiles(sub, (f) => !/\/(LICENSE|NOTICE|COPYING)$/.test(f))) {
      const parts = splitMbox(fs.readFileSync(file));
      for (const [i, raw] of parts.entries()) {
        const parsed = await simpleParser(raw, { skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
        const name = path.relative(corpusDir, file) + (parts.length > 1 ? `#${i + 1}` : '');
        out.push({ name, isSpam, parsed });
      }
    }
  }
  return out;
}

/** mulberry32: a tiny seeded generator, so every run splits the corpus the same way. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const rnd = random(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const UNKNOWN_SENDER: SenderHistory = { isKnownContact: false, contactHasKey: false, userWroteTo: 0, receivedBefore: 0, markedSpamBefore: 0 };

interface Outcome {
  name: string;
  isSpam: boolean;
  saidSpam: boolean;
}

function metrics(results: readonly Outcome[]): Metrics {
  const m = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (const r of results) {
    if (r.isSpam) r.saidSpam ? m.tp++ : m.fn++;
    else r.saidSpam ? m.fp++ : m.tn++;
  }
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  return { ...m, precision: ratio(m.tp, m.tp + m.fp), recall: ratio(m.tp, m.tp + m.fn), accuracy: ratio(m.tp + m.tn, results.length) };
}

async function classifyAll(db: Db, userId: number, messages: readonly LabelledMessage[]): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const m of messages) {
    const v = await scoreSpam(db, userId, { parsed: m.parsed, auth: null, history: UNKNOWN_SENDER, tokens: tokenize(m.parsed) });
    out.push({ name: m.name, isSpam: m.isSpam, saidSpam: v.isSpam });
  }
  return out;
}

async function createUser(db: Db, username: string): Promise<number> {
  const [id] = (await db('users').insert({ username, password_hash: 'x', created_at: Date.now() })) as number[];
  return id!;
}

/** One split: a fresh user, rules-only pass, training on the train share, then the trained pass. */
async function evaluateSplit(db: Db, all: readonly LabelledMessage[], seed: number, trainShare: number) {
  const split = (isSpam: boolean) => {
    const items = shuffle(all.filter((m) => m.isSpam === isSpam), seed);
    const cut = Math.round(items.length * trainShare);
    return { train: items.slice(0, cut), test: items.slice(cut) };
  };
  const spam = split(true);
  const ham = split(false);
  const userId = await createUser(db, `eval-${seed}`);
  const test = shuffle([...spam.test, ...ham.test], seed + 1);
  const rulesOnly = await classifyAll(db, userId, test);
  for (const m of shuffle([...spam.train, ...ham.train], seed + 2)) await trainSpam(db, userId, tokenize(m.parsed), m.isSpam, null);
  const trained = await classifyAll(db, userId, test);
  const report: SplitReport = {
    seed,
    train: { spam: spam.train.length, ham: ham.train.length },
    test: { spam: spam.test.length, ham: ham.test.length },
    rulesOnly: metrics(rulesOnly),
    trained: metrics(trained),
    misclassified: trained.filter((r) => r.isSpam !== r.saidSpam).map((r) => `${r.isSpam ? 'spam' : 'ham'}:${r.name}`),
  };
  return { report, userId, test, outcomes: { rulesOnly, trained } };
}

/**
 * Messages scored per second by a trained user, tokenizing included (the parse belongs to ingest).
 * CPU time covers SQLite's worker threads too, so it stays meaningful on a busy machine.
 */
async function measureSpeed(db: Db, userId: number, messages: readonly LabelledMessage[], minMs: number) {
  let scored = 0;
  let tokens = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < minMs) {
    for (const m of messages) {
      const t = tokenize(m.parsed);
      await scoreSpam(db, userId, { parsed: m.parsed, auth: null, history: UNKNOWN_SENDER, tokens: t });
      scored++;
      tokens += t.length;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    messagesPerSecond: scored / ((performance.now() - start) / 1000),
    cpuMicrosPerMessage: (cpu.user + cpu.system) / scored,
    meanTokens: tokens / scored,
  };
}

export async function evaluateCorpus(opts: { seeds?: number[]; trainShare?: number; speedMs?: number } = {}): Promise<EvalReport> {
  const all = await loadLabelledCorpus();
  const dir = fs.mkdtempSync(os.tmpdir() + '/cal-');
  const db = await openDb(dir);
  try {
    const splits: SplitReport[] = [];
    const pooled: { rulesOnly: Outcome[]; trained: Outcome[] } = { rulesOnly: [], trained: [] };
    let last: Awaited<ReturnType<typeof evaluateSplit>> | null = null;
    for (const seed of opts.seeds ?? [1, 2, 3, 4, 5]) {
      last = await evaluateSplit(db, all, seed, opts.trainShare ?? 0.6);
      splits.push(last.report);
      pooled.rulesOnly.push(...last.outcomes.rulesOnly);
      pooled.trained.push(...last.outcomes.trained);
    }
    const spamShare = pooled.trained.filter((o) => o.isSpam).length / pooled.trained.length;
    const speed = await measureSpeed(db, last!.userId, last!.test, opts.speedMs ?? 3000);
    return {
      splits,
      pooled: { rulesOnly: metrics(pooled.rulesOnly), trained: metrics(pooled.trained), majorityRate: Math.max(spamShare, 1 - spamShare) },
      speed,
    };
  } finally {
    await closeDb(db);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function metricLine(label: string, m: Metrics): string {
  return `${label}: precision ${pct(m.precision)}, recall ${pct(m.recall)}, accuracy ${pct(m.accuracy)} (tp ${m.tp}, fp ${m.fp}, tn ${m.tn}, fn ${m.fn})`;
}

export function describe(r: EvalReport, verbose = false): string[] {
  const lines: string[] = [];
  for (const s of r.splits) {
    lines.push(`seed ${s.seed}: trained on ${s.train.spam} spam + ${s.train.ham} ham, tested on ${s.test.spam} spam + ${s.test.ham} ham`);
    lines.push('  ' + metricLine('rules only', s.rulesOnly), '  ' + metricLine('rules + learned filter', s.trained));
    if (verbose) lines.push(`  misclassified: ${s.misclassified.join(' ') || 'none'}`);
  }
  lines.push(
    `all ${r.splits.length} splits pooled (majority class ${pct(r.pooled.majorityRate)}):`,
    '  ' + metricLine('rules only (untrained filter)', r.pooled.rulesOnly),
    '  ' + metricLine('rules + learned filter', r.pooled.trained),
    `scoring speed: ${Math.round(r.speed.messagesPerSecond)} msgs/s wall, ${Math.round(r.speed.cpuMicrosPerMessage)} µs CPU/msg ` +
      `(tokenize + scoreSpam, ${Math.round(r.speed.meanTokens)} tokens/msg on average, trained user)`,
  );
  return lines;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = await evaluateCorpus();
  for (const line of describe(report, process.argv.includes('--verbose'))) console.log(line);
}
