/**
 * Drafts: a new discussion or a reply being written, autosaved field by field, with attachments
 * whose bytes live in the blob store; and sending one, which composes the MIME (compose.ts) and
 * hands it to the Sender. It is not in charge of delivery, the Sent copy or rate limits: the Sender
 * is. Every function takes the user id and treats another user's draft as missing.
 */
import type { Knex } from 'knex';
import type { Deps } from '../deps.js';
import type { Sender } from '../delivery/types.js';
import { AppError } from '../errors.js';
import { getUser, normalizeAddress, userAddresses } from '../accounts/users.js';
import { sha256 } from '../store/blobs.js';
import { allowedSenders } from '../delivery/senders.js';
import { attachmentContentType, attachmentFilename, composeMessage, domainOf, isEmailAddress, parseMailbox, quoteReply, replySubject, type Mailbox, type MailboxInput } from './compose.js';
import { findMessage, parseBlob } from './messages.js';
import { addressesOf, type AddressEntry } from './parse.js';

interface DraftRow {
  id: number;
  user_id: number;
  discussion_id: number | null;
  parent_message_id: number | null;
  from_address: string;
  to_json: string;
  cc_json: string;
  bcc_json: string;
  subject: string;
  body_text: string;
  in_reply_to: string | null;
  references_json: string;
  created_at: number;
  updated_at: number;
}

interface AttachmentRow {
  id: number;
  draft_id: number;
  filename: string;
  content_type: string;
  size: number;
  blob_hash: string;
}

/** The fields a user edits; on update only those given change (PATCH). */
export interface DraftFields {
  from?: string;
  to?: MailboxInput[];
  cc?: MailboxInput[];
  bcc?: MailboxInput[];
  subject?: string;
  body?: string;
}

export interface NewDraft extends DraftFields {
  /** the message answered: recipients, subject, quote, threading and discussion come from it */
  replyTo?: number;
  replyAll?: boolean;
}

export interface NewAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

const MAX_LISTED = 500;

const nowOf = (deps: Deps) => deps.clock.now().getTime();

async function findDraft(db: Knex, userId: number, id: number): Promise<DraftRow> {
  const row = await db<DraftRow>('drafts').where({ id, user_id: userId }).first();
  if (!row) throw new AppError('draft_not_found', `no draft ${id}`);
  return row;
}

/**
 * The From of a draft must be one of the user's own addresses, or the address of one of their
 * external accounts that has a sending server, as stored (lower-case).
 */
async function allowedFrom(db: Knex, userId: number, from: string | undefined): Promise<string> {
  const own = await allowedSenders(db, userId);
  if (!own.length) throw new AppError('sender_not_allowed', 'this account has no address to send from');
  if (from === undefined) return own[0]!;
  const wanted = normalizeAddress(from);
  if (!own.includes(wanted)) throw new AppError('sender_not_allowed', `${JSON.stringify(from.slice(0, 200))} is not one of your addresses`);
  return wanted;
}

const mailboxesJson = (list: MailboxInput[]) => JSON.stringify(list.map(parseMailbox));
const mailboxesOf = (json: string) => JSON.parse(json) as Mailbox[];

/** Field changes as columns; addresses are checked here so a bad one never reaches the table. */
async function columnsOf(db: Knex, userId: number, f: DraftFields): Promise<Partial<DraftRow>> {
  const c: Partial<DraftRow> = {};
  if (f.from !== undefined) c.from_address = await allowedFrom(db, userId, f.from);
  if (f.to !== undefined) c.to_json = mailboxesJson(f.to);
  if (f.cc !== undefined) c.cc_json = mailboxesJson(f.cc);
  if (f.bcc !== undefined) c.bcc_json = mailboxesJson(f.bcc);
  if (f.subject !== undefined) c.subject = f.subject;
  if (f.body !== undefined) c.body_text = f.body;
  return c;
}

/** Distinct usable addresses, without the user's own, in order. */
function others(list: AddressEntry[], exclude: Set<string>): Mailbox[] {
  const out: Mailbox[] = [];
  for (const a of list) {
    const key = normalizeAddress(a.address);
    if (exclude.has(key) || !isEmailAddress(a.address)) continue;
    exclude.add(key);
    out.push({ name: a.name || null, address: a.address });
  }
  return out;
}

/**
 * What a reply takes from its parent. Reply goes to Reply-To, else From (RFC 5322 §3.6.2); to the
 * parent's recipients when the parent was the user's own message. Reply-all adds the parent's To
 * and Cc. The From is the address of the user the parent was written to, else the primary one.
 */
async function replyColumns(deps: Deps, userId: number, parentId: number, all: boolean): Promise<Partial<DraftRow>> {
  // findMessage reads the whole row; its type only names the columns the reader needs.
  const parent = (await findMessage(deps.db, userId, parentId)) as Awaited<ReturnType<typeof findMessage>> & { in_reply_to: string | null; references_json: string };
  const parsed = await parseBlob(deps, parent.blob_hash);
  const own = await userAddresses(deps.db, userId);
  const addrs = addressesOf(parsed);
  const role = (r: AddressEntry['role']) => addrs.filter((a) => a.role === r);
  const isOwn = (a: AddressEntry) => own.includes(normalizeAddress(a.address));
  let direct = role('reply_to').length ? role('reply_to') : role('from');
  if (direct.length && direct.every(isOwn)) direct = role('to');
  const exclude = new Set(own);
  const to = others(all ? [...direct, ...role('to')] : direct, exclude);
  const cc = all ? others(role('cc'), exclude) : [];
  const addressedTo = [...role('to'), ...role('cc'), ...role('bcc')].find(isOwn);
  const user = await getUser(deps.db, userId);
  const author = role('from')[0];
  const references = (JSON.parse(parent.references_json) as string[]).filter((r) => r !== parent.message_id);
  return {
    discussion_id: parent.discussion_id,
    parent_message_id: parent.id,
    from_address: addressedTo ? normalizeAddress(addressedTo.address) : own[0],
    to_json: JSON.stringify(to),
    cc_json: JSON.stringify(cc),
    subject: replySubject(parent.subject ?? parsed.subject),
    body_text: quoteReply({
      text: parsed.text ?? '',
      author: author?.name || author?.address || '?',
      date: new Date(parent.date),
      lang: user.lang === 'fr' ? 'fr' : 'en',
      timezone: user.timezone,
    }),
    in_reply_to: parent.message_id,
    // RFC 5322 §3.6.4: the parent's References (else its In-Reply-To), then the parent's Message-ID.
    references_json: JSON.stringify([...(references.length ? references : parent.in_reply_to ? [parent.in_reply_to] : []), ...(parent.message_id ? [parent.message_id] : [])]),
  };
}

export async function createDraft(deps: Deps, userId: number, input: NewDraft) {
  const now = nowOf(deps);
  const base: Partial<DraftRow> = { from_address: await allowedFrom(deps.db, userId, undefined) };
  const reply = input.replyTo !== undefined ? await replyColumns(deps, userId, input.replyTo, !!input.replyAll) : {};
  const fields = await columnsOf(deps.db, userId, input);
  const [id] = await deps.db('drafts').insert({ ...base, ...reply, ...fields, user_id: userId, created_at: now, updated_at: now });
  return getDraft(deps, userId, Number(id));
}

/** Autosave: only the fields given change, and updated_at moves. */
export async function updateDraft(deps: Deps, userId: number, draftId: number, fields: DraftFields) {
  await findDraft(deps.db, userId, draftId);
  const changes = await columnsOf(deps.db, userId, fields);
  await deps.db('drafts').where({ id: draftId, user_id: userId }).update({ ...changes, updated_at: nowOf(deps) });
  return getDraft(deps, userId, draftId);
}

function present(row: DraftRow) {
  return {
    id: row.id,
    discussion_id: row.discussion_id,
    parent_message_id: row.parent_message_id,
    from: row.from_address,
    to: mailboxesOf(row.to_json),
    cc: mailboxesOf(row.cc_json),
    bcc: mailboxesOf(row.bcc_json),
    subject: row.subject,
    in_reply_to: row.in_reply_to,
    references: JSON.parse(row.references_json) as string[],
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

const presentAttachment = (a: AttachmentRow) => ({ id: a.id, filename: a.filename, content_type: a.content_type, size: a.size });

export async function getDraft(deps: Deps, userId: number, draftId: number) {
  const row = await findDraft(deps.db, userId, draftId);
  const atts = await deps.db<AttachmentRow>('draft_attachments').where({ draft_id: draftId }).orderBy('id');
  return { ...present(row), body: row.body_text, attachments: atts.map(presentAttachment) };
}

/** The user's drafts, most recently edited first, each with an excerpt and its attachment count. */
export async function listDrafts(deps: Deps, userId: number) {
  const rows = await deps.db('drafts as d')
    .where('d.user_id', userId)
    .orderBy([{ column: 'd.updated_at', order: 'desc' }, { column: 'd.id', order: 'desc' }])
    .limit(MAX_LISTED)
    .select('d.*', deps.db.raw('(SELECT count(*) FROM draft_attachments a WHERE a.draft_id = d.id) AS attachment_count'));
  return (rows as Array<DraftRow & { attachment_count: number }>).map((r) => ({
    ...present(r),
    excerpt: r.body_text.replace(/\s+/g, ' ').trim().slice(0, 200),
    attachment_count: Number(r.attachment_count),
  }));
}

export async function discardDraft(deps: Deps, userId: number, draftId: number): Promise<void> {
  await findDraft(deps.db, userId, draftId);
  const hashes = await deps.db('draft_attachments').where({ draft_id: draftId }).pluck('blob_hash');
  await deps.db.transaction(async (trx) => {
    await trx('draft_attachments').where({ draft_id: draftId }).delete();
    await trx('drafts').where({ id: draftId, user_id: userId }).delete();
  });
  await releaseBlobs(deps, hashes);
}

// Blobs are shared by content: a file is removed only once nothing points at it, and the check and
// the removal must not interleave with an upload of the same bytes (put, then the row) in this process.
const blobLocks = new WeakMap<object, Map<string, Promise<unknown>>>();

async function withBlobLock<T>(deps: Deps, hash: string, fn: () => Promise<T>): Promise<T> {
  let locks = blobLocks.get(deps.blobs);
  if (!locks) blobLocks.set(deps.blobs, (locks = new Map()));
  const prev = locks.get(hash) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(hash, tail);
  void tail.then(() => locks.get(hash) === tail && locks.delete(hash));
  return run;
}

async function releaseBlobs(deps: Deps, hashes: string[]): Promise<void> {
  for (const hash of new Set(hashes)) {
    await withBlobLock(deps, hash, async () => {
      for (const table of ['draft_attachments', 'messages', 'outbound_messages']) {
        if (await deps.db(table).where({ blob_hash: hash }).first(deps.db.raw('1'))) return;
      }
      await deps.blobs.remove(hash);
    });
  }
}

export async function addDraftAttachment(deps: Deps, userId: number, draftId: number, file: NewAttachment) {
  await findDraft(deps.db, userId, draftId);
  const max = deps.config.smtp.maxMessageSize;
  if (file.content.length > max) throw new AppError('message_too_big', `attachments may total at most ${max} bytes`);
  const hash = sha256(file.content);
  const id = await withBlobLock(deps, hash, async () => {
    await deps.blobs.put(file.content);
    return deps.db.transaction(async (trx) => {
      const used = await trx('draft_attachments').where({ draft_id: draftId }).sum({ total: 'size' }).first();
      if (Number(used?.total ?? 0) + file.content.length > max) throw new AppError('message_too_big', `attachments may total at most ${max} bytes`);
      const now = nowOf(deps);
      const [newId] = await trx('draft_attachments').insert({
        draft_id: draftId, filename: attachmentFilename(file.filename), content_type: attachmentContentType(file.contentType),
        size: file.content.length, blob_hash: hash, created_at: now,
      });
      await trx('drafts').where({ id: draftId }).update({ updated_at: now });
      return Number(newId);
    });
  }).catch(async (err) => {
    await releaseBlobs(deps, [hash]);
    throw err;
  });
  const row = await deps.db<AttachmentRow>('draft_attachments').where({ id }).first();
  return presentAttachment(row!);
}

/** One attachment's bytes (the composer seals files the draft already holds). */
export async function getDraftAttachment(deps: Deps, userId: number, draftId: number, attachmentId: number): Promise<{ filename: string; contentType: string; content: Buffer }> {
  await findDraft(deps.db, userId, draftId);
  const att = await deps.db<AttachmentRow>('draft_attachments').where({ id: attachmentId, draft_id: draftId }).first();
  if (!att) throw new AppError('attachment_not_found', `draft ${draftId} has no attachment ${attachmentId}`);
  return { filename: att.filename, contentType: att.content_type, content: await deps.blobs.get(att.blob_hash) };
}

export async function removeDraftAttachment(deps: Deps, userId: number, draftId: number, attachmentId: number): Promise<void> {
  await findDraft(deps.db, userId, draftId);
  const att = await deps.db<AttachmentRow>('draft_attachments').where({ id: attachmentId, draft_id: draftId }).first();
  if (!att) throw new AppError('attachment_not_found', `draft ${draftId} has no attachment ${attachmentId}`);
  await deps.db.transaction(async (trx) => {
    await trx('draft_attachments').where({ id: attachmentId }).delete();
    await trx('drafts').where({ id: draftId }).update({ updated_at: nowOf(deps) });
  });
  await releaseBlobs(deps, [att.blob_hash]);
}

// Two clicks on Send must not send twice: a draft being sent is, for a second request, gone already.
const sending = new WeakMap<object, Set<number>>();

/** Composes the draft, hands it to the Sender, and deletes it once the Sender has taken it. */
export async function sendDraft(deps: Deps, sender: Sender, userId: number, draftId: number) {
  let inFlight = sending.get(deps.db);
  if (!inFlight) sending.set(deps.db, (inFlight = new Set()));
  if (inFlight.has(draftId)) throw new AppError('draft_not_found', `draft ${draftId} is already being sent`);
  inFlight.add(draftId);
  try {
    const draft = await findDraft(deps.db, userId, draftId);
    const [to, cc, bcc] = [mailboxesOf(draft.to_json), mailboxesOf(draft.cc_json), mailboxesOf(draft.bcc_json)];
    if (!to.length && !cc.length && !bcc.length) throw new AppError('no_recipients', 'add at least one recipient');
    const fromAddress = await allowedFrom(deps.db, userId, draft.from_address);
    const user = await getUser(deps.db, userId);
    const atts = await deps.db<AttachmentRow>('draft_attachments').where({ draft_id: draftId }).orderBy('id');
    const attachments = await Promise.all(atts.map(async (a) => ({ filename: a.filename, contentType: a.content_type, content: await deps.blobs.get(a.blob_hash) })));
    const composed = await composeMessage({
      from: { name: user.display_name, address: fromAddress },
      to, cc, bcc,
      subject: draft.subject,
      text: draft.body_text,
      attachments,
      inReplyTo: draft.in_reply_to,
      references: JSON.parse(draft.references_json) as string[],
      messageIdDomain: domainOf(fromAddress),
      date: deps.clock.now(),
    });
    const max = deps.config.smtp.maxMessageSize;
    if (composed.raw.length > max) throw new AppError('message_too_big', `the message would be ${composed.raw.length} bytes, more than ${max}`);
    const outcome = await sender.submit({ userId, raw: composed.raw, envelope: composed.envelope, source: 'api', discussionId: draft.discussion_id ?? undefined });
    await discardDraft(deps, userId, draftId);
    return { messageId: outcome.messageId, discussionId: outcome.discussionId, headerMessageId: outcome.headerMessageId, queued: outcome.queued, local: outcome.local };
  } finally {
    inFlight.delete(draftId);
  }
}
