import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openDb, closeDb, type Db } from '../../../server/store/db.js';
import { parseSearchQuery } from '../../../server/mail/search-query.js';
import { indexMessageText, removeFromIndex, searchMessages, searchDiscussions, startOfDay } from '../../../server/mail/search.js';

interface Fixture {
  key: string;
  user?: 'alice' | 'bob';
  from: [string, string | null];
  to: Array<[string, string | null]>;
  cc?: Array<[string, string | null]>;
  subject: string;
  body: string;
  attachments?: string[];
  date: string; // ISO
  read?: boolean;
  spam?: boolean;
  encrypted?: boolean;
  signed?: boolean;
  pi?: number | null;
  importance?: number;
  tags?: string[];
}

const FIXTURES: Fixture[] = [
  { key: 'cafe', from: ['ivan@flomke.test', 'Ivan Petrov'], to: [['alice@home.test', 'Alice']], subject: 'Café meeting',
    body: "Let's meet at the café tomorrow", date: '2023-06-15T10:00:00Z', read: true, pi: 30, importance: 5, tags: ['Family', 'INBOX'] },
  { key: 'invoice', from: ['berta70@jondquis.example', 'Berta Hélène'], to: [['alice@home.test', 'Alice']], cc: [['carol@x.test', 'Carol Ñandú']],
    subject: 'Invoice June', body: 'Please find the document attached', attachments: ['invoice-2023.pdf'],
    date: '2023-06-30T23:30:00Z', pi: 70, importance: 0, tags: ['Work', 'INBOX'] },
  { key: 'spam', from: ['bcosta@shackhope.example', 'Bruno Costa'], to: [['alice@home.test', null]], subject: 'Special offer',
    body: 'cheap pills for the café', date: '2023-07-01T08:00:00Z', spam: true, pi: 10, tags: ['SPAM'] },
  { key: 'reply', from: ['alice@home.test', 'Alice'], to: [['ivan@flomke.test', 'Ivan Petrov']], subject: 'Re: Café meeting',
    body: 'see you there', date: '2024-03-05T09:00:00Z', read: true, encrypted: true, signed: true, pi: 90, importance: -2, tags: ['Family', 'SENT'] },
  { key: 'news', from: ['news@list.example', 'Newsletter'], to: [['alice@home.test', 'Alice']], subject: 'Weekly news',
    body: 'gleckcio mack tomfe, and more: toumcoung. Also "NEAR" quotes', date: '2024-03-10T12:00:00Z', pi: null, importance: -5, tags: ['INBOX'] },
  { key: 'bob', user: 'bob', from: ['ivan@flomke.test', 'Ivan Petrov'], to: [['bob@home.test', 'Bob']], subject: 'Café for Bob',
    body: 'invoice café toumcoung', date: '2024-03-11T12:00:00Z', pi: 50, tags: ['Family'] },
];

let db: Db;
const ids = new Map<string, number>();
const users = new Map<string, number>();

async function insertFixture(f: Fixture): Promise<void> {
  const userId = users.get(f.user ?? 'alice')!;
  const date = Date.parse(f.date);
  const [discussionId] = await db('discussions').insert({ user_id: userId, key: 'p:' + f.key, subject: f.subject, first_message_at: date, last_message_at: date });
  const [id] = await db('messages').insert({
    user_id: userId, discussion_id: discussionId, blob_hash: 'h-' + f.key, size: 100, source: 'smtp', content_hash: 'c-' + f.key,
    subject: f.subject, from_address: f.from[0], from_name: f.from[1], excerpt: f.body.slice(0, 50), date, received_at: date,
    attachment_count: f.attachments?.length ?? 0, is_read: f.read ?? false, is_spam: f.spam ?? false, is_encrypted: f.encrypted ?? false,
    is_signed: f.signed ?? false, pi_score: f.pi ?? null, pi_letter: f.pi == null ? null : 'C', importance: f.importance ?? 0, created_at: date,
  });
  const parts = [['from', ...f.from], ...f.to.map((p) => ['to', ...p]), ...(f.cc ?? []).map((p) => ['cc', ...p])] as Array<[string, string, string | null]>;
  await db('participants').insert(parts.map(([role, address, name]) => ({ message_id: id, user_id: userId, role, address, name })));
  for (const name of f.tags ?? []) {
    let tag = await db('tags').where({ user_id: userId, name }).first('id');
    if (!tag) [tag] = (await db('tags').insert({ user_id: userId, name, created_at: 0 }).returning('id')) as Array<{ id: number }>;
    await db('message_tags').insert({ message_id: id, tag_id: tag!.id });
  }
  await indexMessageText(db, id!, {
    subject: f.subject, body: f.body, attachments: (f.attachments ?? []).join(' '),
    participants: parts.map(([, a, n]) => (n ? `${n} <${a}>` : a)).join(', '),
  });
  ids.set(f.key, id!);
}

t.before(async () => {
  db = await openDb(fs.mkdtempSync(path.join(os.tmpdir(), 'caliopen-search-')));
  for (const username of ['alice', 'bob']) {
    const [id] = await db('users').insert({ username, password_hash: 'x', created_at: 0 });
    users.set(username, id!);
  }
  for (const f of FIXTURES) await insertFixture(f);
});
t.teardown(() => closeDb(db));

async function keys(q: string, opts: Parameters<typeof searchMessages>[3] = {}): Promise<string[]> {
  const res = await searchMessages(db, users.get('alice')!, parseSearchQuery(q), opts);
  const byId = new Map([...ids].map(([k, v]) => [v, k]));
  return res.messages.map((m) => byId.get(m.id)!);
}

t.test('words and phrases over every indexed column, accents folded', async (t) => {
  t.same(await keys('cafe'), ['reply', 'cafe'], 'newest first; spam and the other user hidden');
  t.same(await keys('CAFÉ'), ['reply', 'cafe']);
  t.same(await keys('meeting cafe'), ['reply', 'cafe']);
  t.same(await keys('invoice'), ['invoice'], 'attachment name');
  t.same(await keys('invoice-2023'), ['invoice']);
  t.same(await keys('helene'), ['invoice'], 'participant name, folded');
  t.same(await keys('nandu'), ['invoice'], 'cc name');
  t.same(await keys('"gleckcio mack tomfe"'), ['news']);
  t.same(await keys('"tomfe mack"'), [], 'phrase order matters');
  t.same(await keys('toumcoung or duvys'), ['news']);
  t.same(await keys('cafe -meeting'), [], 'both cafe messages mention a meeting');
  t.same(await keys('cafe -tomorrow'), ['reply']);
  t.same(await keys('-cafe'), ['news', 'invoice'], 'a purely negative query');
  t.same(await keys('subject:meeting'), ['reply', 'cafe']);
  t.same(await keys('subject:tomorrow'), [], 'subject: does not look at bodies');
});

t.test('FTS syntax typed by the user is searched as text, never an error', async (t) => {
  for (const q of ['"foo" OR bar*', 'NEAR(a b)', 'near', '{subject}:x', 'subject:"a" OR "b"', 'a AND', '^cafe', 'x:y', '"', "'", '\\']) {
    try {
      await keys(q);
      t.pass(q);
    } catch (err) {
      t.ok((err as { code?: string }).code === 'invalid_search', `${q}: ${(err as Error).message}`);
    }
  }
  t.same(await keys('"NEAR"'), ['news']);
});

t.test('from: and to:', async (t) => {
  t.same(await keys('from:ivan@flomke.test'), ['cafe']);
  t.same(await keys('from:IVAN@flomke.test'), ['cafe']);
  t.same(await keys('from:ivan'), ['cafe'], 'fragment: the reply only has ivan as recipient');
  t.same(await keys('from:petrov'), ['cafe'], 'display name');
  t.same(await keys('from:helene'), ['invoice'], 'accent-folded display name');
  t.same(await keys('from:jondquis.example'), ['invoice'], 'domain fragment');
  t.same(await keys('from:nobody'), []);
  t.same(await keys('to:ivan@flomke.test'), ['reply']);
  t.same(await keys('to:ivan'), ['reply']);
  t.same(await keys('to:carol@x.test'), ['invoice'], 'cc counts as to');
  t.same(await keys('to:alice@home.test'), ['news', 'invoice', 'cafe']);
  t.same(await keys('-from:alice@home.test cafe'), ['cafe']);
});

t.test('tags and flags', async (t) => {
  t.same(await keys('tag:family'), ['reply', 'cafe'], 'case-insensitive, own tags only');
  t.same(await keys('tag:nosuchtag'), []);
  t.same(await keys('is:unread'), ['news', 'invoice']);
  t.same(await keys('tag:unread'), ['news', 'invoice']);
  t.same(await keys('is:read'), ['reply', 'cafe']);
  t.same(await keys('is:encrypted'), ['reply']);
  t.same(await keys('is:signed'), ['reply']);
  t.same(await keys('has:attachment'), ['invoice']);
  t.same(await keys('-has:attachment is:unread'), ['news']);
});

t.test('spam: hidden unless asked for', async (t) => {
  t.same(await keys('is:spam'), ['spam']);
  t.same(await keys('tag:spam'), ['spam']);
  t.same(await keys('cafe', { includeSpam: true }), ['reply', 'spam', 'cafe']);
  t.same(await keys('pills'), []);
});

t.test('pi, importance and dates', async (t) => {
  t.same(await keys('pi:<40'), ['cafe'], 'spam hidden, null PI never matches');
  t.same(await keys('pi:>=60'), ['reply', 'invoice']);
  t.same(await keys('pi:30..70'), ['invoice', 'cafe']);
  t.same(await keys('-pi:<40'), ['news', 'reply', 'invoice'], 'negation includes unknown PI');
  t.same(await keys('importance:>3'), ['cafe']);
  t.same(await keys('importance:<0'), ['news', 'reply']);
  t.same(await keys('date:2023-06-01..2023-06-30'), ['invoice', 'cafe'], 'inclusive last day');
  t.same(await keys('date:2023-06-15'), ['cafe']);
  t.same(await keys('date:2024-03-04..2024-03-10'), ['news', 'reply']);
  t.same(await keys('before:2023-06-30'), ['cafe'], 'before is exclusive');
  t.same(await keys('after:2024-03-10'), ['news'], 'after is inclusive');
  t.same(await keys('date:2023-06-30', { timeZone: 'Europe/Paris' }), [], '23:30 UTC is July 1st in Paris');
  t.same(await keys('date:2023-07-01', { timeZone: 'Europe/Paris' }), ['invoice']);
  t.same(await keys('subject:meeting and date:2024'), ['reply']);
  t.equal(startOfDay('2023-03-26', 'Europe/Paris'), Date.parse('2023-03-25T23:00:00Z'), 'DST day starts at CET midnight');
  t.equal(startOfDay('2023-07-01', 'America/New_York'), Date.parse('2023-07-01T04:00:00Z'));
  t.equal(startOfDay('2023-07-01', 'Mars/Olympus'), Date.parse('2023-07-01T00:00:00Z'), 'unknown zone: UTC');
});

t.test('boolean combinations', async (t) => {
  t.same(await keys('from:ivan@flomke.test or is:encrypted'), ['reply', 'cafe']);
  t.same(await keys('(tag:work or tag:family) -is:read'), ['invoice']);
  t.same(await keys('cafe or from:news@list.example'), ['news', 'reply', 'cafe']);
  t.same(await keys('tag:family and (cafe or toumcoung) and -from:alice@home.test'), ['cafe']);
});

t.test('paging and totals', async (t) => {
  const alice = users.get('alice')!;
  const all = await searchMessages(db, alice, parseSearchQuery('-nothinglikethis'), { limit: 2 });
  t.equal(all.total, 4);
  t.equal(all.totalCapped, false);
  t.equal(all.messages.length, 2);
  const second = await searchMessages(db, alice, parseSearchQuery('-nothinglikethis'), { limit: 2, offset: 2 });
  t.same(second.messages.map((m) => m.id), [ids.get('invoice'), ids.get('cafe')]);
  const hit = second.messages[1]!;
  t.match(hit, { subject: 'Café meeting', fromAddress: 'ivan@flomke.test', fromName: 'Ivan Petrov', piScore: 30, isRead: true, importance: 5, attachmentCount: 0 });
  t.equal(hit.date, Date.parse('2023-06-15T10:00:00Z'));
});

t.test('discussions group the hits', async (t) => {
  const res = await searchDiscussions(db, users.get('alice')!, parseSearchQuery('cafe'));
  t.equal(res.total, 2);
  t.same(res.discussions.map((d) => d.subject), ['Re: Café meeting', 'Café meeting']);
  t.same(res.discussions.map((d) => d.hitCount), [1, 1]);
  const empty = await searchDiscussions(db, users.get('alice')!, parseSearchQuery('cafe'), { offset: 10 });
  t.same(empty.discussions, []);
  t.equal(empty.total, 2, 'totals survive a page past the end');
});

t.test('index maintenance', async (t) => {
  const id = ids.get('news')!;
  await indexMessageText(db, id, { subject: 'Weekly news', body: 'replaced body', participants: '', attachments: '' }, { replace: true });
  t.same(await keys('toumcoung'), [], 're-indexing replaces the old text');
  t.same(await keys('replaced'), ['news']);
  await removeFromIndex(db, id);
  t.same(await keys('replaced'), []);
});
