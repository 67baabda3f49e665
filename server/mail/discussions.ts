/**
 * Discussions group messages by the set of participants (Caliopen's signature idea): the same
 * people, whatever the subject, are one conversation. Addresses that belong to one contact count
 * as that contact. Mailing-list mail groups by List-ID instead.
 */
import type { Knex } from 'knex';
import { sha256 } from '../store/blobs.js';
import type { AddressEntry } from './parse.js';
import { piLetter } from '../privacy/index.js';

/**
 * A member is an address, or for an address of a contact, the contact's first address: so a
 * discussion keeps its key when its people become contacts, and a contact's addresses merge.
 */
export function discussionKey(
  participants: AddressEntry[],
  ownAddresses: Set<string>,
  canonicalOf: Map<string, { canonical: string }>,
  listId: string | null,
): string {
  if (listId) return `l:${listId}`;
  const members = new Set<string>();
  for (const p of participants) {
    if (p.role === 'reply_to' || ownAddresses.has(p.address)) continue;
    members.add(canonicalOf.get(p.address)?.canonical ?? p.address);
  }
  if (members.size === 0) members.add('self'); // notes to self
  // Hash so that a 500-recipient message still has a short, indexable key.
  return 'p:' + sha256([...members].sort().join('\n')).slice(0, 40);
}

export interface DiscussionSeed {
  userId: number;
  key: string;
  listId: string | null;
  subject: string;
  at: number;
}

/** Rows per multi-row statement: well under SQLite's bound-variable limit. */
const CHUNK = 400;

/**
 * Creates the discussions of these seeds that do not exist yet, in one statement per 400, and
 * returns every seed's id by `${userId}:${key}`. A discussion another process created meanwhile
 * (the unique key) is looked up instead of failing the batch.
 */
export async function createDiscussions(trx: Knex.Transaction, seeds: DiscussionSeed[]): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const keyOf = (userId: number, key: string) => `${userId}:${key}`;
  for (let i = 0; i < seeds.length; i += CHUNK) {
    const chunk = seeds.slice(i, i + CHUNK);
    const rows = (await trx.raw(
      `INSERT INTO discussions (user_id, key, list_id, subject, first_message_at, last_message_at)
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}
       ON CONFLICT (user_id, key) DO NOTHING RETURNING id, user_id, key`,
      chunk.flatMap((d) => [d.userId, d.key, d.listId, d.subject.slice(0, 500), d.at, d.at]),
    )) as Array<{ id: number; user_id: number; key: string }>;
    for (const r of rows) ids.set(keyOf(r.user_id, r.key), r.id);
    const raced = chunk.filter((d) => !ids.has(keyOf(d.userId, d.key)));
    if (!raced.length) continue;
    const found = (await trx.raw(
      `SELECT id, user_id, key FROM discussions WHERE (user_id, key) IN (VALUES ${raced.map(() => '(?, ?)').join(', ')})`,
      raced.flatMap((d) => [d.userId, d.key]),
    )) as Array<{ id: number; user_id: number; key: string }>;
    for (const r of found) ids.set(keyOf(r.user_id, r.key), r.id);
  }
  return ids;
}

/** What a group of new messages adds to one discussion (one message, or several from one commit). */
export interface DiscussionDelta {
  count: number;
  unread: number;
  spam: number;
  withAttachments: number;
  importance: number;
  firstDate: number;
  lastDate: number;
  /** excerpt and sender of the newest of these messages */
  excerpt: string;
  from: string | null;
}

export function addFacts(d: DiscussionDelta | undefined, m: { date: number; unread: boolean; spam: boolean; hasAttachments: boolean; importance: number; excerpt: string; from: string | null }): DiscussionDelta {
  const newest = !d || m.date >= d.lastDate;
  return {
    count: (d?.count ?? 0) + 1,
    unread: (d?.unread ?? 0) + (m.unread && !m.spam ? 1 : 0),
    spam: (d?.spam ?? 0) + (m.spam ? 1 : 0),
    withAttachments: (d?.withAttachments ?? 0) + (m.hasAttachments ? 1 : 0),
    importance: Math.max(d?.importance ?? -Infinity, m.importance),
    firstDate: Math.min(d?.firstDate ?? Infinity, m.date),
    lastDate: Math.max(d?.lastDate ?? -Infinity, m.date),
    excerpt: newest ? m.excerpt : d!.excerpt,
    from: newest ? m.from : d!.from,
  };
}

/** piLetter() as an SQL CASE over expr, derived from piLetter itself so the letters cannot drift apart. */
function letterCaseSql(expr: string): string {
  const whens: string[] = [];
  for (let score = 100; score > 0; score--) {
    if (piLetter(score) !== piLetter(score - 1)) whens.push(`WHEN ${expr} > ${score - 1} THEN '${piLetter(score)}'`);
  }
  return `CASE WHEN ${expr} IS NULL THEN NULL ${whens.join(' ')} ELSE '${piLetter(0)}' END`;
}

const RECENT_PI = '(SELECT min(pi_score) FROM (SELECT pi_score FROM messages WHERE discussion_id = discussions.id ORDER BY date DESC LIMIT 10))';

/**
 * Folds new messages into their discussion's aggregates in a single statement, so that the cost
 * of a message does not grow with the size of its discussion (a busy list has tens of thousands).
 * Its PI is the lowest of its 10 latest messages (a chain is as strong as its weakest link).
 */
/**
 * Adds what new messages bring to their discussions: counts, dates, the newest excerpt and sender,
 * the PI of the latest messages; one statement per 400 discussions (UPDATE … FROM a VALUES list).
 * Runs once the messages are inserted (the PI reads them).
 */
export async function addToDiscussions(trx: Knex, deltas: Map<number, DiscussionDelta>): Promise<void> {
  const all = [...deltas];
  for (let i = 0; i < all.length; i += CHUNK) {
    const chunk = all.slice(i, i + CHUNK);
    const newest = 'discussions.message_count = 0 OR d.last_date >= discussions.last_message_at';
    await trx.raw(
      `WITH d(id, n, unread, spam, attachments, importance, first_date, last_date, excerpt, last_from) AS (VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')})
       UPDATE discussions SET
         unread_count = unread_count + d.unread,
         spam_count = spam_count + d.spam,
         attachment_count = attachment_count + d.attachments,
         importance = CASE WHEN discussions.message_count = 0 THEN d.importance ELSE max(discussions.importance, d.importance) END,
         first_message_at = CASE WHEN discussions.message_count = 0 THEN d.first_date ELSE min(first_message_at, d.first_date) END,
         excerpt = CASE WHEN ${newest} THEN d.excerpt ELSE discussions.excerpt END,
         last_from = CASE WHEN ${newest} THEN d.last_from ELSE discussions.last_from END,
         last_message_at = CASE WHEN discussions.message_count = 0 THEN d.last_date ELSE max(last_message_at, d.last_date) END,
         pi_score = ${RECENT_PI},
         pi_letter = ${letterCaseSql(RECENT_PI)},
         message_count = discussions.message_count + d.n
       FROM d WHERE discussions.id = d.id`,
      chunk.flatMap(([id, x]) => [id, x.count, x.unread, x.spam, x.withAttachments, x.importance, x.firstDate, x.lastDate, x.excerpt, x.from]),
    );
  }
}

/** Only the PI of discussions, after some of their messages were re-scored (sent messages' deliveries). */
export async function refreshDiscussionPi(trx: Knex, discussionIds: number[]): Promise<void> {
  for (let i = 0; i < discussionIds.length; i += 500) {
    const ids = discussionIds.slice(i, i + 500);
    await trx.raw(`UPDATE discussions SET pi_score = ${RECENT_PI}, pi_letter = ${letterCaseSql(RECENT_PI)} WHERE id IN (${ids.map(() => '?').join(', ')})`, ids);
  }
}

/**
 * Recomputes a discussion's aggregates from its messages: counts, latest excerpt, importance,
 * and its PI = the lowest PI of its 10 most recent messages (a chain is as strong as its weakest link).
 */
export async function refreshDiscussion(trx: Knex, discussionId: number): Promise<void> {
  const agg = await trx('messages')
    .where({ discussion_id: discussionId })
    .first(
      trx.raw('count(*) as n'),
      trx.raw('sum(case when is_read = 0 and is_spam = 0 then 1 else 0 end) as unread'),
      trx.raw('sum(is_spam) as spam'),
      trx.raw('sum(case when attachment_count > 0 then 1 else 0 end) as att'),
      trx.raw('max(importance) as importance'),
      trx.raw('min(date) as first_at'),
      trx.raw('max(date) as last_at'),
    );
  if (!agg || Number(agg.n) === 0) {
    await trx('discussions').where({ id: discussionId }).delete();
    return;
  }
  const recent = await trx('messages')
    .where({ discussion_id: discussionId })
    .orderBy('date', 'desc')
    .limit(10)
    .select('pi_score', 'excerpt', 'from_name', 'from_address');
  const scores = recent.map((r: { pi_score: number | null }) => r.pi_score).filter((s: number | null): s is number => s !== null);
  const pi = scores.length ? Math.min(...scores) : null;
  const last = recent[0];
  await trx('discussions')
    .where({ id: discussionId })
    .update({
      message_count: agg.n,
      unread_count: agg.unread ?? 0,
      spam_count: agg.spam ?? 0,
      attachment_count: agg.att ?? 0,
      importance: agg.importance ?? 0,
      first_message_at: agg.first_at,
      last_message_at: agg.last_at,
      excerpt: last?.excerpt ?? null,
      last_from: last ? last.from_name || last.from_address : null,
      pi_score: pi,
      pi_letter: pi === null ? null : piLetter(pi),
    });
}
