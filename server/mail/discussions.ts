/**
 * Discussions group messages by the set of participants (Caliopen's signature idea): the same
 * people, whatever the subject, are one conversation. Addresses that belong to one contact count
 * as that contact. Mailing-list mail groups by List-ID instead.
 */
import type { Knex } from 'knex';
import { sha256 } from '../store/blobs.js';
import type { AddressEntry } from './parse.js';
import { piLetter } from '../privacy/index.js';

export function discussionKey(
  participants: AddressEntry[],
  ownAddresses: Set<string>,
  contactOf: Map<string, number | null>,
  listId: string | null,
): string {
  if (listId) return `l:${listId}`;
  const members = new Set<string>();
  for (const p of participants) {
    if (p.role === 'reply_to' || ownAddresses.has(p.address)) continue;
    const c = contactOf.get(p.address);
    members.add(c ? `c:${c}` : `a:${p.address}`);
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
