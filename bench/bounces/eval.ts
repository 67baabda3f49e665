/**
 * How well parseBounce reads the bounce corpus (../shared/corpus/bounces, read in place).
 *
 *   node --import tsx bench/bounces/eval.ts [--verbose]
 *
 * - sisimai: for every row of EXPECTED-go-sisimai.tsv (go-sisimai's test tables), is the message
 *   recognised, is the n-th recipient found, does the status class (2/4/5) match, the exact status
 *   (only where sisimai's value came from the message: its own x.0.9xx codes are inferences), and
 *   hard/soft. Rows whose reason is "feedback" (ARF) or "vacation" (RFC 3834) must be answered null.
 *   maildir/dos and maildir/mac repeat bsd samples with CRLF and CR-only line endings: recognised?
 * - flufl-bounce: the failed recipients of EXPECTED-flufl-bounce.tsv (set equality and recall).
 * - negatives: sisimai maildir/not, perl-bounceparser auto-replies and challenge-response, ARF,
 *   DMARC/TLS reports and read receipts: the share wrongly taken for bounces.
 * - other bounce sets (perl-bounceparser, deltachat, enmime, mikel-mail, mimekit, mailparser): recognised?
 *
 * tests/unit/delivery/bounce-parse.test.ts asserts floors on these rates.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusDir, corpusFiles } from '../../tests/helpers/corpus.js';
import { parseMessage } from '../../server/mail/parse.js';
import { parseBounce, type BounceReport } from '../../server/delivery/bounce-parse.js';

const bouncesDir = path.join(corpusDir, 'bounces');

export interface Rate {
  ok: number;
  of: number;
}
const rate = (): Rate => ({ ok: 0, of: 0 });
const count = (r: Rate, ok: boolean) => {
  r.of++;
  if (ok) r.ok++;
};
export const pct = (r: Rate) => (r.of ? (100 * r.ok) / r.of : 100);

export interface BounceEval {
  sisimai: { recognised: Rate; recipient: Rate; recipientCount: Rate; statusClass: Rate; statusExact: Rate; hard: Rate; notBounce: Rate; lineEndings: Rate };
  flufl: { recognised: Rate; exact: Rate; recall: Rate };
  falsePositives: Rate;
  others: Record<string, Rate>;
  families: Array<{ family: string; missed: number; of: number; files: string[] }>;
  msPerMessage: number;
}

async function parseFile(file: string): Promise<BounceReport | null> {
  const raw = fs.readFileSync(file);
  const parsed = await parseMessage(raw).catch(() => null);
  return parsed ? parseBounce(parsed, raw) : parseBounce({ attachments: [], text: '' } as never, raw);
}

function tsv(file: string): Array<Record<string, string>> {
  const [head, ...rows] = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split('\t'));
  return rows.map((r) => Object.fromEntries(head!.map((h, i) => [h, r[i] ?? ''])));
}

const classOf = (rep: BounceReport, i: number): string | null => {
  const r = rep.recipients[i];
  const s = r?.status ?? (r?.code ? r.code[0] + '.0.0' : null);
  if (s) return s[0]!;
  return rep.kind === 'failed' ? '5' : rep.kind === 'delayed' ? '4' : rep.kind === 'delivered' ? '2' : null;
};

async function evalSisimai(e: BounceEval, parsedBsd: Map<string, BounceReport | null>): Promise<void> {
  const rows = tsv(path.join(bouncesDir, 'sisimai/EXPECTED-go-sisimai.tsv'));
  const fam = new Map<string, { missed: number; of: number; files: Set<string> }>();
  for (const row of rows) {
    const file = row.file!;
    if (!parsedBsd.has(file)) parsedBsd.set(file, await parseFile(path.join(bouncesDir, 'sisimai', file)));
    const rep = parsedBsd.get(file)!;
    if (row.reason === 'feedback' || row.reason === 'vacation') {
      count(e.sisimai.notBounce, rep === null);
      continue;
    }
    const i = Number(row.recipient_index) - 1;
    const family = path.basename(file).replace(/-\d+\.eml$/, '');
    const f = fam.get(family) ?? { missed: 0, of: 0, files: new Set<string>() };
    fam.set(family, f);
    f.of++;
    count(e.sisimai.recognised, rep !== null);
    const r = rep?.recipients[i];
    count(e.sisimai.recipient, !!r);
    if (!rep || !r) {
      f.missed++;
      f.files.add(path.basename(file));
    }
    if (!rep) continue;
    const expected = row.dsn_status ?? '';
    if (expected) count(e.sisimai.statusClass, classOf(rep, i) === expected[0]);
    if (expected && !/^\d\.0\.9\d\d$/.test(expected)) count(e.sisimai.statusExact, r?.status === expected);
    if (r) count(e.sisimai.hard, r.hard === (row.hardbounce === 'true'));
  }
  // no extra recipients: as many as sisimai lists for the file (a proxy for precision, the TSV has no addresses)
  const wanted = new Map<string, number>();
  for (const row of rows) if (row.reason !== 'feedback' && row.reason !== 'vacation') wanted.set(row.file!, Math.max(wanted.get(row.file!) ?? 0, Number(row.recipient_index)));
  for (const [file, n] of wanted) {
    const rep = parsedBsd.get(file);
    if (rep) count(e.sisimai.recipientCount, rep.recipients.length === n);
  }
  e.families = [...fam].map(([family, f]) => ({ family, missed: f.missed, of: f.of, files: [...f.files] })).filter((f) => f.missed).sort((a, b) => b.missed - a.missed || a.family.localeCompare(b.family));
  // CRLF and CR-only copies of bsd samples: recognised exactly when the LF original is.
  const expectedBounce = new Map<string, boolean>();
  for (const row of rows) expectedBounce.set(path.basename(row.file!), row.reason !== 'feedback' && row.reason !== 'vacation');
  for (const dir of ['dos', 'mac']) {
    for (const file of corpusFiles(`bounces/sisimai/maildir/${dir}`)) {
      const want = expectedBounce.get(path.basename(file));
      if (want === undefined) continue;
      count(e.sisimai.lineEndings, ((await parseFile(file)) !== null) === want);
    }
  }
}

async function evalFlufl(e: BounceEval): Promise<void> {
  const rows = tsv(path.join(bouncesDir, 'flufl-bounce/EXPECTED-flufl-bounce.tsv'));
  const expected = new Map<string, Set<string>>();
  for (const row of rows) {
    const set = expected.get(row.file!) ?? new Set<string>();
    for (const a of (row.expected_recipients ?? '').split(',').filter(Boolean)) set.add(a.toLowerCase());
    expected.set(row.file!, set);
  }
  for (const [file, want] of expected) {
    const rep = await parseFile(path.join(bouncesDir, 'flufl-bounce', file));
    count(e.flufl.recognised, rep !== null);
    const got = new Set(rep?.recipients.map((r) => r.address) ?? []);
    count(e.flufl.exact, got.size === want.size && [...want].every((a) => got.has(a)));
    for (const a of want) count(e.flufl.recall, got.has(a));
  }
}

/** Messages that are not bounces; whitelist.msg is excluded: it is a real Postfix DSN (5.0.0) despite its upstream label. */
const NEGATIVES = [
  (f: string) => f.includes('/sisimai/maildir/not/'),
  // auto-replies, challenge-response, and spam that upstream checks yields no report
  (f: string) => /perl-bounceparser\/t\/corpus\/(autoreply|aol-vacation|polish-autoreply|warning-6|bluebottle|boxbe-cr2?|spam-(bogus-email-in-report|lots-of-bogus-addresses|with-badly-parsed-email|with-image))\.msg$/.test(f),
  (f: string) => /perl-bounceparser\/xt\/corpus\/virus-caused-multiple-weird-reports\.msg$/.test(f),
  (f: string) => f.includes('/stalwart-mail-auth-reports/') && !f.endsWith('.json'),
  (f: string) => /deltachat\/(tlsrpt|ms_exchange_report_disposition_notification)\.eml$/.test(f),
  (f: string) => /mimekit\/(disposition-notification\.(txt|anonymized\.eml)|feedback-report\.txt)$/.test(f),
];
/** Neither: a read receipt quoting its original, and a report whose every letter was replaced by x. */
const SKIPPED = /ms_exchange_report_original_message\.eml$|mimekit\/delivery-status\.anonymized\.eml$/;

async function evalOthers(e: BounceEval): Promise<void> {
  const files = corpusFiles('bounces', (f) => !/\.(tsv|json|md|xml)$|LICENSE|COPYING|MIT\.txt$|Apache-2\.0\.txt$/i.test(path.basename(f)) && !SKIPPED.test(f));
  for (const file of files) {
    if (NEGATIVES.some((n) => n(file))) {
      count(e.falsePositives, (await parseFile(file)) !== null);
      continue;
    }
    const set = path.relative(bouncesDir, file).split(path.sep)[0]!;
    if (set === 'sisimai' || set === 'flufl-bounce' || set === 'stalwart-mail-auth-reports') continue;
    e.others[set] ??= rate();
    count(e.others[set]!, (await parseFile(file)) !== null);
  }
}

export async function evaluateBounces(): Promise<BounceEval> {
  const e: BounceEval = {
    sisimai: { recognised: rate(), recipient: rate(), recipientCount: rate(), statusClass: rate(), statusExact: rate(), hard: rate(), notBounce: rate(), lineEndings: rate() },
    flufl: { recognised: rate(), exact: rate(), recall: rate() },
    falsePositives: rate(),
    others: {},
    families: [],
    msPerMessage: 0,
  };
  const parsedBsd = new Map<string, BounceReport | null>();
  const t0 = performance.now();
  await evalSisimai(e, parsedBsd);
  const bsdMs = performance.now() - t0;
  e.msPerMessage = bsdMs / Math.max(1, parsedBsd.size);
  await evalFlufl(e);
  await evalOthers(e);
  return e;
}

export function describe(e: BounceEval, verbose = false): string[] {
  const line = (name: string, r: Rate) => `${name.padEnd(52)} ${pct(r).toFixed(1).padStart(5)}%  (${r.ok}/${r.of})`;
  const out = [
    'sisimai (EXPECTED-go-sisimai.tsv)',
    line('  recognised as a bounce', e.sisimai.recognised),
    line('  n-th recipient found', e.sisimai.recipient),
    line('  as many recipients as expected (recognised files)', e.sisimai.recipientCount),
    line('  status class (2/4/5) matches', e.sisimai.statusClass),
    line('  exact status (rows with a status from the message)', e.sisimai.statusExact),
    line('  hard/soft agrees (rows with a recipient)', e.sisimai.hard),
    line('  ARF and vacation rows answered null', e.sisimai.notBounce),
    line('  dos/ and mac/ copies judged like the LF sample', e.sisimai.lineEndings),
    'flufl-bounce (EXPECTED-flufl-bounce.tsv)',
    line('  recognised', e.flufl.recognised),
    line('  recipient set exactly right', e.flufl.exact),
    line('  expected recipients found', e.flufl.recall),
    'negatives (not bounces)',
    line('  false positives', e.falsePositives),
    'other bounce sets, recognised',
    ...Object.entries(e.others).map(([k, r]) => line(`  ${k}`, r)),
    `parse time: ${e.msPerMessage.toFixed(2)} ms per sisimai message (mailparser + parseBounce)`,
    'worst-missed sisimai families (rows not recognised or without the recipient):',
    ...e.families.slice(0, verbose ? 100 : 12).map((f) => `  ${f.family.padEnd(28)} ${f.missed}/${f.of}${verbose ? '  ' + f.files.join(' ') : ''}`),
  ];
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!fs.existsSync(bouncesDir)) {
    console.log(`corpus not found at ${bouncesDir} (set CALIOPEN_CORPUS)`);
    process.exit(0);
  }
  for (const l of describe(await evaluateBounces(), process.argv.includes('--verbose'))) console.log(l);
}
