/**
 * One message as the reader sees it, and what the user does to it (read/unread, tags, SPAM).
 * The view is rebuilt from the raw blob on every read: the database keeps metadata, the immutable
 * file keeps the content, and the HTML is sanitized at the moment it is shown, with the rules
 * of today's sanitizer rather than those of the day the mail arrived.
 * Every function takes the user id and treats another user's message as missing.
 */
import type { Knex } from 'knex';
import type { Attachment, ParsedMail } from 'mailparser';
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { explainReason, piColour } from '../privacy/index.js';
import { addressesOf, parseMessage, userAttachments } from './parse.js';
import { fallbackParse } from './parse-fallback.js';
import { sanitizeHtml } from './sanitize.js';
import { remoteImagesFor, type RemoteImages } from './remote-content.js';
import type { User } from '../accounts/users.js';
import { refreshDiscussion } from './discussions.js';
import { messageTagNames } from './timeline.js';
import type { AuthResults, PiAxis, PiReason } from './types.js';

export type Lang = 'en' | 'fr';

export interface MessageRow {
  id: number;
  user_id: number;
  discussion_id: number;
  blob_hash: string;
  message_id: string | null;
  list_id: string | null;
  subject: string | null;
  date: number;
  is_read: number;
  is_spam: number;
  is_encrypted: number;
  is_signed: number;
  spam_score: number;
  spam_trained: 'spam' | 'ham' | null;
  importance: number;
  pi_score: number | null;
  pi_letter: string | null;
  auth_json: string | null;
  transport_json: string | null;
}

export async function findMessage(db: Knex, userId: number, id: number): Promise<MessageRow> {
  const row = await db<MessageRow>('messages').where({ id, user_id: userId }).first();
  if (!row) throw new AppError('message_not_found', `no message ${id}`);
  return row;
}

export async function parseBlob(deps: Deps, hash: string): Promise<ParsedMail> {
  const raw = await deps.blobs.get(hash);
  return parseMessage(raw).catch(() => fallbackParse(raw));
}

type AddressList = Array<{ address: string; name: string | null }>;

function headersOf(parsed: ParsedMail, row: MessageRow) {
  const all = addressesOf(parsed);
  const role = (r: string): AddressList => all.filter((a) => a.role === r).map(({ address, name }) => ({ address, name }));
  return {
    from: role('from'),
    to: role('to'),
    cc: role('cc'),
    reply_to: role('reply_to'),
    subject: parsed.subject ?? row.subject ?? '',
    date: new Date(row.date).toISOString(),
    message_id: row.message_id,
    list_id: row.list_id,
  };
}

async function piOf(db: Knex, row: MessageRow, lang: Lang) {
  const report = await db('pi_reports')
    .where({ user_id: row.user_id, object_type: 'message', object_id: row.id })
    .orderBy('computed_at', 'desc')
    .first('score', 'letter', 'axes_json', 'reasons_json');
  if (!report) return row.pi_score === null ? null : { score: row.pi_score, letter: row.pi_letter, colour: piColour(row.pi_score), axes: null, reasons: [] };
  const reasons = JSON.parse(report.reasons_json) as PiReason[];
  return {
    score: report.score as number,
    letter: report.letter as string,
    colour: piColour(report.score),
    axes: JSON.parse(report.axes_json) as Record<PiAxis, number>,
    reasons: reasons.map((r) => ({ signal: r.signal, axis: r.axis, points: r.points, detail: r.detail ?? null, help: explainReason(r.signal, lang) })),
  };
}

function attachmentList(parsed: ParsedMail) {
  return userAttachments(parsed).map((a, index) => ({
    index,
    filename: a.filename ?? null,
    contentType: a.contentType,
    size: a.size ?? a.content.length,
  }));
}

export interface ViewOptions {
  /** the user asked to see this message's remote images ("show images", this view only) */
  askedRemote: boolean;
  lang: Lang;
}

function senderOf(parsed: ParsedMail): string | null {
  return addressesOf(parsed).find((a) => a.role === 'from')?.address ?? null;
}

/** The message's own images (multipart/related parts with a Content-ID) as data: URLs, to resolve cid: links. */
const INLINE_IMAGE_MAX = 5 * 1024 * 1024;
function inlineImages(parsed: ParsedMail): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of parsed.attachments) {
    const type = a.contentType.toLowerCase();
    if (!a.cid || !/^image\/(?:png|gif|jpeg|webp)$/.test(type) || a.content.length > INLINE_IMAGE_MAX) continue;
    out.set(a.cid.replace(/^<|>$/g, ''), `data:${type};base64,${a.content.toString('base64')}`);
  }
  return out;
}

async function sanitizedBody(deps: Deps, user: User, parsed: ParsedMail, askedRemote: boolean) {
  if (typeof parsed.html !== 'string') return { html: null, blockedRemote: 0, remote: null as RemoteImages };
  const remote = await remoteImagesFor(deps.db, user, senderOf(parsed), askedRemote);
  const clean = sanitizeHtml(parsed.html, { allowRemote: remote !== null, inlineImages: inlineImages(parsed) });
  return { html: clean.html, blockedRemote: clean.blockedRemote, remote };
}

export async function getMessageView(deps: Deps, user: User, id: number, opts: ViewOptions) {
  const row = await findMessage(deps.db, user.id, id);
  const parsed = await parseBlob(deps, row.blob_hash);
  const body = await sanitizedBody(deps, user, parsed, opts.askedRemote);
  const auth = row.auth_json ? (JSON.parse(row.auth_json) as AuthResults) : null;
  const transport = row.transport_json ? (JSON.parse(row.transport_json) as { tls?: unknown }) : null;
  const [pi, tags] = await Promise.all([piOf(deps.db, row, opts.lang), messageTagNames(deps.db, [row.id])]);
  return {
    id: row.id,
    discussion_id: row.discussion_id,
    headers: headersOf(parsed, row),
    text: parsed.text ?? '',
    html: body.html,
    /** the HTML as its own document, for an iframe: GET it (add ?remote=1 for "show images") */
    body_url: body.html === null ? null : `/api/v1/messages/${row.id}/body`,
    blocked_remote: body.blockedRemote,
    /** why remote images are shown (asked, trusted sender, setting), or null when they are blocked */
    remote_images: body.remote,
    sender: senderOf(parsed),
    attachments: attachmentList(parsed),
    auth,
    auth_summary: auth?.summary ?? [],
    tls: transport?.tls ?? null,
    pi,
    tags: tags.get(row.id) ?? [],
    is_read: !!row.is_read,
    is_spam: !!row.is_spam,
    is_encrypted: !!row.is_encrypted,
    is_signed: !!row.is_signed,
    spam_score: row.spam_score,
    importance: row.importance,
  };
}

/** The sanitized HTML body as a whole document, and whether its remote images may load. */
export async function getMessageBodyDocument(deps: Deps, user: User, id: number, askedRemote: boolean): Promise<{ document: string; remote: boolean }> {
  const row = await findMessage(deps.db, user.id, id);
  const parsed = await parseBlob(deps, row.blob_hash);
  const body = await sanitizedBody(deps, user, parsed, askedRemote);
  const inner = body.html ?? `<pre>${escapeHtml(parsed.text ?? '')}</pre>`;
  return { document: frameDocument(inner, user.lang), remote: body.remote !== null };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** A readable default look; the mail's own inline styles come after and win. */
const FRAME_STYLE = 'body{margin:0.5rem;font:15px/1.45 system-ui,sans-serif;color:#1b1b1b;background:#fff;overflow-wrap:anywhere}img{max-width:100%;height:auto}pre{white-space:pre-wrap}';

function frameDocument(body: string, lang: string): string {
  return `<!doctype html><html lang="${lang === 'fr' ? 'fr' : 'en'}"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><style>${FRAME_STYLE}</style></head><body>${body}</body></html>`;
}

export async function getRaw(deps: Deps, userId: number, id: number): Promise<{ raw: Buffer; filename: string }> {
  const row = await findMessage(deps.db, userId, id);
  return { raw: await deps.blobs.get(row.blob_hash), filename: `message-${row.id}.eml` };
}

export async function getAttachment(deps: Deps, userId: number, id: number, index: number): Promise<Attachment> {
  const row = await findMessage(deps.db, userId, id);
  const attachment = userAttachments(await parseBlob(deps, row.blob_hash))[index];
  if (!attachment) throw new AppError('attachment_not_found', `message ${id} has no attachment ${index}`);
  return attachment;
}

export async function setRead(deps: Deps, userId: number, id: number, read: boolean): Promise<{ id: number; is_read: boolean; unread_count: number }> {
  return deps.db.transaction(async (trx) => {
    const row = await findMessage(trx, userId, id);
    await trx('messages').where({ id }).update({ is_read: read });
    await refreshDiscussion(trx, row.discussion_id);
    const d = await trx('discussions').where({ id: row.discussion_id }).first('unread_count');
    return { id, is_read: read, unread_count: d?.unread_count ?? 0 };
  });
}
