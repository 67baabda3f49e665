/**
 * Tagging messages, one or a whole discussion. SPAM is more than a label: it hides the message and
 * teaches the user's learning filter, so marking and unmarking go through here, in one transaction
 * with the tag rows, the filter's counts and the discussion's aggregates (a half-applied "this is
 * spam" would leave the timeline and the filter disagreeing).
 */
import type { Knex } from 'knex';
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { tokenize, trainSpam, type TrainedAs } from '../spam/index.js';
import { refreshDiscussion } from './discussions.js';
import { SYSTEM_TAGS, findTag, tagIds } from './tags.js';
import { parseBlob } from './messages.js';
import { MAX_DISCUSSION_MESSAGES, messageTagNames } from './timeline.js';

export interface TagChange {
  add?: string[];
  remove?: string[];
}

export interface TaggedMessage {
  id: number;
  tags: string[];
  is_spam: boolean;
}

/** What the change needs to know of a message. */
interface Row {
  id: number;
  discussion_id: number;
  blob_hash: string;
  is_spam: number;
  spam_trained: TrainedAs | null;
  source: string;
}

const ROW_COLUMNS = ['id', 'discussion_id', 'blob_hash', 'is_spam', 'spam_trained', 'source'] as const;
/** Statements touch at most this many messages (SQLite's bound-parameter limit is far above). */
const CHUNK = 400;
/**
 * A discussion marked SPAM teaches the filter with its newest messages only: a list with thousands
 * of them would otherwise parse every one, holding the writer; a hundred lessons of one sender
 * teach as much. The others are marked all the same.
 */
export const MAX_LESSONS = 100;
/** System tag names are upper-case whatever the client sent; user tags keep their case. */
function canonical(names: string[] | undefined): string[] {
  const out = new Set<string>();
  for (const n of names ?? []) {
    const t = n.trim();
    if (t) out.add((SYSTEM_TAGS as readonly string[]).includes(t.toUpperCase()) ? t.toUpperCase() : t);
  }
  return [...out];
}

function validated(change: TagChange): { add: string[]; remove: string[] } {
  const add = canonical(change.add);
  const remove = canonical(change.remove);
  if (add.some((n) => remove.some((r) => r.toLowerCase() === n.toLowerCase()))) {
    throw new AppError('validation_failed', 'a tag cannot be added and removed at once');
  }
  if (add.includes('SPAM') && add.includes('INBOX')) throw new AppError('validation_failed', 'a message cannot be marked spam and not spam at once');
  return { add, remove };
}

type SpamMove = 'to_spam' | 'to_ham' | null;

function spamMove(add: string[], remove: string[], row: Row): SpamMove {
  // Only a message that is spam can be un-spammed: "remove SPAM" on a normal message teaches nothing.
  const clearsSpam = !!row.is_spam && (remove.includes('SPAM') || add.includes('INBOX'));
  return add.includes('SPAM') ? 'to_spam' : clearsSpam ? 'to_ham' : null;
}

interface Plan {
  row: Row;
  add: string[];
  remove: string[];
  move: SpamMove;
  /** whether a SPAM / not-SPAM move teaches the filter with this message */
  teaches: boolean;
}

/**
 * Adding SPAM marks the message as spam (and drops INBOX); removing SPAM, or putting a spam message
 * back in INBOX, marks it as not spam. When a whole discussion moves, the user's own Sent copies
 * move with it (so the discussion hides) but teach the filter nothing and never enter INBOX: the
 * user's replies are not what spam looks like.
 */
function planFor(row: Row, add: string[], remove: string[], ownCopyRule: boolean): Plan {
  const a = [...add];
  const r = [...remove];
  const move = spamMove(a, r, row);
  if (move === 'to_spam') r.push('INBOX');
  if (move === 'to_ham') {
    r.push('SPAM');
    a.push('INBOX');
  }
  const ownCopy = ownCopyRule && row.source === 'sent';
  return { row, add: ownCopy ? a.filter((n) => n !== 'INBOX') : a, remove: r, move, teaches: !ownCopy };
}

const target = (move: Exclude<SpamMove, null>): TrainedAs => (move === 'to_spam' ? 'spam' : 'ham');

/** Parsing is slow and needs no lock: done before the transaction takes the only writer. */
async function lessonsFor(deps: Deps, plans: Plan[], max: number): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  const todo = plans.filter((p) => p.move && p.teaches && p.row.spam_trained !== target(p.move)).slice(-max);
  for (const p of todo) out.set(p.row.id, tokenize(await parseBlob(deps, p.row.blob_hash)));
  return out;
}

function chunks<T>(xs: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

/** Tag rows in and out, grouped by identical changes so a big discussion costs a few statements. */
async function writeTags(trx: Knex.Transaction, userId: number, plans: Plan[], now: number): Promise<void> {
  const groups = new Map<string, { add: string[]; remove: string[]; ids: number[] }>();
  for (const p of plans) {
    const key = JSON.stringify([p.add, p.remove]);
    const g = groups.get(key) ?? { add: p.add, remove: p.remove, ids: [] };
    g.ids.push(p.row.id);
    groups.set(key, g);
  }
  for (const g of groups.values()) {
    const addIds = await tagIds(trx, userId, g.add, now);
    // removing a tag nobody has is a no-op, not an error
    const removeIds = (await Promise.all(g.remove.map((n) => findTag(trx, userId, n)))).flatMap((t) => (t ? [t.id] : []));
    for (const ids of chunks(g.ids)) {
      if (addIds.length) await trx('message_tags').insert(ids.flatMap((message_id) => addIds.map((tag_id) => ({ message_id, tag_id })))).onConflict().ignore();
      if (removeIds.length) await trx('message_tags').whereIn('message_id', ids).whereIn('tag_id', removeIds).delete();
    }
  }
}

/** Marks spam / not spam; the filter learns once per message (trainSpam undoes an opposite lesson). */
async function writeMoves(trx: Knex.Transaction, userId: number, plans: Plan[], lessons: Map<number, string[]>): Promise<void> {
  for (const move of ['to_spam', 'to_ham'] as const) {
    const moved = plans.filter((p) => p.move === move);
    for (const p of moved) {
      const tokens = lessons.get(p.row.id);
      if (!tokens || p.row.spam_trained === target(move)) continue;
      await trainSpam(trx, userId, tokens, move === 'to_spam', p.row.spam_trained);
      await trx('messages').where({ id: p.row.id }).update({ spam_trained: target(move) });
    }
    for (const ids of chunks(moved.map((p) => p.row.id))) {
      await trx('messages').whereIn('id', ids).update({ is_spam: move === 'to_spam' });
    }
  }
}

async function apply(trx: Knex.Transaction, userId: number, plans: Plan[], lessons: Map<number, string[]>, now: number): Promise<void> {
  await writeTags(trx, userId, plans, now);
  await writeMoves(trx, userId, plans, lessons);
  for (const id of new Set(plans.map((p) => p.row.discussion_id))) await refreshDiscussion(trx, id);
}

async function messageRow(db: Knex, userId: number, id: number): Promise<Row> {
  const row = await db('messages').where({ id, user_id: userId }).first(...ROW_COLUMNS);
  if (!row) throw new AppError('message_not_found', `no message ${id}`);
  return row;
}

/** Adds and removes tags on one message (the message route: a Sent copy may be marked too). */
export async function changeTags(deps: Deps, userId: number, id: number, change: TagChange): Promise<TaggedMessage> {
  const { add, remove } = validated(change);
  const before = planFor(await messageRow(deps.db, userId, id), add, remove, false);
  const lessons = await lessonsFor(deps, [before], 1);
  const result = await deps.db.transaction(async (trx) => {
    const plan = planFor(await messageRow(trx, userId, id), add, remove, false);
    await apply(trx, userId, [plan], lessons, deps.clock.now().getTime());
    const tags = await messageTagNames(trx, [id]);
    return { id, tags: tags.get(id) ?? [], is_spam: plan.move ? plan.move === 'to_spam' : !!plan.row.is_spam };
  });
  if (lessons.size) deps.events.emit('spam-trained', { userId });
  return result;
}

async function discussionRows(db: Knex, userId: number, discussionId: number): Promise<Row[]> {
  const d = await db('discussions').where({ id: discussionId, user_id: userId }).first('id');
  if (!d) throw new AppError('discussion_not_found', `no discussion ${discussionId}`);
  return db('messages').where({ discussion_id: discussionId, user_id: userId }).orderBy([{ column: 'date' }, { column: 'id' }]).select(...ROW_COLUMNS);
}

/**
 * The same change on every message of a discussion (see planFor for the user's own Sent copies).
 * Returns the newest messages' tags, as many as a discussion view shows.
 */
export async function changeDiscussionTags(deps: Deps, userId: number, discussionId: number, change: TagChange): Promise<{ id: number; message_count: number; messages: TaggedMessage[] }> {
  const { add, remove } = validated(change);
  const plansOf = (rows: Row[]) => rows.map((r) => planFor(r, add, remove, true));
  const lessons = await lessonsFor(deps, plansOf(await discussionRows(deps.db, userId, discussionId)), MAX_LESSONS);
  const result = await deps.db.transaction(async (trx) => {
    // Re-read inside the transaction: a message that arrived since is tagged too (and taught
    // nothing, having no parsed lesson), one that left is not.
    const plans = plansOf(await discussionRows(trx, userId, discussionId));
    await apply(trx, userId, plans, lessons, deps.clock.now().getTime());
    const shown = plans.slice(-MAX_DISCUSSION_MESSAGES).map((p) => p.row.id);
    const spam = await trx('messages').whereIn('id', shown).select('id', 'is_spam');
    const spamOf = new Map(spam.map((r: { id: number; is_spam: number }) => [r.id, !!r.is_spam]));
    const tags = await messageTagNames(trx, shown);
    return { id: discussionId, message_count: plans.length, messages: shown.map((id) => ({ id, tags: tags.get(id) ?? [], is_spam: spamOf.get(id) ?? false })) };
  });
  if (lessons.size) deps.events.emit('spam-trained', { userId });
  return result;
}
