/**
 * The durable outbound queue. A message handed to the box becomes one outbound_messages row, one
 * outbound_queue row per recipient domain (the unit of delivery and retry) and one
 * outbound_recipients row per address, written in one transaction before the sender is told "queued".
 *
 * Lifecycle of a queue row: queued → delivering (claimed by the worker) → delivered | failed |
 * queued again (temporary failure, next_attempt_at set) | dropped (by an admin).
 * At-least-once edge: a row the worker claimed when the process died is 'delivering' at the next
 * start; it goes back to 'queued' (recoverInFlight) and is sent again, because we cannot know
 * whether the remote server got it. Only messages in flight at the crash can arrive twice.
 */
import type { Knex } from 'knex';
import type { RecipientResult } from './types.js';
import { AppError } from '../errors.js';

export type QueueStatus = 'queued' | 'delivering' | 'delivered' | 'failed' | 'dropped';

export interface NewOutbound {
  userId: number;
  blobHash: string;
  headerMessageId: string;
  mailFrom: string;
  source: 'api' | 'submission';
  now: number;
  expiresAt: number;
  /** recipient domain → addresses; `local` marks domains of this box (delivered through ingest) */
  domains: Array<{ domain: string; addresses: string[]; local: boolean }>;
  /** sent "as" this external account's address: every recipient through its server, then a copy in its Sent folder */
  viaAccountId?: number | null;
}

export async function enqueueOutbound(trx: Knex, o: NewOutbound): Promise<number> {
  const [outboundId] = (await trx('outbound_messages').insert({
    user_id: o.userId, blob_hash: o.blobHash, header_message_id: o.headerMessageId, mail_from: o.mailFrom,
    source: o.source, created_at: o.now,
    ...(o.viaAccountId ? { via_account_id: o.viaAccountId, sent_append: 'pending' } : {}),
  })) as number[];
  for (const d of o.domains) {
    const [queueId] = (await trx('outbound_queue').insert({
      outbound_id: outboundId, domain: d.domain, status: 'queued', attempts: 0, next_attempt_at: o.now,
      expires_at: o.expiresAt, route: d.local ? 'local' : null, created_at: o.now,
    })) as number[];
    await trx('outbound_recipients').insert(d.addresses.map((address) => ({ queue_id: queueId, address, status: 'pending', updated_at: o.now })));
  }
  return outboundId!;
}

export interface ClaimedItem {
  queueId: number;
  outboundId: number;
  userId: number;
  messageId: number | null;
  domain: string;
  local: boolean;
  attempts: number;
  createdAt: number;
  expiresAt: number;
  delayNotified: boolean;
  blobHash: string;
  headerMessageId: string;
  mailFrom: string;
  recipients: string[];
  /** sent "as" an external account's address: leaves through that account's server */
  viaAccountId: number | null;
}

/** Takes up to `limit` due rows and marks them delivering, in one statement per step. */
export async function claimDue(db: Knex, now: number, limit: number): Promise<ClaimedItem[]> {
  return db.transaction(async (trx) => {
    const rows = (await trx.raw(
      `UPDATE outbound_queue SET status = 'delivering', last_attempt_at = ?
       WHERE id IN (SELECT id FROM outbound_queue WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?)
       RETURNING id`,
      [now, now, limit],
    )) as Array<{ id: number }>;
    if (!rows.length) return [];
    const ids = rows.map((r) => r.id);
    const items = (await trx('outbound_queue as q')
      .join('outbound_messages as o', 'o.id', 'q.outbound_id')
      .whereIn('q.id', ids)
      .orderBy('q.id')
      .select(
        'q.id as queueId', 'q.outbound_id as outboundId', 'o.user_id as userId', 'o.message_id as messageId', 'q.domain', 'q.route',
        'q.attempts', 'q.created_at as createdAt', 'q.expires_at as expiresAt', 'q.delay_notified as delayNotified',
        'o.blob_hash as blobHash', 'o.header_message_id as headerMessageId', 'o.mail_from as mailFrom', 'o.via_account_id as viaAccountId',
      )) as Array<Omit<ClaimedItem, 'recipients' | 'local'> & { route: string | null }>;
    const rcpts = (await trx('outbound_recipients').whereIn('queue_id', ids).andWhere({ status: 'pending' }).orderBy('id').select('queue_id', 'address')) as Array<{ queue_id: number; address: string }>;
    const byQueue = new Map<number, string[]>();
    for (const r of rcpts) byQueue.set(r.queue_id, [...(byQueue.get(r.queue_id) ?? []), r.address]);
    return items.map(({ route, ...i }) => ({ ...i, local: route === 'local', delayNotified: !!i.delayNotified, recipients: byQueue.get(i.queueId) ?? [] }));
  });
}

/** After a crash, rows that were being delivered are due again (the at-least-once edge). */
export async function recoverInFlight(db: Knex, now: number): Promise<number> {
  return db('outbound_queue').where({ status: 'delivering' }).update({ status: 'queued', next_attempt_at: now });
}

export interface AttemptOutcome {
  item: ClaimedItem;
  results: RecipientResult[];
  now: number;
  /** next try when some recipients failed temporarily; null when they are now final (expired) */
  nextAttemptAt: number | null;
  travelJson: string | null;
  delayNotified: boolean;
}

/** Writes what one attempt learnt; returns the row's new status. */
export async function recordAttempt(trx: Knex, o: AttemptOutcome): Promise<QueueStatus> {
  return (await recordAttempts(trx, [o]))[0]!;
}

const CHUNK = 400;
function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `UPDATE … FROM (VALUES …)`: many rows changed in one statement (SQLite ≥ 3.33). */
async function updateFromValues(trx: Knex, sql: (values: string) => string, rows: Knex.Value[][]): Promise<void> {
  for (const chunk of chunks(rows)) {
    const tuple = `(${chunk[0]!.map(() => '?').join(', ')})`;
    await trx.raw(sql(chunk.map(() => tuple).join(', ')), chunk.flat());
  }
}

/**
 * Writes what a batch of attempts learnt (one statement per table, not per message: the delivery
 * worker records hundreds per group commit); returns each queue row's new status.
 */
export async function recordAttempts(trx: Knex, outcomes: AttemptOutcome[]): Promise<QueueStatus[]> {
  const final = (o: AttemptOutcome, r: RecipientResult) =>
    r.status === 'delivered' ? 'delivered' : r.status === 'perm_fail' || o.nextAttemptAt === null ? 'failed' : 'pending';
  await updateFromValues(
    trx,
    (values) => `UPDATE outbound_recipients SET status = v.column3, code = v.column4, response = v.column5, updated_at = v.column6
      FROM (VALUES ${values}) AS v
      WHERE outbound_recipients.queue_id = v.column1 AND outbound_recipients.address = v.column2 AND outbound_recipients.status = 'pending'`,
    outcomes.flatMap((o) => o.results.map((r) => [o.item.queueId, r.address, final(o, r), r.code, r.response.slice(0, 1000), o.now])),
  );
  const delivered = new Set<number>();
  for (const ids of chunks(outcomes.map((o) => o.item.queueId))) {
    const rows = (await trx('outbound_recipients').whereIn('queue_id', ids).andWhere({ status: 'delivered' }).distinct('queue_id')) as Array<{ queue_id: number }>;
    for (const r of rows) delivered.add(r.queue_id);
  }
  const statuses = outcomes.map((o): QueueStatus => {
    const pending = o.results.some((r) => r.status === 'temp_fail') && o.nextAttemptAt !== null;
    return pending ? 'queued' : delivered.has(o.item.queueId) ? 'delivered' : 'failed';
  });
  await updateFromValues(
    trx,
    (values) => `UPDATE outbound_queue SET status = v.column2, attempts = v.column3, last_attempt_at = v.column4, next_attempt_at = v.column5,
        last_error = v.column6, delay_notified = v.column7, tls_json = coalesce(v.column8, outbound_queue.tls_json)
      FROM (VALUES ${values}) AS v WHERE outbound_queue.id = v.column1`,
    outcomes.map((o, i) => {
      const lastError = o.results.find((r) => r.status !== 'delivered');
      return [
        o.item.queueId, statuses[i], o.item.attempts + 1, o.now, statuses[i] === 'queued' ? o.nextAttemptAt : o.now,
        lastError ? `${lastError.code ?? ''} ${lastError.response}`.trim().slice(0, 1000) : null, o.delayNotified ? 1 : 0, o.travelJson,
      ];
    }),
  );
  return statuses;
}

export interface QueueRow {
  id: number;
  outboundId: number;
  user: string;
  domain: string;
  status: QueueStatus;
  attempts: number;
  nextAttemptAt: number;
  expiresAt: number;
  lastError: string | null;
  createdAt: number;
  subjectMessageId: string;
  recipients: Array<{ address: string; status: string; code: string | null }>;
}

export async function listQueue(db: Knex, filter: { userId?: number; status?: QueueStatus | 'active'; limit?: number } = {}): Promise<QueueRow[]> {
  const q = db('outbound_queue as q')
    .join('outbound_messages as o', 'o.id', 'q.outbound_id')
    .join('users as u', 'u.id', 'o.user_id')
    .orderBy('q.id', 'desc')
    .limit(filter.limit ?? 100)
    .select(
      'q.id', 'q.outbound_id as outboundId', 'u.username as user', 'q.domain', 'q.status', 'q.attempts',
      'q.next_attempt_at as nextAttemptAt', 'q.expires_at as expiresAt', 'q.last_error as lastError', 'q.created_at as createdAt',
      'o.header_message_id as subjectMessageId',
    );
  if (filter.userId !== undefined) q.where('o.user_id', filter.userId);
  if (filter.status === 'active') q.whereIn('q.status', ['queued', 'delivering']);
  else if (filter.status) q.where('q.status', filter.status);
  const rows = (await q) as Array<Omit<QueueRow, 'recipients'>>;
  const rcpts = rows.length
    ? ((await db('outbound_recipients').whereIn('queue_id', rows.map((r) => r.id)).orderBy('id').select('queue_id', 'address', 'status', 'code')) as Array<{ queue_id: number; address: string; status: string; code: string | null }>)
    : [];
  return rows.map((r) => ({ ...r, recipients: rcpts.filter((x) => x.queue_id === r.id).map(({ queue_id: _q, ...x }) => x) }));
}

async function queueRowOf(db: Knex, id: number, userId?: number): Promise<{ id: number; status: QueueStatus; expires_at: number }> {
  const q = db('outbound_queue as q').join('outbound_messages as o', 'o.id', 'q.outbound_id').where('q.id', id).first('q.id', 'q.status', 'q.expires_at');
  if (userId !== undefined) q.andWhere('o.user_id', userId);
  const row = await q;
  if (!row) throw new AppError('queue_item_not_found', `no queue item ${id}`);
  return row;
}

/** Try now. A failed row gets its failed recipients back and one more day before it expires. */
export async function retryQueueItem(db: Knex, id: number, now: number, userId?: number): Promise<void> {
  const row = await queueRowOf(db, id, userId);
  if (row.status === 'delivered' || row.status === 'dropped' || row.status === 'delivering') {
    throw new AppError('bad_request', `queue item ${id} is ${row.status}: nothing to retry`);
  }
  await db.transaction(async (trx) => {
    if (row.status === 'failed') await trx('outbound_recipients').where({ queue_id: id, status: 'failed' }).update({ status: 'pending', updated_at: now });
    await trx('outbound_queue').where({ id }).update({ status: 'queued', next_attempt_at: now, expires_at: Math.max(row.expires_at, now + 86_400_000) });
  });
}

/** Stop trying (no notice to the sender: the admin or the sender chose it). */
export async function dropQueueItem(db: Knex, id: number, now: number, userId?: number): Promise<void> {
  const row = await queueRowOf(db, id, userId);
  if (row.status !== 'queued' && row.status !== 'failed') throw new AppError('bad_request', `queue item ${id} is ${row.status}: it cannot be dropped`);
  await db.transaction(async (trx) => {
    await trx('outbound_recipients').where({ queue_id: id, status: 'pending' }).update({ status: 'failed', response: 'dropped from the queue', updated_at: now });
    await trx('outbound_queue').where({ id }).update({ status: 'dropped', last_error: 'dropped from the queue' });
  });
}

/**
 * The Sent-folder copy of a message sent "as" an external address is made once, after its first
 * delivery: true for the one caller that takes it (pending → appending).
 */
export async function claimSentAppend(db: Knex, outboundId: number): Promise<boolean> {
  return (await db('outbound_messages').where({ id: outboundId, sent_append: 'pending' }).update({ sent_append: 'appending' })) > 0;
}

export async function settleSentAppend(db: Knex, outboundId: number, error: string | null): Promise<void> {
  await db('outbound_messages').where({ id: outboundId }).update({ sent_append: error ? 'failed' : 'done', sent_append_error: error });
}

/** At start: copies a crash kept from their Sent folder (delivered, but the append never finished). */
export async function unfinishedSentAppends(db: Knex): Promise<Array<{ outboundId: number; accountId: number; blobHash: string; createdAt: number }>> {
  await db('outbound_messages').where({ sent_append: 'appending' }).update({ sent_append: 'pending' });
  return db('outbound_messages as o')
    .where('o.sent_append', 'pending')
    .whereExists((q) => q.select(db.raw('1')).from('outbound_queue as q').join('outbound_recipients as r', 'r.queue_id', 'q.id').whereRaw('q.outbound_id = o.id').andWhere('r.status', 'delivered'))
    .select('o.id as outboundId', 'o.via_account_id as accountId', 'o.blob_hash as blobHash', 'o.created_at as createdAt');
}
