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

export async function findOrCreateDiscussion(trx: Knex.Transaction, seed: DiscussionSeed): Promise<number> {
  const row = await trx('discussions').where({ user_id: seed.userId, key: seed.key }).first('id');
  if (row) return row.id;
  const [id] = await trx('discussions').insert({
    user_id: seed.userId,
    key: seed.key,
    list_id: seed.listId,
    subject: seed.subject.slice(0, 500),
    first_message_at: seed.at,
    last_message_at: seed.at,
  });
  return Number(id);
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
export async function addToDiscussion(trx: Knex, discussionId: number, d: DiscussionDelta): Promise<void> {
  const newest = 'message_count = 0 OR ? >= last_message_at';
  await trx.raw(
    `UPDATE discussions SET
       unread_count = unread_count + ?,
       spam_count = spam_count + ?,
       attachment_count = attachment_count + ?,
       importance = CASE WHEN message_count = 0 THEN ? ELSE max(importance, ?) END,
       first_message_at = CASE WHEN message_count = 0 THEN ? ELSE min(first_message_at, ?) END,
       excerpt = CASE WHEN ${newest} THEN ? ELSE excerpt END,
       last_from = CASE WHEN ${newest} THEN ? ELSE last_from END,
       last_message_at = CASE WHEN message_count = 0 THEN ? ELSE max(last_message_at, ?) END,
       pi_score = ${RECENT_PI},
       pi_letter = ${letterCaseSql(RECENT_PI)},
       message_count = message_count + ?
     WHERE id = ?`,
    [
      d.unread, d.spam, d.withAttachments, d.importance, d.importance, d.firstDate, d.firstDate,
      d.lastDate, d.excerpt, d.lastDate, d.from, d.lastDate, d.lastDate, d.count, discussionId,
    ],
  );
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
