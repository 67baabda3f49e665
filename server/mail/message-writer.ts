/**
 * The commit of a batch of prepared messages: a handful of multi-row statements for the whole
 * batch instead of a dozen statements per message. Every query costs a round trip through the
 * sqlite3 driver's thread pool; at hundreds of messages a second that, not SQLite, is the limit.
 * Runs inside one transaction of the commit queue; on error the queue retries items one by one.
 */
import type { Knex } from 'knex';
import type { IngestOutcome } from './ingest.js';
import type { PiReport } from './types.js';
import type { AddressEntry } from './parse.js';
import type { ContactRef } from '../contacts/linkage.js';
import { recordExchange } from '../contacts/linkage.js';
import { createDiscussions, addFacts, addToDiscussions, type DiscussionDelta, type DiscussionSeed } from './discussions.js';
import { indexMessagesText } from './search.js';
import type { createTagResolver } from './tags.js';

export interface DuplicateRow {
  id: number;
  discussion_id: number;
  is_spam: number;
  pi_score: number;
}

/** Everything a message's rows need, computed before the commit (no database write). */
export interface PreparedMessage {
  userId: number;
  hash: string;
  own: Set<string>;
  fromUser: boolean;
  participants: AddressEntry[];
  contacts: Map<string, ContactRef>;
  dup: DuplicateRow | undefined;
  key: string;
  /** set when the caller already knows the discussion (a DSN about a sent message): the key is not used */
  discussionId?: number;
  listId: string | null;
  discussionSubject: string;
  tagNames: string[];
  receivedAt: number;
  /** the messages row, without discussion_id */
  row: Record<string, unknown> & { date: number };
  fts: { subject: string; body: string; participants: string; attachments: string };
  pi: PiReport;
  facts: { unread: boolean; spam: boolean; hasAttachments: boolean; importance: number; excerpt: string; from: string | null };
}

type TagResolver = ReturnType<typeof createTagResolver>;

const dupOutcome = (userId: number, d: DuplicateRow): IngestOutcome => ({
  userId, messageId: d.id, discussionId: d.discussion_id, duplicate: true, isSpam: !!d.is_spam, piScore: d.pi_score,
});

/** The existing discussions of these messages' keys, in one look-up for the whole batch. */
async function lookupDiscussions(trx: Knex.Transaction, items: PreparedMessage[]): Promise<Map<string, number>> {
  const known = new Map<string, number>();
  for (let i = 0; i < items.length; i += 400) {
    const chunk = items.slice(i, i + 400);
    const rows = await trx.raw(
      `SELECT id, user_id, key FROM discussions WHERE (user_id, key) IN (VALUES ${chunk.map(() => '(?, ?)').join(', ')})`,
      chunk.flatMap((m) => [m.userId, m.key]),
    );
    for (const r of rows as Array<{ id: number; user_id: number; key: string }>) known.set(`${r.user_id}:${r.key}`, r.id);
  }
  return known;
}

/**
 * The discussion of each new message: the caller's, a known one, or one created now — all the
 * batch's new discussions in one statement, seeded by the first message of each key.
 */
async function discussionsOf(trx: Knex.Transaction, known: Map<string, number>, fresh: PreparedMessage[]): Promise<number[]> {
  const seeds = new Map<string, DiscussionSeed>();
  for (const m of fresh) {
    const k = `${m.userId}:${m.key}`;
    if (m.discussionId === undefined && !known.has(k) && !seeds.has(k)) {
      seeds.set(k, { userId: m.userId, key: m.key, listId: m.listId, subject: m.discussionSubject, at: m.row.date });
    }
  }
  if (seeds.size) for (const [k, id] of await createDiscussions(trx, [...seeds.values()])) known.set(k, id);
  return fresh.map((m) => m.discussionId ?? known.get(`${m.userId}:${m.key}`)!);
}

/** Contact ids per participant; only mail the user wrote creates contacts, so inbound mail costs no query here. */
async function contactIdsFor(trx: Knex.Transaction, m: PreparedMessage): Promise<Map<string, number | null>> {
  if (m.fromUser) return recordExchange(trx, m.userId, m.participants, m.own, m.contacts, true, m.receivedAt);
  return new Map(m.participants.map((p) => [p.address, m.contacts.get(p.address)?.contactId ?? null]));
}

/** Multi-row inserts in chunks that stay under SQLite's limit on bound variables. */
async function insertMany(trx: Knex.Transaction, table: string, rows: Array<Record<string, unknown>>, ignoreConflicts = false, chunk = 2000): Promise<void> {
  for (let i = 0; i < rows.length; i += chunk) {
    const q = trx(table).insert(rows.slice(i, i + chunk));
    await (ignoreConflicts ? q.onConflict().ignore() : q);
  }
}

/**
 * Like Promise.all, but waits for every statement to finish before failing, so that the
 * transaction is rolled back only when none of its statements is still running.
 */
async function allOrFirstError(ps: Array<Promise<unknown>>): Promise<void> {
  const settled = await Promise.allSettled(ps);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Copies committed since their preparation (the same message delivered twice at once): one
 * look-up for the batch, inside the transaction, so that they become duplicates, not errors.
 */
async function committedDuplicates(trx: Knex.Transaction, items: PreparedMessage[]): Promise<void> {
  const open = items.filter((m) => !m.dup);
  for (let i = 0; i < open.length; i += 400) {
    const chunk = open.slice(i, i + 400);
    const rows = (await trx.raw(
      `SELECT id, user_id, content_hash, discussion_id, is_spam, pi_score FROM messages
        WHERE (user_id, content_hash) IN (VALUES ${chunk.map(() => '(?, ?)').join(', ')})`,
      chunk.flatMap((m) => [m.userId, m.hash]),
    )) as Array<DuplicateRow & { user_id: number; content_hash: string }>;
    const found = new Map(rows.map((r) => [`${r.user_id}:${r.content_hash}`, r]));
    for (const m of chunk) m.dup = found.get(`${m.userId}:${m.hash}`);
  }
}

/** The next ids of the messages table; safe because the batch holds SQLite's write lock once it writes (a clash with another process fails the batch, which is then retried). */
async function nextMessageId(trx: Knex.Transaction): Promise<number> {
  const rows = (await trx.raw("SELECT seq FROM sqlite_sequence WHERE name = 'messages'")) as Array<{ seq: number }>;
  return (rows[0]?.seq ?? 0) + 1;
}

/**
 * Statements are issued in four waves; inside a wave they are not awaited one by one, so the
 * writer never waits for a busy event loop between them. Foreign keys are checked at COMMIT
 * (defer_foreign_keys) because statements of one wave may run in any order.
 */
export async function writeMessages(trx: Knex.Transaction, items: PreparedMessage[], tagIds: TagResolver): Promise<IngestOutcome[]> {
  const out: IngestOutcome[] = new Array(items.length);
  const [, , tags, discussions, firstId] = await Promise.all([
    trx.raw('PRAGMA defer_foreign_keys = ON'),
    committedDuplicates(trx, items),
    Promise.all(items.map((m) => tagIds(trx, m.userId, m.tagNames, m.receivedAt))),
    lookupDiscussions(trx, items),
    nextMessageId(trx),
  ]);
  // New messages (the first of each content in the batch) take the next ids, in order.
  const firstOf = new Map<string, number>();
  const fresh: number[] = [];
  for (const [i, m] of items.entries()) {
    const k = `${m.userId}:${m.hash}`;
    if (m.dup || firstOf.has(k)) continue;
    firstOf.set(k, i);
    fresh.push(i);
  }
  const freshItems = fresh.map((i) => items[i]!);
  const discussionIds = await discussionsOf(trx, discussions, freshItems);
  const tagRows: Array<{ message_id: number; tag_id: number }> = [];
  const rank = new Map(fresh.map((i, j) => [i, j]));
  for (const [i, m] of items.entries()) {
    const j = rank.get(i);
    if (m.dup) out[i] = dupOutcome(m.userId, m.dup);
    else if (j !== undefined) out[i] = { userId: m.userId, messageId: firstId + j, discussionId: discussionIds[j]!, duplicate: false, isSpam: m.facts.spam, piScore: m.pi.score };
    else out[i] = { ...out[firstOf.get(`${m.userId}:${m.hash}`)!]!, duplicate: true }; // the same message twice in one batch
    tags[i]!.forEach((tag_id) => tagRows.push({ message_id: out[i]!.messageId, tag_id }));
  }
  const contactIds: Array<Map<string, number | null>> = [];
  for (const m of freshItems) contactIds.push(await contactIdsFor(trx, m));

  const messages: Array<Record<string, unknown>> = [];
  const participants: Array<Record<string, unknown>> = [];
  const piRows: Array<Record<string, unknown>> = [];
  const deltas = new Map<number, DiscussionDelta>();
  const received = new Map<number, number>();
  const now = Math.max(...items.map((m) => m.receivedAt));
  freshItems.forEach((m, j) => {
    const id = firstId + j;
    const discussionId = discussionIds[j]!;
    messages.push({ ...m.row, id, discussion_id: discussionId });
    for (const p of m.participants) participants.push({ message_id: id, user_id: m.userId, role: p.role, address: p.address, name: p.name, contact_id: contactIds[j]!.get(p.address) ?? null });
    piRows.push({ user_id: m.userId, object_type: 'message', object_id: id, score: m.pi.score, letter: m.pi.letter, axes_json: JSON.stringify(m.pi.axes), reasons_json: JSON.stringify(m.pi.reasons), computed_at: m.receivedAt });
    deltas.set(discussionId, addFacts(deltas.get(discussionId), { date: m.row.date, ...m.facts }));
    const sender = m.participants.find((p) => p.role === 'from');
    const contact = !m.fromUser && sender ? m.contacts.get(sender.address)?.contactId : undefined;
    if (contact) received.set(contact, (received.get(contact) ?? 0) + 1);
  });
  await allOrFirstError([
    insertMany(trx, 'messages', messages, false, 500),
    insertMany(trx, 'participants', participants),
    insertMany(trx, 'message_tags', tagRows, true),
    insertMany(trx, 'pi_reports', piRows),
    indexMessagesText(trx, freshItems.map((m, j) => ({ id: firstId + j, ...m.fts }))),
    ...[...received].map(async ([id, n]) => {
      await trx('contacts').where({ id }).update({ received_count: trx.raw('received_count + ?', [n]), last_exchange_at: trx.raw('max(coalesce(last_exchange_at, 0), ?)', [now]) });
    }),
  ]);
  await addToDiscussions(trx, deltas);
  return out;
}
