/**
 * The planner (driver sets, date windows, id ranges, capped counts) checked against a plain
 * in-memory evaluation of the same queries, on a random mailbox whose ids are not in date order
 * and whose dates often tie. The work bounds are shrunk so that every path runs on 1,500 messages.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Knex } from 'knex';
import { openDb, closeDb, type Db } from '../../../server/store/db.js';
import { parseSearchQuery, foldText, type SearchNode } from '../../../server/mail/search-query.js';
import { indexMessageText, searchMessages, searchDiscussions, searchTuning } from '../../../server/mail/search.js';

interface Msg {
  id: number; user: number; date: number; from: string; fromName: string; to: string[]; cc: string[];
  subject: string[]; body: string[]; attachments: string[]; read: boolean; spam: boolean; encrypted: boolean;
  signed: boolean; pi: number | null; importance: number; tags: string[]; discussion: number;
}

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(42);
const pick = <T>(xs: T[], skew = 1): T => xs[Math.floor(xs.length * rand() ** skew)]!;
const WORDS = Array.from({ length: 40 }, (_, i) => `w${i}k`);
const SENDERS = Array.from({ length: 12 }, (_, i) => `s${i}@ex.test`);
const CCS = Array.from({ length: 6 }, (_, i) => `c${i}@ex.test`);
const TAGS = ['T0', 'T1', 'T2', 'T3'];
const BASE = Date.UTC(2023, 0, 1);

function makeMessage(user: number): Omit<Msg, 'id' | 'discussion'> {
  const spam = rand() < 0.05;
  return {
    user, date: BASE + Math.floor(rand() * 2000) * 6 * 3600_000, from: pick(SENDERS, 2), fromName: `Sender ${Math.floor(rand() * 3)}`,
    to: ['alice@home.test'], cc: rand() < 0.3 ? [pick(CCS)] : [], subject: [0, 1, 2].map(() => pick(WORDS, 2)),
    body: Array.from({ length: 12 }, () => pick(WORDS, 2.5)), attachments: rand() < 0.2 ? [`file${Math.floor(rand() * 5)}.pdf`] : [],
    read: rand() < 0.7, spam, encrypted: rand() < 0.1, signed: rand() < 0.15, pi: rand() < 0.1 ? null : Math.floor(rand() * 101),
    importance: Math.floor(rand() * 21) - 10, tags: [...TAGS.filter(() => rand() < 0.3), ...(spam ? ['SPAM'] : [])],
  };
}

let db: Db;
const all: Msg[] = [];

async function insert(db: Knex, m: Omit<Msg, 'id' | 'discussion'>, tagIds: Map<string, number>): Promise<void> {
  const discussion = SENDERS.indexOf(m.from) + 1 + (m.user - 1) * 100;
  const [id] = await db('messages').insert({
    user_id: m.user, discussion_id: discussion, blob_hash: 'h', size: 1, source: 'smtp', content_hash: `c${all.length}`,
    subject: m.subject.join(' '), from_address: m.from, from_name: m.fromName, date: m.date, received_at: m.date,
    attachment_count: m.attachments.length, is_read: m.read, is_spam: m.spam, is_encrypted: m.encrypted, is_signed: m.signed,
    pi_score: m.pi, importance: m.importance, created_at: 0,
  });
  const parts = [['from', m.from, m.fromName], ...m.to.map((a) => ['to', a, null]), ...m.cc.map((a) => ['cc', a, null])] as Array<[string, string, string | null]>;
  await db('participants').insert(parts.map(([role, address, name]) => ({ message_id: id, user_id: m.user, role, address, name })));
  for (const tag of m.tags) await db('message_tags').insert({ message_id: id, tag_id: tagIds.get(`${m.user}:${tag}`) });
  await indexMessageText(db, id!, {
    subject: m.subject.join(' '), body: m.body.join(' '), attachments: m.attachments.join(' '),
    participants: parts.map(([, a, n]) => (n ? `${n} <${a}>` : a)).join(', '),
  });
  all.push({ ...m, id: id!, discussion });
}

t.before(async () => {
  db = await openDb(fs.mkdtempSync(path.join(os.tmpdir(), 'caliopen-search-plan-')));
  const tagIds = new Map<string, number>();
  for (const user of [1, 2]) {
    await db('users').insert({ id: user, username: `u${user}`, password_hash: 'x', created_at: 0 });
    for (const name of [...TAGS, 'SPAM']) {
      const [id] = await db('tags').insert({ user_id: user, name, created_at: 0 });
      tagIds.set(`${user}:${name}`, id!);
    }
    for (let d = 1; d <= SENDERS.length; d++) {
      await db('discussions').insert({ id: d + (user - 1) * 100, user_id: user, key: `k${d}`, subject: `D${d}`, first_message_at: 0, last_message_at: 0 });
    }
  }
  const pending = [...Array.from({ length: 1500 }, () => makeMessage(1)), ...Array.from({ length: 300 }, () => makeMessage(2))];
  // Shuffled: ids come in an order unrelated to dates.
  await db.transaction(async (trx) => {
    for (const m of pending.sort(() => rand() - 0.5)) await insert(trx, m, tagIds);
  });
  Object.assign(searchTuning, { totalCap: 60, probeMax: 150, textProbeMax: 100, driverMax: 25, firstWindow: 40 });
});
t.teardown(() => closeDb(db));

const tokens = (s: string): string[] => foldText(s).split(/[^\p{L}\p{N}]+/u).filter(Boolean);

function hasPhrase(hay: string[], text: string): boolean {
  const needle = tokens(text);
  return hay.some((_, i) => needle.every((w, j) => hay[i + j] === w));
}

function matches(n: SearchNode, m: Msg): boolean {
  switch (n.kind) {
    case 'and': return n.children.every((c) => matches(c, m));
    case 'or': return n.children.some((c) => matches(c, m));
    case 'not': return !matches(n.child, m);
    case 'text': {
      const cols = n.field === 'subject' ? [m.subject.join(' ')]
        : [m.subject.join(' '), m.body.join(' '), m.attachments.join(' '), [m.fromName, m.from, ...m.to, ...m.cc].join(' ')];
      return cols.some((c) => hasPhrase(tokens(c), n.text));
    }
    case 'from': return n.value.includes('@') ? m.from === n.value : m.from.includes(n.value);
    case 'to': return [...m.to, ...m.cc].includes(n.value);
    case 'tag': return m.tags.some((x) => x.toLowerCase() === n.name.toLowerCase());
    case 'flag': return { unread: !m.read, read: m.read, encrypted: m.encrypted, signed: m.signed, spam: m.spam, attachment: m.attachments.length > 0 }[n.flag];
    case 'range': {
      const v = n.field === 'pi' ? m.pi : m.importance;
      return v !== null && (n.min === undefined || v >= n.min) && (n.max === undefined || v <= n.max);
    }
    case 'date': return (!n.after || m.date >= Date.parse(n.after)) && (!n.before || m.date < Date.parse(n.before));
  }
}

function expected(q: string, includeSpam = false): Msg[] {
  const query = parseSearchQuery(q);
  return all.filter((m) => m.user === 1 && (includeSpam || query.includesSpam || !m.spam) && matches(query.root, m))
    .sort((a, b) => b.date - a.date || b.id - a.id);
}

const QUERIES = [
  'w0k', 'w1k', 'w7k', 'w25k', 'w39k', 'w0k w1k', 'w2k w30k', 'w0k or w33k', 'w31k or w32k', 'w0k -w1k', 'w1k -w0k', '-w0k', '-w38k',
  '"w0k w1k"', 'subject:w0k', 'subject:w20k', 'file3', 'pdf', 'from:s0@ex.test', 'from:s11@ex.test', 'from:s1', '-from:s0@ex.test',
  'to:c2@ex.test', 'to:alice@home.test w5k', 'tag:T1', 'tag:t2 -w0k', 'tag:T0 tag:T3', 'is:unread', 'is:unread from:s0@ex.test',
  'has:attachment w0k', 'is:encrypted', 'is:signed -is:encrypted', 'pi:<30', 'pi:40..60 w1k', 'importance:>5', 'importance:<-8 w0k',
  'date:2023-03-01..2023-06-30', 'date:2023', 'w0k date:2023-02', 'w30k after:2023-09-01', 'before:2023-02-01', 'w0k from:s0@ex.test',
  'w20k from:s3@ex.test', '(w0k or from:s2@ex.test) is:unread', 'w0k (tag:T1 or is:signed)', 'is:spam', 'w0k is:spam', 'tag:spam w1k',
  'from:s0@ex.test date:2023-01-01..2023-12-31 w2k', 'w0k w1k w2k w3k', 'nosuchword', 'from:nobody@ex.test w0k',
];

t.test('every query agrees with a plain evaluation, on every page', async (t) => {
  for (const q of QUERIES) {
    const want = expected(q);
    for (const offset of [0, 10, 45]) {
      const res = await searchMessages(db, 1, parseSearchQuery(q), { limit: 10, offset });
      t.same(res.messages.map((m) => m.id), want.slice(offset, offset + 10).map((m) => m.id), `${q} @${offset}`);
      t.equal(res.totalCapped, want.length > 60, `${q} @${offset}: capped`);
      t.equal(res.total, Math.min(want.length, 60), `${q} @${offset}: total`);
    }
  }
});

t.test('includeSpam', async (t) => {
  for (const q of ['w0k', 'w39k', 'from:s0@ex.test']) {
    const res = await searchMessages(db, 1, parseSearchQuery(q), { limit: 20, includeSpam: true });
    t.same(res.messages.map((m) => m.id), expected(q, true).slice(0, 20).map((m) => m.id), q);
  }
});

t.test('discussions group the newest capped hits', async (t) => {
  for (const q of ['w39k', 'w25k', 'from:s1']) {
    const hits = expected(q).slice(0, 60);
    const groups = new Map<number, number>();
    for (const m of hits) groups.set(m.discussion, (groups.get(m.discussion) ?? 0) + 1);
    const res = await searchDiscussions(db, 1, parseSearchQuery(q), { limit: 50 });
    t.same(res.discussions.map((d) => [d.discussionId, d.hitCount]), [...groups], q);
  }
});
