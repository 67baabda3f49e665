/**
 * The web bench's box: one user (alice) with ≥ N discussions, imported once through the product's
 * own ingest (`caliopen import maildir`) and cached under /tmp/caliopen-bench/web-box-N/ (a
 * `.complete` marker says the import finished). Each run copies the cached data dir, so every
 * run starts from the same fresh box (the runs themselves add a device and sessions).
 *
 * Why not gen_mail.py: Caliopen files mail by participant set, and gen_mail's 400 senders give
 * ~21,000 discussions for 100,000 messages, so 10,000 discussions would take a ~50,000-message
 * import (5–8 min here). This Maildir has one correspondent per discussion instead: N participant
 * discussions of 1–6 messages (a third of the threads with alice's own replies), three mailing lists
 * of 100 messages (the timeline's most expensive rows: many messages and tags), some HTML parts and
 * attachments, 10 % unread, 3 % flagged (IMPORTANT), 10 % filed in a `.Projects` folder (a user tag).
 * Deterministic (seeded PRNG): every run measures the same mailbox.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openDb, closeDb } from '../../server/store/db.js';
import { caliopenBin } from '../../tests/helpers/cli.js';
import { runTimed, tempDir } from '../lib/common.js';
import { ADMIN, DOMAIN, applianceEnv, setupBox } from '../lib/appliance.js';

const CACHE = '/tmp/caliopen-bench';
const END = Date.UTC(2026, 9, 1); // the newest discussion; the others spread over two years before
const SPAN = 2 * 365 * 86_400_000;
const LISTS = 3;
const LIST_MESSAGES = 100;
const WORDS = (
  'meeting budget garden invoice holiday train museum bicycle river concert draft review harbour ' +
  'letter market kitchen school lantern orchard printer ticket winter summer project village report ' +
  'paper window station bakery library festival planning contract delivery photo recipe weekend ' +
  'question answer coffee schedule machine theatre island forest bridge carpet doctor shelter'
).split(' ');
const FIRST = 'Ada Bruno Chloé Dmitri Elena Farid Greta Hugo Inès Jonas Kenji Léa Marta Nadia Omar Paula Quentin Rosa Samir Tove'.split(' ');
const LAST = 'Martin Bernard Dubois Lambert Moreau Fontaine Rossi Novak Silva Keller Haddad Okafor Larsen Costa Meyer'.split(' ');

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Mail {
  from: string;
  to: string;
  subject: string;
  date: number;
  id: string;
  inReplyTo?: string;
  listId?: string;
  html: boolean;
  attachment: boolean;
  body: string;
}

function render(m: Mail): string {
  const head = [
    `From: ${m.from}`,
    `To: ${m.to}`,
    `Subject: ${m.subject}`,
    `Date: ${new Date(m.date).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${m.id}>`,
    ...(m.inReplyTo ? [`In-Reply-To: <${m.inReplyTo}>`, `References: <${m.inReplyTo}>`] : []),
    ...(m.listId ? [`List-Id: <${m.listId}>`] : []),
    'MIME-Version: 1.0',
  ];
  const text = ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', m.body];
  if (!m.html && !m.attachment) return [...head, ...text, ''].join('\r\n');
  const b = `b-${m.id.replace(/[^a-z0-9]/gi, '')}`;
  const second = m.attachment
    ? ['Content-Type: application/pdf; name="notes.pdf"', 'Content-Disposition: attachment; filename="notes.pdf"', 'Content-Transfer-Encoding: base64', '', Buffer.from(m.body.repeat(3)).toString('base64').replace(/.{76}/g, '$&\r\n')]
    : ['Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', `<html><body><p>${m.body.split('\n').join('</p><p>')}</p></body></html>`];
  const type = m.attachment ? 'multipart/mixed' : 'multipart/alternative';
  return [...head, `Content-Type: ${type}; boundary="${b}"`, '', `--${b}`, ...text, `--${b}`, ...second, `--${b}--`, ''].join('\r\n');
}

/** Writes the Maildir; returns how many messages. */
export function writeMaildir(dir: string, discussions: number): number {
  const rand = prng(4242);
  const pick = <T>(a: T[]): T => a[Math.floor(rand() * a.length)]!;
  const words = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
  for (const sub of ['cur', 'new', 'tmp', '.Projects/cur', '.Projects/new', '.Projects/tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  const me = `Alice <${ADMIN.address}>`;
  let count = 0;
  const write = (m: Mail, folder: string) => {
    const r = rand();
    const flags = r < 0.1 ? '' : r < 0.13 ? 'FS' : 'S';
    fs.writeFileSync(path.join(dir, folder, 'cur', `${Math.floor(m.date / 1000)}.web${count++}.bench:2,${flags}`), render(m));
  };
  for (let d = 0; d < discussions; d++) {
    const name = `${pick(FIRST)} ${pick(LAST)}`;
    const them = `${name} <${name.toLowerCase().replace(/[^a-z]+/g, '.')}.${d}@${`org${d % 97}`}.example>`;
    const r = rand();
    const size = r < 0.7 ? 1 : r < 0.88 ? 2 : 3 + Math.floor(rand() * 4);
    const last = END - Math.floor(rand() * SPAN);
    const subject = words(3 + Math.floor(rand() * 4));
    const folder = rand() < 0.1 ? '.Projects' : '';
    let prev: string | undefined;
    for (let i = 0; i < size; i++) {
      const mine = i % 2 === 1; // alice answers every other message
      const id = `web-${d}-${i}@${mine ? DOMAIN : 'bench.example'}`;
      write({ from: mine ? me : them, to: mine ? them : me, subject: (i ? 'Re: ' : '') + subject, date: last - (size - 1 - i) * 3_600_000, id, inReplyTo: prev,
        html: rand() < 0.3, attachment: rand() < 0.05, body: Array.from({ length: 3 + Math.floor(rand() * 8) }, () => words(8 + Math.floor(rand() * 8))).join('\n') }, folder);
      prev = id;
    }
  }
  for (let l = 0; l < LISTS; l++) {
    for (let i = 0; i < LIST_MESSAGES; i++) {
      const sender = `member${Math.floor(rand() * 40)}@list${l}.example`;
      write({ from: sender, to: `list${l}@lists.example`, subject: `[list${l}] ${words(4)}`, date: END - Math.floor(rand() * SPAN / 4), id: `list-${l}-${i}@lists.example`,
        listId: `list${l}.lists.example`, html: false, attachment: false, body: words(60) }, '');
    }
  }
  return count;
}

export interface Box {
  dataDir: string;
  messages: number;
  discussions: number;
  /** seconds the import took when this run made the box, null when it came from the cache */
  importSeconds: number | null;
  importLine: string;
}

async function countRows(dataDir: string): Promise<{ messages: number; discussions: number }> {
  const db = await openDb(dataDir);
  try {
    const n = async (table: string) => Number(((await db(table).count({ n: '*' }).first()) as { n: number }).n);
    return { messages: await n('messages'), discussions: await n('discussions') };
  } finally {
    await closeDb(db);
  }
}

/** The cached box for N discussions, made (generated + imported) when missing or half-made. */
export async function cachedBox(discussions: number, resolver: string): Promise<Box> {
  const base = path.join(CACHE, `web-box-${discussions}`);
  const dataDir = path.join(base, 'data');
  const marker = path.join(base, '.complete');
  if (fs.existsSync(marker)) {
    const done = JSON.parse(fs.readFileSync(marker, 'utf8')) as { importLine: string };
    return { dataDir, ...(await countRows(dataDir)), importSeconds: null, importLine: done.importLine };
  }
  fs.rmSync(base, { recursive: true, force: true }); // a half-made one from an interrupted run
  fs.mkdirSync(dataDir, { recursive: true });
  const maildir = path.join(tempDir('caliopen-bench-web-maildir-'), 'Maildir');
  const written = writeMaildir(maildir, discussions);
  const env = applianceEnv(dataDir, resolver);
  await setupBox(env);
  process.stderr.write(`importing ${written} messages (once; cached in ${base}): caliopen import maildir … --user ${ADMIN.username}\n`);
  const r = await runTimed(process.execPath, [caliopenBin, 'import', 'maildir', maildir, '--user', ADMIN.username], 120_000 + written * 100, { env: { ...process.env, ...env }, cwd: dataDir });
  if (r.code !== 0) throw new Error(`caliopen import failed (${r.code}):\n${r.output.slice(-3000)}`);
  const importLine = r.output.trim().split('\n').pop() ?? '';
  const rows = await countRows(dataDir);
  if (rows.discussions < discussions) throw new Error(`the box has ${rows.discussions} discussions, wanted ≥ ${discussions} (${importLine})`);
  fs.writeFileSync(marker, JSON.stringify({ importLine, seconds: r.ms / 1000, written, ...rows }));
  return { dataDir, ...rows, importSeconds: r.ms / 1000, importLine };
}
