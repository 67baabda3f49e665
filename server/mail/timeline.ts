/**
 * The timeline (SPEC §3): a user's discussions, newest first, with the figures the list shows.
 * The page is one indexed range scan over (user_id, last_message_at) that stops after `limit` rows;
 * filters are plain column tests on discussions (their aggregates are kept by refreshDiscussion),
 * except tags, which need an EXISTS. Participants and tags of the page come in two batched queries
 * over each discussion's latest messages only, so neither the mailbox nor a huge mailing list makes
 * the page slower (bench/timeline: ~7 ms at 100,000 messages; the budget is 30 ms).
 */
import type { Knex } from 'knex';
import { AppError } from '../errors.js';
import { piColour } from '../privacy/index.js';
import { findTag } from './tags.js';
import { userAddresses } from '../accounts/users.js';

export interface TimelineQuery {
  tag?: string;
  importanceMin?: number;
  importanceMax?: number;
  piMin?: number;
  piMax?: number;
  includeSpam?: boolean;
  limit?: number;
  /** opaque cursor from a previous page's `next` */
  before?: string;
  /** only these discussions (those held with one contact, contacts/contacts.ts) */
  discussionIds?: number[];
}

export interface PiBadge {
  score: number;
  letter: string;
  colour: string;
}

export interface TimelineItem {
  id: number;
  subject: string | null;
  excerpt: string | null;
  participants: Array<{ address: string; name: string | null }>;
  last_message_at: number;
  message_count: number;
  unread_count: number;
  has_attachments: boolean;
  importance: number;
  tags: string[];
  pi: PiBadge | null;
}

export interface TimelinePage {
  items: TimelineItem[];
  next: string | null;
}

export const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 50;
/** Participants are read from this many of a discussion's latest messages: enough to name it. */
const PARTICIPANT_MESSAGES = 3;
const MAX_PARTICIPANTS = 5;
/** Tags are read from this many of a discussion's latest messages (see tagsOf). */
const TAG_MESSAGES = 500;

interface DiscussionRow {
  id: number;
  subject: string | null;
  excerpt: string | null;
  last_message_at: number;
  message_count: number;
  unread_count: number;
  attachment_count: number;
  importance: number;
  pi_score: number | null;
  pi_letter: string | null;
}

export function encodeCursor(row: { last_message_at: number; id: number }): string {
  return `${row.last_message_at}.${row.id}`;
}

export function decodeCursor(cursor: string): { at: number; id: number } {
  const m = /^(-?\d{1,16})\.(\d{1,12})$/.exec(cursor);
  if (!m) throw new AppError('validation_failed', 'before: not a cursor from this API');
  return { at: Number(m[1]), id: Number(m[2]) };
}

export function piBadge(score: number | null, letter: string | null): PiBadge | null {
  return score === null || score === undefined ? null : { score, letter: letter ?? '', colour: piColour(score) };
}

async function pageQuery(db: Knex, userId: number, q: TimelineQuery, limit: number): Promise<{ rows: DiscussionRow[]; tag: string | null } | null> {
  const query = db('discussions as d').where('d.user_id', userId);
  let includeSpam = q.includeSpam ?? false;
  let tag: { id: number; name: string } | undefined;
  if (q.tag !== undefined) {
    tag = await findTag(db, userId, q.tag);
    if (!tag) return null; // an unknown tag matches nothing
    if (tag.name === 'SPAM') includeSpam = true; // asking for spam is asking to see it
    query.whereExists(
      db('messages as m').join('message_tags as mt', 'mt.message_id', 'm.id')
        .whereRaw('m.discussion_id = d.id').andWhere('mt.tag_id', tag.id).select(db.raw('1')),
    );
  }
  if (!includeSpam) query.whereRaw('d.message_count > d.spam_count');
  if (q.importanceMin !== undefined) query.where('d.importance', '>=', q.importanceMin);
  if (q.importanceMax !== undefined) query.where('d.importance', '<=', q.importanceMax);
  if (q.piMin !== undefined) query.where('d.pi_score', '>=', q.piMin);
  if (q.piMax !== undefined) query.where('d.pi_score', '<=', q.piMax);
  if (q.discussionIds !== undefined) query.whereRaw('d.id IN (SELECT value FROM json_each(?))', [JSON.stringify(q.discussionIds)]);
  if (q.before !== undefined) {
    const c = decodeCursor(q.before);
    query.whereRaw('(d.last_message_at, d.id) < (?, ?)', [c.at, c.id]);
  }
  const rows: DiscussionRow[] = await query
    .orderBy([{ column: 'd.last_message_at', order: 'desc' }, { column: 'd.id', order: 'desc' }])
    .limit(limit + 1)
    .select('d.id', 'd.subject', 'd.excerpt', 'd.last_message_at', 'd.message_count', 'd.unread_count',
      'd.attachment_count', 'd.importance', 'd.pi_score', 'd.pi_letter');
  return { rows, tag: tag?.name ?? null };
}

/**
 * The latest `n` messages of each discussion in a JSON array of ids: one index range scan per
 * discussion on (discussion_id, date), bounded below by the date of its n-th latest message, so a
 * 20,000-message mailing list costs n rows, not 20,000.
 */
function latestMessagesSql(n: number): string {
  return `SELECT d.value AS discussion_id, m.id, m.date FROM json_each(?) d
    JOIN messages m ON m.discussion_id = d.value AND m.date >= coalesce(
      (SELECT x.date FROM messages x WHERE x.discussion_id = d.value ORDER BY x.date DESC LIMIT 1 OFFSET ${n - 1}), -9e15)`;
}

/** Other people in each discussion, from its few latest messages. */
async function participantsOf(db: Knex, userId: number, ids: number[]): Promise<Map<number, TimelineItem['participants']>> {
  const out = new Map<number, TimelineItem['participants']>();
  if (!ids.length) return out;
  const own = new Set(await userAddresses(db, userId));
  const rows: Array<{ discussion_id: number; address: string; name: string | null }> = await db.raw(
    `SELECT l.discussion_id, p.address, p.name FROM (${latestMessagesSql(PARTICIPANT_MESSAGES)}) l
     JOIN participants p ON p.message_id = l.id WHERE p.role IN ('from', 'to', 'cc')
     ORDER BY l.discussion_id, l.date DESC, p.id`,
    [JSON.stringify(ids)],
  );
  for (const r of rows) {
    if (own.has(r.address)) continue;
    const list = out.get(r.discussion_id) ?? [];
    const seen = list.find((p) => p.address === r.address);
    if (seen) seen.name ??= r.name || null;
    else if (list.length < MAX_PARTICIPANTS) list.push({ address: r.address, name: r.name || null });
    out.set(r.discussion_id, list);
  }
  return out;
}

/**
 * Tag names carried by each discussion's latest TAG_MESSAGES messages. Exact for all but very long
 * discussions; exact for every size would need tag counts kept per discussion (a schema change).
 */
async function tagsOf(db: Knex, ids: number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (!ids.length) return out;
  const rows: Array<{ discussion_id: number; name: string }> = await db.raw(
    `SELECT DISTINCT l.discussion_id, t.name FROM (${latestMessagesSql(TAG_MESSAGES)}) l
     JOIN message_tags mt ON mt.message_id = l.id JOIN tags t ON t.id = mt.tag_id ORDER BY t.name`,
    [JSON.stringify(ids)],
  );
  for (const r of rows) out.set(r.discussion_id, [...(out.get(r.discussion_id) ?? []), r.name]);
  return out;
}

/** A discussion matched by a tag filter shows that tag, even when only an older message carries it. */
function withTag(tags: string[], tag: string | null): string[] {
  return tag === null || tags.includes(tag) ? tags : [...tags, tag].sort();
}

export async function listDiscussions(db: Knex, userId: number, q: TimelineQuery = {}): Promise<TimelinePage> {
  const limit = Math.min(Math.max(Math.trunc(q.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
  const found = await pageQuery(db, userId, q, limit);
  if (!found) return { items: [], next: null };
  const { rows, tag } = found;
  const page = rows.slice(0, limit);
  const ids = page.map((r) => r.id);
  const [participants, tags] = await Promise.all([participantsOf(db, userId, ids), tagsOf(db, ids)]);
  const items = page.map((r) => ({
    id: r.id,
    subject: r.subject,
    excerpt: r.excerpt,
    participants: participants.get(r.id) ?? [],
    last_message_at: r.last_message_at,
    message_count: r.message_count,
    unread_count: r.unread_count,
    has_attachments: r.attachment_count > 0,
    importance: r.importance,
    tags: withTag(tags.get(r.id) ?? [], tag),
    pi: piBadge(r.pi_score, r.pi_letter),
  }));
  const last = page[page.length - 1];
  return { items, next: rows.length > limit && last ? encodeCursor(last) : null };
}

export interface DiscussionMessage {
  id: number;
  subject: string | null;
  from: { address: string | null; name: string | null };
  date: number;
  excerpt: string | null;
  is_read: boolean;
  is_spam: boolean;
  importance: number;
  attachment_count: number;
  tags: string[];
  pi: PiBadge | null;
}

export interface DiscussionView {
  id: number;
  subject: string | null;
  message_count: number;
  unread_count: number;
  importance: number;
  pi: PiBadge | null;
  /** true when only the latest MAX_DISCUSSION_MESSAGES are listed (a long mailing list) */
  truncated: boolean;
  messages: DiscussionMessage[];
}

export const MAX_DISCUSSION_MESSAGES = 500;

/** Tag names of each message, in one query. */
export async function messageTagNames(db: Knex, messageIds: number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (!messageIds.length) return out;
  const rows: Array<{ message_id: number; name: string }> = await db('message_tags as mt')
    .join('tags as t', 't.id', 'mt.tag_id')
    .whereIn('mt.message_id', messageIds)
    .orderBy('t.name')
    .select('mt.message_id', 't.name');
  for (const r of rows) out.set(r.message_id, [...(out.get(r.message_id) ?? []), r.name]);
  return out;
}

/** One discussion with its messages in date order; another user's discussion does not exist. */
export async function getDiscussion(db: Knex, userId: number, id: number): Promise<DiscussionView> {
  const d = await db('discussions').where({ id, user_id: userId }).first();
  if (!d) throw new AppError('discussion_not_found', `no discussion ${id}`);
  const newest = await db('messages')
    .where({ discussion_id: id, user_id: userId })
    .orderBy([{ column: 'date', order: 'desc' }, { column: 'id', order: 'desc' }])
    .limit(MAX_DISCUSSION_MESSAGES)
    .select('id', 'subject', 'from_address', 'from_name', 'date', 'excerpt', 'is_read', 'is_spam', 'importance',
      'attachment_count', 'pi_score', 'pi_letter');
  const rows = newest.reverse();
  const tags = await messageTagNames(db, rows.map((r) => r.id));
  return {
    id: d.id,
    subject: d.subject,
    message_count: d.message_count,
    unread_count: d.unread_count,
    importance: d.importance,
    pi: piBadge(d.pi_score, d.pi_letter),
    truncated: d.message_count > rows.length,
    messages: rows.map((r) => ({
      id: r.id,
      subject: r.subject,
      from: { address: r.from_address, name: r.from_name },
      date: r.date,
      excerpt: r.excerpt,
      is_read: !!r.is_read,
      is_spam: !!r.is_spam,
      importance: r.importance,
      attachment_count: r.attachment_count,
      tags: tags.get(r.id) ?? [],
      pi: piBadge(r.pi_score, r.pi_letter),
    })),
  };
}
