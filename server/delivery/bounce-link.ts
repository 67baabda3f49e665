/**
 * Linking an incoming bounce to what it bounces: the user's sent message named by the report's
 * original Message-ID (outbound_messages.header_message_id, else a message of the user's own in
 * messages), its discussion, and its outbound_recipients rows.
 *
 * Only messages the user sent count: a forged "bounce" about a message the user never wrote (spam
 * backscatter) links to nothing and is scored like any other mail.
 */
import type { Knex } from 'knex';
import type { Deps } from '../deps.js';
import type { BounceReport } from './bounce-parse.js';
import { userAddresses } from '../accounts/users.js';

export interface BounceOrigin {
  /** the discussion of the sent message; null while its Sent copy is not stored yet */
  discussionId: number | null;
  /** the outbound message, when the box sent it (not for imported mail) */
  outboundId: number | null;
}

/** The user's sent message this report is about, or null. Reads only. */
export async function findBounced(db: Knex, userId: number, report: BounceReport): Promise<BounceOrigin | null> {
  const id = report.originalMessageId;
  if (!id) return null;
  const outbound = (await db('outbound_messages as o')
    .leftJoin('messages as m', 'm.id', 'o.message_id')
    .where({ 'o.user_id': userId, 'o.header_message_id': id })
    .orderBy('o.id', 'desc')
    .first('o.id', 'm.discussion_id')) as { id: number; discussion_id: number | null } | undefined;
  if (outbound) return { discussionId: outbound.discussion_id ?? null, outboundId: outbound.id };
  // Mail the user sent before the box sent mail, or from another client (imported Sent folders).
  const own = await userAddresses(db, userId);
  const sent = (await db('messages')
    .where({ user_id: userId, message_id: id })
    .andWhere((q) => {
      q.where({ source: 'sent' });
      if (own.length) q.orWhereIn('from_address', own);
    })
    .orderBy('id', 'desc')
    .first('discussion_id')) as { discussion_id: number } | undefined;
  return sent ? { discussionId: sent.discussion_id, outboundId: null } : null;
}

/**
 * Marks the recipients the report says failed as 'bounced', with the remote reply. Only rows the
 * queue considers delivered change: a remote server (or the relay) accepted the message and
 * returned it later. Rows still pending belong to the delivery worker, failed ones are already
 * known; a delay report changes nothing. Returns the number of rows marked.
 */
export async function markBounced(db: Knex, origin: BounceOrigin, report: BounceReport, now: Date): Promise<number> {
  if (origin.outboundId === null) return 0;
  const failed = report.recipients.filter((r) => r.action === 'failed');
  if (!failed.length) return 0;
  let marked = 0;
  for (const r of failed) {
    const code = [r.code, r.status].filter(Boolean).join(' ') || null;
    marked += await db('outbound_recipients')
      .whereIn('queue_id', db('outbound_queue').where({ outbound_id: origin.outboundId }).select('id'))
      .whereRaw('lower(address) = ?', [r.address.toLowerCase()])
      .where({ status: 'delivered' })
      .update({ status: 'bounced', code, response: (r.diagnostic ?? 'returned by the remote server').slice(0, 2000), updated_at: now.getTime() });
  }
  return marked;
}

/** Finds what a bounce is about and marks its failed recipients; the discussion to file it in, or null. */
export async function linkBounce(deps: Deps, userId: number, report: BounceReport): Promise<{ discussionId: number } | null> {
  const origin = await findBounced(deps.readDb, userId, report);
  if (!origin) return null;
  await markBounced(deps.db, origin, report, deps.clock.now());
  return origin.discussionId === null ? null : { discussionId: origin.discussionId };
}
