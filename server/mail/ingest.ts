/**
 * The one ingest pipeline behind every source (SMTP, mbox/Maildir import, IMAP import, sent mail):
 * raw bytes on disk → parse → authenticate → spam & importance → privacy signals → PI →
 * (one commit:) contacts → discussion → message, participants, tags → full-text index → PI report.
 * Nothing is half-stored: the raw file is fsynced first (an orphan file is harmless), then all
 * rows of a message go in one savepoint of a group commit. Resolves once the commit is on disk.
 */
import type { Knex } from 'knex';
import type { ParsedMail } from 'mailparser';
import type { Deps } from '../deps.js';
import type { Envelope, IngestSource, PiReport, SpamVerdict, TransportInfo, AuthResults, Signal } from './types.js';
import { createCommitQueue, type CommitQueue } from './commit-queue.js';
import {
  parseMessage, addressesOf, contentHash, stripAngles, referencesOf, listIdOf, bodyText, excerptOf,
  userAttachments, isEncrypted, isSigned, normalizeSubject, type AddressEntry,
} from './parse.js';
import { authenticateMessage } from './authenticate.js';
import { collectPrivacySignals, computePi } from '../privacy/index.js';
import { tokenize, scoreSpam } from '../spam/index.js';
import { senderHistory, linkParticipants } from '../contacts/linkage.js';
import { discussionKey, findOrCreateDiscussion, refreshDiscussion } from './discussions.js';
import { tagIds } from './tags.js';
import { indexMessageText } from './search.js';
import { userAddresses } from '../accounts/users.js';
import { fallbackParse } from './parse-fallback.js';

export interface IngestInput {
  source: IngestSource;
  raw: Buffer;
  userIds: number[];
  envelope?: Envelope;
  transport?: TransportInfo | null;
  receivedAt?: Date;
  /** imported flags: \Seen → read */
  read?: boolean;
  /** extra tags: imported folders and flags */
  tags?: string[];
}

export interface IngestOutcome {
  userId: number;
  messageId: number;
  discussionId: number;
  duplicate: boolean;
  isSpam: boolean;
  piScore: number;
}

export interface Ingestor {
  ingest(input: IngestInput): Promise<IngestOutcome[]>;
  drain(): Promise<void>;
}

/** Importance at or above which a message is tagged IMPORTANT. */
export const IMPORTANT_THRESHOLD = 5;

interface Shared {
  input: IngestInput;
  parsed: ParsedMail;
  blob: { hash: string; size: number };
  hash: string;
  auth: AuthResults | null;
  participants: AddressEntry[];
  tokens: string[];
  receivedAt: number;
}

export function createIngestor(deps: Deps): Ingestor {
  const queue: CommitQueue = createCommitQueue(deps.db);

  async function prepareShared(input: IngestInput): Promise<Shared> {
    const blob = await deps.blobs.put(input.raw);
    const parsed = await parseMessage(input.raw).catch(() => fallbackParse(input.raw));
    const auth =
      input.source === 'sent'
        ? null
        : await authenticateMessage(input.raw, {
            ip: input.transport?.clientIp,
            helo: input.transport?.helo,
            mailFrom: input.envelope?.mailFrom ?? null,
            mta: deps.config.hostname,
            resolver: deps.dns,
          }).catch((err: unknown) => {
            deps.log.warn('authentication failed', { err: err as Error });
            return null;
          });
    return {
      input,
      parsed,
      blob,
      hash: contentHash(input.raw),
      auth,
      participants: addressesOf(parsed),
      tokens: input.source === 'sent' ? [] : tokenize(parsed),
      receivedAt: (input.receivedAt ?? deps.clock.now()).getTime(),
    };
  }

  async function ingestForUser(s: Shared, userId: number): Promise<IngestOutcome> {
    const own = new Set(await userAddresses(deps.db, userId));
    const fromAddress = s.participants.find((p) => p.role === 'from')?.address ?? null;
    const fromUser = s.input.source === 'sent' || (fromAddress !== null && own.has(fromAddress));
    const history = await senderHistory(deps.db, userId, fromAddress);
    const spam: SpamVerdict = fromUser
      ? { spamScore: 0, isSpam: false, importance: 0, signals: [] }
      : await scoreSpam(deps.db, userId, {
          parsed: s.parsed, auth: s.auth, history, tokens: s.tokens, userAddresses: [...own],
          repliesToUser: await repliesToUser(deps.db, userId, s.parsed, own),
        });
    const signals = collectPrivacySignals({
      parsed: s.parsed, raw: s.input.raw, transport: s.input.transport ?? null, auth: s.auth, sender: history, source: s.input.source, ownHosts: [deps.config.hostname],
    });
    const pi = computePi(signals);
    const outcome = await queue.submit((trx) => writeMessage(trx, { s, userId, own, fromUser, fromAddress, spam, signals, pi }));
    if (!outcome.duplicate) deps.events.emit('message', { userId, messageId: outcome.messageId, discussionId: outcome.discussionId });
    return outcome;
  }

  return {
    async ingest(input) {
      const shared = await prepareShared(input);
      const outcomes: IngestOutcome[] = [];
      for (const userId of new Set(input.userIds)) outcomes.push(await ingestForUser(shared, userId));
      return outcomes;
    },
    drain: () => queue.drain(),
  };
}

interface WriteArgs {
  s: Shared;
  userId: number;
  own: Set<string>;
  fromUser: boolean;
  fromAddress: string | null;
  spam: SpamVerdict;
  signals: Signal[];
  pi: PiReport;
}

function tagNamesFor(a: WriteArgs, encrypted: boolean): string[] {
  const names = [...(a.s.input.tags ?? [])];
  if (a.fromUser) names.push('SENT');
  else names.push(a.spam.isSpam ? 'SPAM' : 'INBOX');
  if (!a.spam.isSpam && a.spam.importance >= IMPORTANT_THRESHOLD) names.push('IMPORTANT');
  if (encrypted) names.push('ENCRYPTED');
  return names;
}

async function writeMessage(trx: Knex.Transaction, a: WriteArgs): Promise<IngestOutcome> {
  const { s, userId } = a;
  const now = s.receivedAt;
  const encrypted = isEncrypted(s.parsed);
  const tags = await tagIds(trx, userId, tagNamesFor(a, encrypted), now);
  const dup = await trx('messages').where({ user_id: userId, content_hash: s.hash }).first('id', 'discussion_id', 'is_spam', 'pi_score');
  if (dup) {
    // Seen again (another folder, another import): one message, several tags.
    await trx('message_tags').insert(tags.filter((t) => t !== undefined).map((tag_id) => ({ message_id: dup.id, tag_id }))).onConflict().ignore();
    return { userId, messageId: dup.id, discussionId: dup.discussion_id, duplicate: true, isSpam: !!dup.is_spam, piScore: dup.pi_score };
  }
  const contactOf = await linkParticipants(trx, userId, s.participants, a.own, a.fromUser, now);
  const listId = listIdOf(s.parsed);
  const subject = (s.parsed.subject ?? '').slice(0, 1000);
  const discussionId = await findOrCreateDiscussion(trx, {
    userId, key: discussionKey(s.participants, a.own, contactOf, listId), listId, subject: normalizeSubject(subject), at: now,
  });
  const text = bodyText(s.parsed);
  const attachments = userAttachments(s.parsed);
  const date = messageDate(s.parsed, now);
  const from = s.participants.find((p) => p.role === 'from');
  const [messageId] = await trx('messages').insert({
    user_id: userId, discussion_id: discussionId, blob_hash: s.blob.hash, size: s.blob.size, source: s.input.source,
    message_id: stripAngles(s.parsed.messageId), content_hash: s.hash, in_reply_to: stripAngles(s.parsed.inReplyTo),
    references_json: JSON.stringify(referencesOf(s.parsed)), list_id: listId, subject, from_address: a.fromAddress,
    from_name: from?.name ?? null, excerpt: excerptOf(text), date, received_at: now, attachment_count: attachments.length,
    is_read: s.input.read ?? a.fromUser, is_spam: a.spam.isSpam, is_encrypted: encrypted, is_signed: isSigned(s.parsed),
    spam_score: a.spam.spamScore, importance: a.spam.importance, pi_score: a.pi.score, pi_letter: a.pi.letter,
    auth_json: s.auth ? JSON.stringify(s.auth) : null,
    transport_json: s.input.transport ? JSON.stringify(s.input.transport) : null,
    envelope_json: s.input.envelope ? JSON.stringify(s.input.envelope) : null,
    signals_json: JSON.stringify({ privacy: a.signals, spam: a.spam.signals }), created_at: now,
  });
  const id = Number(messageId);
  if (s.participants.length) {
    await trx('participants').insert(
      s.participants.map((p) => ({ message_id: id, user_id: userId, role: p.role, address: p.address, name: p.name, contact_id: contactOf.get(p.address) ?? null })),
    );
  }
  if (tags.length) await trx('message_tags').insert(tags.map((tag_id) => ({ message_id: id, tag_id }))).onConflict().ignore();
  await indexMessageText(trx, id, {
    subject,
    body: text,
    participants: s.participants.map((p) => (p.name ? `${p.name} <${p.address}>` : p.address)).join(', '),
    attachments: attachments.map((x) => x.filename ?? '').join(' '),
  });
  await trx('pi_reports').insert({
    user_id: userId, object_type: 'message', object_id: id, score: a.pi.score, letter: a.pi.letter,
    axes_json: JSON.stringify(a.pi.axes), reasons_json: JSON.stringify(a.pi.reasons), computed_at: now,
  });
  await refreshDiscussion(trx, discussionId);
  return { userId, messageId: id, discussionId, duplicate: false, isSpam: a.spam.isSpam, piScore: a.pi.score };
}

/** Does In-Reply-To / References name a message this user wrote? (One indexed lookup.) */
async function repliesToUser(db: Knex, userId: number, parsed: ParsedMail, own: Set<string>): Promise<boolean> {
  const ids = [stripAngles(parsed.inReplyTo), ...referencesOf(parsed).slice(-5)].filter((x): x is string => !!x);
  if (!ids.length || !own.size) return false;
  const row = await db('messages').where({ user_id: userId }).whereIn('message_id', ids).whereIn('from_address', [...own]).first('id');
  return !!row;
}

/** The Date header, unless missing or absurd (more than a day in the future): then reception time. */
function messageDate(parsed: ParsedMail, receivedAt: number): number {
  const d = parsed.date?.getTime();
  if (d === undefined || Number.isNaN(d) || d > receivedAt + 86_400_000 || d < 0) return receivedAt;
  return d;
}
