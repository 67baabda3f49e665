/**
 * Message search over one user's mailbox, newest first, with a capped total, and the full-text
 * index it reads (the ingest pipeline calls indexMessageText inside its transaction). Not in charge
 * of the query language (search-query.ts), of SQL fragments (search-sql.ts), of how a query is run
 * fast (search-plan.ts), or of presentation.
 */
import type { SearchQuery } from './search-query.js';
import type { DbLike } from './search-sql.js';
import { findHits, searchTuning, type MessageRow } from './search-plan.js';

export { startOfDay } from './search-sql.js';
export { searchTuning } from './search-plan.js';

export interface MessageHit {
  id: number;
  discussionId: number;
  subject: string | null;
  fromAddress: string | null;
  fromName: string | null;
  date: number;
  excerpt: string | null;
  piScore: number | null;
  piLetter: string | null;
  isRead: boolean;
  attachmentCount: number;
  importance: number;
}

export interface SearchOptions {
  limit?: number;
  offset?: number;
  includeSpam?: boolean;
  /** IANA zone the user's calendar days are in (users.timezone); UTC when absent */
  timeZone?: string;
}

export interface SearchResult {
  /** exact when totalCapped is false; otherwise "at least this many" */
  total: number;
  totalCapped: boolean;
  messages: MessageHit[];
}

export interface DiscussionHit {
  discussionId: number;
  subject: string | null;
  lastHitDate: number;
  hitCount: number;
}

export interface DiscussionSearchResult {
  total: number;
  totalCapped: boolean;
  discussions: DiscussionHit[];
}

const MAX_LIMIT = 200;
/** Bodies past this are rare (logs, pasted dumps) and would only bloat the index. */
const BODY_INDEX_CAP = 200 * 1024;

export interface IndexDoc {
  subject: string;
  body: string;
  participants: string;
  attachments: string;
}

/**
 * Indexes a new message's text. A message already indexed needs { replace: true }: a contentless
 * table cannot tell that a rowid is taken (it would index both texts), and the DELETE that
 * replacing costs nearly doubles the indexing time of the ingest path, so it is not done blindly.
 */
export async function indexMessageText(db: DbLike, messageId: number, doc: IndexDoc, opts: { replace?: boolean } = {}): Promise<void> {
  if (opts.replace) await removeFromIndex(db, messageId);
  await db.raw('INSERT INTO messages_fts (rowid, subject, body, participants, attachments) VALUES (?, ?, ?, ?, ?)', [
    messageId, doc.subject, doc.body.slice(0, BODY_INDEX_CAP), doc.participants, doc.attachments,
  ]);
}

/** Many messages in one statement: what the ingest's group commit uses. */
export async function indexMessagesText(db: DbLike, docs: Array<IndexDoc & { id: number }>): Promise<void> {
  for (let i = 0; i < docs.length; i += 1000) {
    const chunk = docs.slice(i, i + 1000);
    await db.raw(
      `INSERT INTO messages_fts (rowid, subject, body, participants, attachments) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
      chunk.flatMap((d) => [d.id, d.subject, d.body.slice(0, BODY_INDEX_CAP), d.participants, d.attachments]),
    );
  }
}

/** contentless_delete=1 is what makes this possible on a contentless table. */
export async function removeFromIndex(db: DbLike, messageId: number): Promise<void> {
  await db.raw('DELETE FROM messages_fts WHERE rowid = ?', [messageId]);
}

function toHit(r: MessageRow): MessageHit {
  return {
    id: r.id, discussionId: r.discussion_id, subject: r.subject, fromAddress: r.from_address, fromName: r.from_name,
    date: Number(r.date), excerpt: r.excerpt, piScore: r.pi_score, piLetter: r.pi_letter, isRead: !!r.is_read,
    attachmentCount: r.attachment_count, importance: r.importance,
  };
}

function page(opts: SearchOptions): { limit: number; offset: number } {
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 50), 1), MAX_LIMIT);
  return { limit, offset: Math.max(Math.trunc(opts.offset ?? 0), 0) };
}

/** Messages matching the query, newest first. Spam stays hidden unless asked for or searched. */
export async function searchMessages(db: DbLike, userId: number, query: SearchQuery, opts: SearchOptions = {}): Promise<SearchResult> {
  const { limit, offset } = page(opts);
  const { rows, total } = await findHits(db, userId, query, opts, limit, offset);
  return { total: Math.min(total, searchTuning.totalCap), totalCapped: total > searchTuning.totalCap, messages: rows.map(toHit) };
}

/**
 * Hits grouped by discussion, the one with the most recent hit first. Grouping looks at the newest
 * capped number of hits only: on a bigger result old discussions and counts are partial (totalCapped).
 */
export async function searchDiscussions(
  db: DbLike, userId: number, query: SearchQuery, opts: SearchOptions = {},
): Promise<DiscussionSearchResult> {
  const { limit, offset } = page(opts);
  const { rows, total } = await findHits(db, userId, query, opts, searchTuning.totalCap, 0);
  const groups = new Map<number, DiscussionHit>(); // rows are newest first: insertion order is the order wanted
  for (const r of rows) {
    const g = groups.get(r.discussion_id);
    if (g) g.hitCount++;
    else groups.set(r.discussion_id, { discussionId: r.discussion_id, subject: null, lastHitDate: Number(r.date), hitCount: 1 });
  }
  const slice = [...groups.values()].slice(offset, offset + limit);
  const subjects = new Map<number, string | null>(
    (await db('discussions').where('user_id', userId).whereIn('id', slice.map((g) => g.discussionId)).select('id', 'subject'))
      .map((d: { id: number; subject: string | null }) => [d.id, d.subject]),
  );
  return {
    total: groups.size, totalCapped: total > searchTuning.totalCap,
    discussions: slice.map((g) => ({ ...g, subject: subjects.get(g.discussionId) ?? null })),
  };
}
