/**
 * The server's part of sending sealed mail and of reading it: the browser encrypts the inner MIME
 * (web/js/pgp/compose.js) and hands over only the armored OpenPGP message, which is wrapped here
 * as RFC 3156 multipart/encrypted with a neutral Subject ("...", the real one is inside) and sent
 * through the one send path. After the browser decrypted a message, the user may let the box
 * index its text (pgp_settings.index_decrypted, off by default: the box then holds the words).
 */
import crypto from 'node:crypto';
import type { Deps } from '../deps.js';
import type { Sender } from '../delivery/types.js';
import { AppError } from '../errors.js';
import { getUser } from '../accounts/users.js';
import { allowedSenders } from '../delivery/senders.js';
import { parseMailbox, type MailboxInput } from '../mail/compose.js';
import { indexMessagesText, removeFromIndex } from '../mail/search.js';
import { HIDDEN_SUBJECT } from '../../web/js/pgp/index.js';
import { openpgp } from './pgp.js';

export interface SealedSend {
  from?: string;
  to: MailboxInput[];
  cc?: MailboxInput[];
  bcc?: MailboxInput[];
  /** the armored OpenPGP message made by the browser */
  armored: string;
  /** the Message-ID the browser put in the protected headers, so both agree (without <>) */
  message_id?: string;
  in_reply_to?: string | null;
  references?: string[];
  discussion_id?: number;
}

const headerSafe = (s: string) => s.replace(/[\r\n<>\s]+/g, '');

/** A mailbox for a header line, with RFC 2047 for a non-ASCII name. */
function mailboxHeader(m: { name: string | null; address: string }): string {
  if (!m.name) return m.address;
  const name = /^[\x20-\x7e]*$/.test(m.name) ? `"${m.name.replace(/["\\]/g, '')}"` : `=?UTF-8?B?${Buffer.from(m.name, 'utf8').toString('base64')}?=`;
  return `${name} <${m.address}>`;
}

/** RFC 3156 §4: the version part, then the encrypted part. */
export function wrapPgpMime(headers: string[], armored: string): Buffer {
  const boundary = `=_sealed-${crypto.randomBytes(12).toString('hex')}`;
  const lines = [
    ...headers,
    'MIME-Version: 1.0',
    `Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${boundary}"`,
    '',
    'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)',
    `--${boundary}`,
    'Content-Type: application/pgp-encrypted',
    'Content-Description: PGP/MIME version identification',
    '',
    'Version: 1',
    '',
    `--${boundary}`,
    'Content-Type: application/octet-stream; name="encrypted.asc"',
    'Content-Description: OpenPGP encrypted message',
    'Content-Disposition: inline; filename="encrypted.asc"',
    '',
    armored.trim().replace(/\r?\n/g, '\r\n'),
    '',
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

async function checkEncrypted(armored: string): Promise<void> {
  try {
    const message = await openpgp.readMessage({ armoredMessage: armored });
    if (message.getEncryptionKeyIDs().length > 0) return;
  } catch {
    // reported below
  }
  throw new AppError('validation_failed', 'armored must be an encrypted OpenPGP message');
}

export async function sendSealed(deps: Deps, sender: Sender, userId: number, input: SealedSend) {
  await checkEncrypted(input.armored);
  const own = await allowedSenders(deps.readDb, userId);
  const fromAddress = (input.from ?? own[0] ?? '').toLowerCase();
  if (!own.includes(fromAddress)) throw new AppError('sender_not_allowed', `${input.from} is not one of your addresses`);
  const user = await getUser(deps.readDb, userId);
  const [to, cc, bcc] = [input.to, input.cc ?? [], input.bcc ?? []].map((list) => list.map(parseMailbox));
  if (!to!.length && !cc!.length && !bcc!.length) throw new AppError('no_recipients', 'add at least one recipient');
  const headers = [
    `From: ${mailboxHeader({ name: user.display_name, address: fromAddress })}`,
    ...(to!.length ? [`To: ${to!.map(mailboxHeader).join(', ')}`] : []),
    ...(cc!.length ? [`Cc: ${cc!.map(mailboxHeader).join(', ')}`] : []),
    `Subject: ${HIDDEN_SUBJECT}`,
    ...(input.message_id ? [`Message-ID: <${headerSafe(input.message_id)}>`] : []),
    ...(input.in_reply_to ? [`In-Reply-To: <${headerSafe(input.in_reply_to)}>`] : []),
    ...(input.references?.length ? [`References: ${input.references.map((r) => `<${headerSafe(r)}>`).join(' ')}`] : []),
  ];
  const raw = wrapPgpMime(headers, input.armored);
  const max = deps.config.smtp.maxMessageSize;
  if (raw.length > max) throw new AppError('message_too_big', `the message would be ${raw.length} bytes, more than ${max}`);
  const rcptTo = [...to!, ...cc!, ...bcc!].map((m) => m.address);
  const out = await sender.submit({ userId, raw, envelope: { mailFrom: fromAddress, rcptTo }, source: 'api', discussionId: input.discussion_id });
  return { messageId: out.messageId, discussionId: out.discussionId, headerMessageId: out.headerMessageId, queued: out.queued, local: out.local };
}

export async function pgpSettings(deps: Deps, userId: number): Promise<{ index_decrypted: boolean }> {
  const row = await deps.readDb('pgp_settings').where({ user_id: userId }).first('index_decrypted');
  return { index_decrypted: !!row?.index_decrypted };
}

export async function setPgpSettings(deps: Deps, userId: number, change: { index_decrypted: boolean }): Promise<{ index_decrypted: boolean }> {
  const row = { index_decrypted: change.index_decrypted, updated_at: deps.clock.now().getTime() };
  await deps.db('pgp_settings').insert({ user_id: userId, ...row }).onConflict('user_id').merge(row);
  return { index_decrypted: change.index_decrypted };
}

/** Replaces an encrypted message's index entry with its decrypted text, when the user allowed it. */
export async function indexDecrypted(deps: Deps, userId: number, messageId: number, doc: { subject?: string | null; text: string; attachments?: string[] }): Promise<void> {
  if (!(await pgpSettings(deps, userId)).index_decrypted) throw new AppError('indexing_disabled', 'turn on "let the box index decrypted messages" first');
  const row = await deps.db('messages').where({ id: messageId, user_id: userId }).first('id', 'subject', 'is_encrypted');
  if (!row) throw new AppError('message_not_found', `no message ${messageId}`);
  if (!row.is_encrypted) throw new AppError('validation_failed', 'only encrypted messages are indexed this way');
  const people: Array<{ address: string; name: string | null }> = await deps.db('participants').where({ message_id: messageId }).select('address', 'name');
  await deps.db.transaction(async (trx) => {
    await removeFromIndex(trx, messageId);
    await indexMessagesText(trx, [{
      id: messageId, subject: doc.subject ?? row.subject ?? '', body: doc.text,
      participants: people.map((p) => (p.name ? `${p.name} <${p.address}>` : p.address)).join(', '), attachments: (doc.attachments ?? []).join(' '),
    }]);
  });
}
