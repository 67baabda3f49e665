import t from 'tap';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { detectMailboxFormat, readMaildir, readMbox, type MailboxReadOptions } from '../../../server/mail/mailbox-readers.js';
import { corpusDir, needsCorpus } from '../../helpers/corpus.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'caliopen-readers-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function writeTmp(content: string | Buffer): string {
  const file = path.join(tmp, `box-${n++}.mbox`);
  fs.writeFileSync(file, content);
  return file;
}

async function mboxOf(file: string, options?: MailboxReadOptions): Promise<string[]> {
  const out: string[] = [];
  for await (const m of readMbox(file, options)) out.push(m.toString('latin1'));
  return out;
}

const LF_MBOX = [
  'From alice@example.test Mon Jan  1 00:00:00 2024',
  'Subject: one',
  '',
  'Hello',
  '>From the start of a line, escaped',
  '>>From twice escaped',
  '>Fromage is not an escape',
  '',
  'From bob@example.test Tue Jan  2 00:00:00 2024',
  'Subject: two',
  '',
  'Body two',
  'From there we went home (not after a blank line: still body)',
  '',
  'From carol@example.test Wed, 3 Jan 2024 00:00:00 +0000', // not an asctime date: the blank line decides
  '',
  '',
  'From dave@example.test Thu, 4 Jan 2024 00:00:00 +0000',
  'Subject: four',
  '',
  'last',
  '',
].join('\n');

const EXPECTED = [
  'Subject: one\n\nHello\nFrom the start of a line, escaped\n>From twice escaped\n>Fromage is not an escape\n',
  'Subject: two\n\nBody two\nFrom there we went home (not after a blank line: still body)\n',
  'Subject: four\n\nlast\n',
];

t.test('mbox: From_ lines stripped, >From unescaped, separator blank lines and empty messages dropped', async (t) => {
  t.same(await mboxOf(writeTmp(LF_MBOX)), EXPECTED);
});

t.test('mbox: the same messages whatever the chunk boundaries (incl. inside "\\nFrom ")', async (t) => {
  const file = writeTmp(LF_MBOX);
  const cut = LF_MBOX.indexOf('\nFrom bob') + 3; // a chunk boundary right inside "\nFrom "
  t.same(await mboxOf(file, { chunkSize: cut }), EXPECTED, `chunk ${cut}`);
  for (let size = 1; size <= 64; size++) {
    const got = await mboxOf(file, { chunkSize: size });
    if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) t.fail(`chunkSize ${size} differs`, { got });
  }
  t.pass('chunk sizes 1..64 agree');
});

t.test('mbox: CRLF and CR-only files keep their line endings', async (t) => {
  for (const [name, eol] of [['CRLF', '\r\n'], ['CR', '\r']] as const) {
    const file = writeTmp(LF_MBOX.replace(/\n/g, eol));
    const want = EXPECTED.map((m) => m.replace(/\n/g, eol));
    t.same(await mboxOf(file), want, name);
    for (const size of [1, 2, 3, 5, 7, 13]) t.same(await mboxOf(file, { chunkSize: size }), want, `${name} chunk ${size}`);
  }
});

t.test('mbox: Netscape "From - " separators without a blank line; BOM; preamble without From_', async (t) => {
  const netscape = '\ufeffFrom - Mon Jun  3 12:50:27 1996\nSubject: a\n\nx\nFrom - \nSubject: b\n\ny\n';
  t.same(await mboxOf(writeTmp(Buffer.from(netscape, 'utf8'))), ['Subject: a\n\nx\n', 'Subject: b\n\ny\n']);
  t.same(await mboxOf(writeTmp('Subject: lone\n\nno From_ line\n')), ['Subject: lone\n\nno From_ line\n'], 'content is never dropped');
  t.same(await mboxOf(writeTmp('')), [], 'empty file');
  t.same(await mboxOf(writeTmp('\n\nFrom x Mon Jan  1 00:00:00 2024\n\n\n')), [], 'only blank lines');
});

t.test('mbox: a line longer than a chunk and far longer than the line buffer stays whole', async (t) => {
  const long = 'A'.repeat(300_000);
  const file = writeTmp(`From a Mon Jan  1 00:00:00 2024\nSubject: long\n\n${long}\r\n>From x\n\nFrom b Mon Jan  1 00:00:00 2024\nSubject: next\n\nok\n`);
  for (const size of [1000, 65_536, 1 << 20]) {
    const got = await mboxOf(file, { chunkSize: size });
    t.equal(got.length, 2, `chunk ${size}`);
    t.equal(got[0], `Subject: long\n\n${long}\r\nFrom x\n`);
    t.equal(got[1], 'Subject: next\n\nok\n');
  }
});

t.test('mbox: a message over maxMessageBytes is skipped and reported, the others are kept', async (t) => {
  const big = 'B'.repeat(5000);
  const file = writeTmp(`From a\nSubject: small\n\n1\n\nFrom b\nSubject: big\n\n${big}\n\nFrom c\nSubject: after\n\n3\n`);
  const skipped: Array<{ bytes: number; where: string }> = [];
  const got = await mboxOf(file, { maxMessageBytes: 1000, chunkSize: 256, onSkip: (s) => skipped.push(s) });
  t.same(got, ['Subject: small\n\n1\n', 'Subject: after\n\n3\n']);
  t.equal(skipped.length, 1);
  t.ok(skipped[0]!.bytes > 5000);
  t.match(skipped[0]!.where, /#1$/);
});

t.test('mbox: streams (a message is yielded before the file ends)', { skip: process.platform === 'win32' && 'no mkfifo' }, async (t) => {
  const fifo = path.join(tmp, 'pipe.mbox');
  execFileSync('mkfifo', [fifo]);
  const writer = fs.createWriteStream(fifo);
  writer.write('From a Mon Jan  1 00:00:00 2024\nSubject: first\n\nhi\n\nFrom b Mon Jan  1 00:00:00 2024\n');
  const it = readMbox(fifo)[Symbol.asyncIterator]();
  const timer = setTimeout(() => writer.destroy(), 10_000); // never hang the suite
  const first = await it.next();
  t.equal(first.value?.toString(), 'Subject: first\n\nhi\n', 'yielded while the writer is still open');
  writer.end('Subject: second\n\nbye\n');
  const second = await it.next();
  t.equal(second.value?.toString(), 'Subject: second\n\nbye\n');
  t.ok((await it.next()).done);
  clearTimeout(timer);
});

function put(file: string, body = 'Subject: x\n\nbody\n'): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body);
}

t.test('maildir: INBOX, Maildir++ folders, nested folders, flags', async (t) => {
  const root = path.join(tmp, 'Maildir');
  for (const d of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(root, d), { recursive: true });
  put(path.join(root, 'cur', '1700000001.M1P1.host:2,FRS'), 'Subject: seen flagged replied\n\n');
  put(path.join(root, 'cur', '1700000002.M2P1.host_2,DT'), 'Subject: draft trashed (copied name)\n\n');
  put(path.join(root, 'cur', '1700000003.M3P1.host:2,'));
  put(path.join(root, 'cur', '.hidden'));
  put(path.join(root, 'new', '1700000004.M4P1.host'));
  put(path.join(root, 'new', '1700000005.M5P1.host:2,S')); // new/ is unseen whatever its name says
  put(path.join(root, 'tmp', '1700000006.M6P1.host')); // delivery in progress: not a message yet
  put(path.join(root, 'dovecot-uidlist'), '3 V1 N1\n');
  put(path.join(root, '.Work.Projects', 'cur', '1700000007.M7P1.host:2,S'));
  put(path.join(root, '.Work', 'new', '1700000008.M8P1.host'));
  put(path.join(root, '.&AOk-t&AOk-', 'cur', '1700000009.M9P1.host:2,'));
  put(path.join(root, 'Lists', 'Dev', 'cur', '1700000010.M10P1.host:2,R'));

  const got: Array<[string, string, string]> = [];
  for await (const m of readMaildir(root)) {
    const f = m.flags;
    const flags = `${f.seen ? 'S' : ''}${f.flagged ? 'F' : ''}${f.replied ? 'R' : ''}${f.draft ? 'D' : ''}${f.trashed ? 'T' : ''}`;
    got.push([m.folder, path.basename(m.file).split('.')[0]!, flags]);
    t.ok(m.raw.toString().startsWith('Subject: '), 'raw bytes read');
  }
  t.same(got, [
    ['INBOX', '1700000001', 'SFR'],
    ['INBOX', '1700000002', 'DT'],
    ['INBOX', '1700000003', ''],
    ['INBOX', '1700000004', ''],
    ['INBOX', '1700000005', ''],
    ['été', '1700000009', ''],
    ['Work', '1700000008', ''],
    ['Work/Projects', '1700000007', 'S'],
    ['Lists/Dev', '1700000010', 'R'],
  ]);
});

t.test('maildir: oversize files skipped and reported; a file is no Maildir', async (t) => {
  const root = path.join(tmp, 'Maildir2');
  put(path.join(root, 'cur', 'a:2,S'), 'Subject: a\n\n' + 'x'.repeat(2000));
  put(path.join(root, 'cur', 'b:2,S'), 'Subject: b\n\n');
  const skipped: string[] = [];
  const got: string[] = [];
  for await (const m of readMaildir(root, { maxMessageBytes: 1000, onSkip: (s) => skipped.push(s.where) })) got.push(path.basename(m.file));
  t.same(got, ['b:2,S']);
  t.same(skipped.map((f) => path.basename(f)), ['a:2,S']);
  await t.rejects(async () => {
    for await (const _ of readMaildir(writeTmp('From a\n'))) void _;
  }, { code: 'bad_request' });
});

t.test('detectMailboxFormat', async (t) => {
  t.equal(detectMailboxFormat(tmp), 'maildir');
  t.equal(detectMailboxFormat(writeTmp(LF_MBOX)), 'mbox');
  t.equal(detectMailboxFormat(writeTmp('\r\nFrom a\r\n')), 'mbox');
  t.equal(detectMailboxFormat(writeTmp('')), 'mbox');
  t.throws(() => detectMailboxFormat(writeTmp('Subject: not an mbox\n\n')), { code: 'bad_request' });
  t.throws(() => detectMailboxFormat(path.join(tmp, 'missing')), { code: 'bad_request' });
});

t.test('corpus: message counts of real mboxes and the notmuch maildir (SOURCES.md)', needsCorpus(), async (t) => {
  const header = /^[\x21-\x39\x3b-\x7e]+:/; // every message starts with a header field, never a From_ line
  for (const [rel, count] of [
    ['inbound/mimekit/mbox/content-length.mbox.txt', 29], // Netscape From_ lines, no blank line before some
    ['spam/bogofilter/spam.mbx', 21],
    ['ham/bogofilter/good.mbx', 48],
    ['bounces/sisimai/mailbox/mbox-0', 37],
  ] as const) {
    const msgs = await mboxOf(path.join(corpusDir, rel));
    t.equal(msgs.length, count, rel);
    t.ok(msgs.every((m) => header.test(m)), `${rel}: every message starts with a header`);
  }
  // SOURCES.md's 261 for notmuch counts every message file; 40 of them lie outside cur/ and new/
  // (notmuch indexes those too, a Maildir reader must not), which leaves 221 in 7 folders.
  const folders: Record<string, number> = {};
  let inNew = 0;
  for await (const m of readMaildir(path.join(corpusDir, 'inbound/notmuch'))) {
    folders[m.folder] = (folders[m.folder] ?? 0) + 1;
    if (path.basename(path.dirname(m.file)) === 'new') {
      inNew++;
      t.notOk(m.flags.seen, `${m.file} is unseen`);
    }
  }
  t.same(folders, {
    default: 25,
    'default/bar': 4,
    'default/bar/baz': 4,
    'default/foo': 5,
    'default/foo/baz': 4,
    lkml: 176,
    'threading/parent-priority': 3,
  });
  t.equal(inNew, 10, 'messages in new/');
});
