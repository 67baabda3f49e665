/**
 * The one send path, behind the API's "send" and SMTP submission:
 *   check (rate limit, sender identity, recipients) → Message-ID/Date if missing → DKIM-sign →
 *   raw file fsynced → queue rows committed (group commit) → the Sent copy in its discussion.
 * Every recipient, local or remote, becomes a queue row: the worker delivers local ones through
 * ingest and remote ones over SMTP, so an accepted message survives a crash either way.
 * When the process dies between the queue commit and the Sent copy, recoverSentCopies() stores
 * the copy at the next start (outbound_messages.message_id is null until then).
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Deps } from '../deps.js';
import type { Ingestor } from '../mail/ingest.js';
import type { OutgoingMessage, SendOutcome, Sender } from './types.js';
import { AppError } from '../errors.js';
import { classifyRecipient, normalizeAddress, userAddresses } from '../accounts/users.js';
import { isEmailAddress, domainOf } from '../mail/address-syntax.js';
import { checkSendRate } from './rate-limit.js';
import { enqueueOutbound, type NewOutbound } from './queue.js';
import { createCommitQueue } from '../mail/commit-queue.js';
import { linkSentCopy } from './sent-pi.js';
import type { DkimSigner } from './dkim.js';
import { withoutFields } from '../mail/header-lines.js';
import { withAutocryptHeader } from '../crypto/outgoing.js';
import { sendAsAddresses } from '../imap-import/account-store.js';

export interface SenderHooks {
  /** called once the queue rows are committed and the Sent copy stored (or failed): wakes the delivery worker */
  onQueued(): void;
}

export function createSender(deps: Deps, ingestor: Ingestor, signer: DkimSigner, hooks: SenderHooks): Sender {
  const queue = createCommitQueue(deps.db, async (trx, items: NewOutbound[]) => {
    const ids: number[] = [];
    for (const o of items) ids.push(await enqueueOutbound(trx, o));
    return ids;
  });

  return {
    async submit(msg: OutgoingMessage): Promise<SendOutcome> {
      const now = deps.clock.now().getTime();
      const cfg = deps.config.delivery;
      await checkSendRate(deps.readDb, msg.userId, now, { perHour: cfg.rateLimitPerHour, perDay: cfg.rateLimitPerDay });
      const mailFrom = normalizeAddress(msg.envelope.mailFrom);
      const own = await userAddresses(deps.readDb, msg.userId);
      // an address of an external account with its own sending server: the message leaves through that server
      const viaAccountId = own.includes(mailFrom) ? null : (await sendAsAddresses(deps.readDb, msg.userId)).get(mailFrom) ?? null;
      if (!own.includes(mailFrom) && !viaAccountId) throw new AppError('sender_not_allowed', `${msg.envelope.mailFrom} is not one of your addresses`);
      const recipients = await classify(deps.readDb, msg.envelope.rcptTo);
      const headed = withRequiredHeaders(await withAutocryptHeader(deps.readDb, msg.raw, own), domainOf(mailFrom), deps.clock.now());
      // sent "as" an external address, the DKIM signature is that provider's to make, not ours
      const signed = viaAccountId ? headed.raw : await signer.sign(headed.raw, domainOf(mailFrom));
      const blob = await deps.blobs.put(signed);
      // sent "as": one transaction with every recipient, as a mail program would hand it to that server
      const domains = viaAccountId ? [{ domain: domainOf(mailFrom), addresses: recipients.map((r) => r.address), local: false }] : groupByDomain(recipients);
      const outboundId = await queue.submit({
        userId: msg.userId, blobHash: blob.hash, headerMessageId: headed.messageId, mailFrom, source: msg.source, now,
        expiresAt: now + cfg.maxAgeHours * 3_600_000, domains, viaAccountId,
      });
      const remote = domains.filter((d) => !d.local).flatMap((d) => d.addresses);
      const local = domains.filter((d) => d.local).flatMap((d) => d.addresses);
      // the Sent copy first, then the worker: its delivery report then finds the copy to re-score
      const copy = await storeSentCopy(deps, ingestor, { outboundId, userId: msg.userId, raw: signed, stored: blob, mailFrom, rcptTo: recipients.map((r) => r.address), remote: remote.length > 0, discussionId: msg.discussionId })
        .finally(() => hooks.onQueued());
      return { outboundId, messageId: copy.messageId, discussionId: copy.discussionId, headerMessageId: headed.messageId, local, queued: remote };
    },
  };
}

interface Recipient {
  address: string;
  local: boolean;
}

async function classify(db: Knex, rcptTo: string[]): Promise<Recipient[]> {
  const unique = [...new Set(rcptTo.map((a) => a.trim()).filter(Boolean))];
  if (!unique.length) throw new AppError('no_recipients', 'the message has no recipient');
  const out: Recipient[] = [];
  for (const a of unique) {
    if (!isEmailAddress(a)) throw new AppError('invalid_recipient', `not an email address: "${a}"`);
    const kind = await classifyRecipient(db, a);
    if (kind === 'unknown') throw new AppError('invalid_recipient', `there is no mailbox ${a} on this box`);
    out.push({ address: kind === 'local' ? normalizeAddress(a) : a, local: kind === 'local' });
  }
  return out;
}

function groupByDomain(recipients: Recipient[]): NewOutbound['domains'] {
  const map = new Map<string, NewOutbound['domains'][number]>();
  for (const r of recipients) {
    const domain = domainOf(normalizeAddress(r.address));
    const entry = map.get(domain) ?? { domain, addresses: [], local: r.local };
    entry.addresses.push(r.address);
    map.set(domain, entry);
  }
  return [...map.values()];
}

/** Headers that tell where the writer sits or what software they run: the box never passes them on. */
const REVEALING = /^(?:x-originating-ip|x-mailer|user-agent|x-user-agent|x-originating-client|x-forwarded-for)$/i;

/**
 * RFC 6409 §8: the submission server adds Message-ID and Date when the client did not. It also
 * removes the headers that would leak the writer's IP address or mail client (privacy by default).
 */
export function withRequiredHeaders(raw: Buffer, domain: string, now: Date): { raw: Buffer; messageId: string } {
  const headerEnd = headerEndOf(raw);
  const lines = raw.subarray(0, headerEnd).toString('latin1').split(/(?<=\n)/);
  const kept = withoutFields(lines, (line) => REVEALING.test(line.slice(0, line.indexOf(':')).trim()));
  let head = kept.join('');
  const found = /^message-id:[ \t]*<?([^>\r\n]+)>?/im.exec(head);
  const added: string[] = [];
  let messageId = found?.[1]?.trim() ?? '';
  if (!messageId) {
    messageId = `${crypto.randomBytes(12).toString('hex')}@${domain}`;
    added.push(`Message-ID: <${messageId}>`);
  }
  if (!/^date:/im.test(head)) added.push(`Date: ${now.toUTCString().replace('GMT', '+0000')}`);
  if (added.length) head = added.join('\r\n') + '\r\n' + head;
  if (kept.length === lines.length && !added.length) return { raw, messageId };
  return { raw: Buffer.concat([Buffer.from(head, 'latin1'), raw.subarray(headerEnd)]), messageId };
}

/** Where the header block ends: just after the last header line's line ending (before the blank line). */
function headerEndOf(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 2;
  if (lf >= 0) return lf + 1;
  return raw.length;
}

interface SentCopy {
  outboundId: number;
  userId: number;
  raw: Buffer;
  stored?: { hash: string; size: number };
  mailFrom: string;
  rcptTo: string[];
  remote: boolean;
  discussionId?: number;
}

async function storeSentCopy(deps: Deps, ingestor: Ingestor, c: SentCopy): Promise<{ messageId: number; discussionId: number }> {
  const [outcome] = await ingestor.ingest({
    source: 'sent', raw: c.raw, stored: c.stored, userIds: [c.userId], envelope: { mailFrom: c.mailFrom, rcptTo: c.rcptTo },
    transport: c.remote ? { tls: null, pending: true } : { tls: null, local: true },
    discussionId: c.discussionId, read: true,
  });
  await linkSentCopy(deps.db, c.outboundId, outcome!.messageId, deps.clock.now().getTime());
  return { messageId: outcome!.messageId, discussionId: outcome!.discussionId };
}

/** At start: Sent copies that a crash kept from being stored. */
export async function recoverSentCopies(deps: Deps, ingestor: Ingestor): Promise<number> {
  const rows = (await deps.db('outbound_messages').whereNull('message_id').select('id', 'user_id', 'blob_hash', 'mail_from')) as Array<{ id: number; user_id: number; blob_hash: string; mail_from: string }>;
  for (const r of rows) {
    const rcpts = (await deps.db('outbound_recipients as r').join('outbound_queue as q', 'q.id', 'r.queue_id').where('q.outbound_id', r.id).select('r.address', 'q.route')) as Array<{ address: string; route: string | null }>;
    await storeSentCopy(deps, ingestor, {
      outboundId: r.id, userId: r.user_id, raw: await deps.blobs.get(r.blob_hash), mailFrom: r.mail_from,
      rcptTo: rcpts.map((x) => x.address), remote: rcpts.some((x) => x.route !== 'local'),
    });
  }
  return rows.length;
}
