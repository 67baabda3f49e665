/**
 * Tagging a message. SPAM is more than a label: it hides the message and teaches the user's
 * learning filter, so marking and unmarking go through here, in one transaction with the tag rows,
 * the filter's counts and the discussion's aggregates (a half-applied "this is spam" would leave the
 * timeline and the filter disagreeing).
 */
import type { Knex } from 'knex';
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { tokenize, trainSpam } from '../spam/index.js';
import { refreshDiscussion } from './discussions.js';
import { SYSTEM_TAGS, findTag, tagIds } from './tags.js';
import { findMessage, parseBlob, type MessageRow } from './messages.js';
import { messageTagNames } from './timeline.js';

export interface TagChange {
  add?: string[];
  remove?: string[];
}

/** System tag names are upper-case whatever the client sent; user tags keep their case. */
function canonical(names: string[] | undefined): string[] {
  const out = new Set<string>();
  for (const n of names ?? []) {
    const t = n.trim();
    if (t) out.add((SYSTEM_TAGS as readonly string[]).includes(t.toUpperCase()) ? t.toUpperCase() : t);
  }
  return [...out];
}

type SpamMove = 'to_spam' | 'to_ham' | null;

function spamMove(add: string[], remove: string[], row: MessageRow): SpamMove {
  const addsSpam = add.includes('SPAM');
  // Only a message that is spam can be un-spammed: "remove SPAM" on a normal message teaches nothing.
  const clearsSpam = !!row.is_spam && (remove.includes('SPAM') || add.includes('INBOX'));
  if (addsSpam && (clearsSpam || add.includes('INBOX'))) throw new AppError('validation_failed', 'a message cannot be marked spam and not spam at once');
  return addsSpam ? 'to_spam' : clearsSpam ? 'to_ham' : null;
}

async function removeTags(trx: Knex.Transaction, userId: number, messageId: number, names: string[]): Promise<void> {
  const ids: number[] = [];
  for (const name of names) {
    const tag = await findTag(trx, userId, name);
    if (tag) ids.push(tag.id); // removing a tag nobody has is a no-op, not an error
  }
  if (ids.length) await trx('message_tags').where({ message_id: messageId }).whereIn('tag_id', ids).delete();
}

/**
 * Adds and removes tags. Adding SPAM marks the message as spam (and drops INBOX); removing SPAM,
 * or putting a spam message back in INBOX, marks it as not spam. Either way the filter learns from
 * it, once: trainSpam undoes a previous opposite lesson rather than counting the message twice.
 */
export async function changeTags(deps: Deps, userId: number, id: number, change: TagChange): Promise<{ id: number; tags: string[]; is_spam: boolean }> {
  const add = canonical(change.add);
  const remove = canonical(change.remove);
  if (add.some((n) => remove.some((r) => r.toLowerCase() === n.toLowerCase()))) {
    throw new AppError('validation_failed', 'a tag cannot be added and removed at once');
  }
  const before = await findMessage(deps.db, userId, id);
  const move = spamMove(add, remove, before);
  // Parsing is slow and needs no lock: done before the transaction takes the only connection.
  const tokens = move ? tokenize(await parseBlob(deps, before.blob_hash)) : [];
  const now = deps.clock.now().getTime();
  return deps.db.transaction(async (trx) => {
    const row = await findMessage(trx, userId, id);
    if (move === 'to_spam') remove.push('INBOX');
    if (move === 'to_ham') {
      remove.push('SPAM');
      add.push('INBOX');
    }
    const addIds = await tagIds(trx, userId, add, now);
    if (addIds.length) await trx('message_tags').insert(addIds.map((tag_id) => ({ message_id: id, tag_id }))).onConflict().ignore();
    await removeTags(trx, userId, id, remove);
    if (move) {
      const isSpam = move === 'to_spam';
      await trainSpam(trx, userId, tokens, isSpam, row.spam_trained);
      await trx('messages').where({ id }).update({ is_spam: isSpam, spam_trained: isSpam ? 'spam' : 'ham' });
    }
    await refreshDiscussion(trx, row.discussion_id);
    const tags = await messageTagNames(trx, [id]);
    return { id, tags: tags.get(id) ?? [], is_spam: move ? move === 'to_spam' : !!row.is_spam };
  });
}
