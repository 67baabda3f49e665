/**
 * The one ingest pipeline behind every source (SMTP, mbox/Maildir import, IMAP import, sent mail):
 * raw bytes on disk → parse → authenticate → spam & importance → privacy signals → PI →
 * (one group commit:) discussion, message, participants, tags, contacts, full-text index, PI report.
 * Nothing is half-stored: the raw file is fsynced first (an orphan file is harmless), then all
 * rows of a message go in one transaction. Resolves once the commit is on disk.
 * Reads happen before the commit on the read pool; the commit itself is a few statements per batch
 * (message-writer.ts), so the single writer is not the bottleneck.
 */
import type { Knex } from 'knex';
import type { ParsedMail } from 'mailparser';
import type { Deps } from '../deps.js';
import type { Envelope, IngestSource, SpamVerdict, TransportInfo, AuthResults } from './types.js';
import { createCommitQueue } from './commit-queue.js';
import {
  addressesOf, stripAngles, referencesOf, listIdOf, bodyText, excerptOf,
  userAttachments, isEncrypted, isSigned, normalizeSubject, type AddressEntry,
} from './parse.js';
import { collectPrivacySignals, computePi } from '../privacy/index.js';
import { loadSpamStats, scoreSpam } from '../spam/index.js';
import { isTrained } from '../spam/bayes.js';
import { createAnalyzer, type Analyzer } from './analyzer.js';
import { loadIngestFacts } from './ingest-facts.js';
import { discussionKey } from './discussions.js';
import { createTagResolver } from './tags.js';
import { userAddresses } from '../accounts/users.js';
import { writeMessages, type PreparedMessage } from './message-writer.js';
import { parseBounce, type BounceReport } from '../delivery/bounce-parse.js';
import { findBounced, markBounced, type BounceOrigin } from '../delivery/bounce-link.js';
import { learnKeysFromMail, senderSignatureVerified } from '../crypto/mail-keys.js';

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
  /** the source filed it as the user's own sent mail (an imported Sent folder): not scored as spam, SENT instead of INBOX */
  sentByUser?: boolean;
  /** the discussion this message belongs to, when the caller knows it (delivery reports about a sent message) */
  discussionId?: number;
  /** the raw bytes are already in the blob store (a sent message, delivered locally): not written again */
  stored?: { hash: string; size: number };
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
  /** waits for every accepted message to be committed, then stops the analyzer */
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
  /** tokens were computed (some recipient's filter is trained): else scoring goes without the filter */
  withTokens: boolean;
  receivedAt: number;
  /** a delivery report (bounce), and per user the sent message it is about */
  bounce: BounceReport | null;
  bounced: Map<number, BounceOrigin>;
}

/**
 * Per-user answers remembered `ttlMs` (the pending promise too, so concurrent messages ask once);
 * a failed look-up is forgotten. `forget` drops one user's entry before its time.
 */
function perUserCache<T>(load: (userId: number) => Promise<T>, ttlMs: number): { get(userId: number): Promise<T>; forget(userId: number): void } {
  const cache = new Map<number, { at: number; value: Promise<T> }>();
  return {
    get(userId) {
      const hit = cache.get(userId);
      if (hit && Date.now() - hit.at < ttlMs) return hit.value;
      const value = load(userId);
      cache.set(userId, { at: Date.now(), value });
      value.catch(() => cache.delete(userId));
      return value;
    },
    forget: (userId) => cache.delete(userId),
  };
}

export function createIngestor(deps: Deps, analyzer: Analyzer = createAnalyzer({ threads: 0, resolver: deps.dns, log: deps.log })): Ingestor {
  const tagIds = createTagResolver();
  // A user's addresses change rarely (an admin adds an alias): remembered 10 s, a query less per message.
  const addresses = perUserCache((userId) => userAddresses(deps.readDb, userId), 10_000);
  const addressesOfUser = (userId: number) => addresses.get(userId);
  // A user's filter totals, remembered 5 s: while the filter is not trained yet (a new box, a user who
  // never sorted spam), scoring skips the look-up of every token of every message. The user's sorting
  // in this process clears the entry at once ('spam-trained'); a trained filter's totals are read
  // again with its tokens anyway.
  const spamStats = perUserCache((userId) => loadSpamStats(deps.readDb, userId), 5_000);
  deps.events.on('spam-trained', ({ userId }) => spamStats.forget(userId));
  const spamStatsOf = (userId: number) => spamStats.get(userId);
  const queue = createCommitQueue(deps.db, (trx, items: PreparedMessage[]) => writeMessages(trx, items, tagIds));

  /** Tokens only feed a trained filter, and only for mail that is scored at all (see prepareForUser). */
  async function tokensWanted(input: IngestInput): Promise<boolean> {
    if (input.source === 'sent' || input.source === 'local' || input.sentByUser) return false;
    const stats = await Promise.all([...new Set(input.userIds)].map(spamStatsOf));
    return stats.some((x) => isTrained(x));
  }

  async function prepareShared(input: IngestInput): Promise<Shared> {
    const tokens = await tokensWanted(input);
    const [blob, analysis] = await Promise.all([
      input.stored ?? deps.blobs.put(input.raw),
      analyzer.analyze(input.raw, {
        source: input.source,
        ip: input.transport?.clientIp,
        helo: input.transport?.helo,
        mailFrom: input.envelope?.mailFrom ?? null,
        mta: deps.config.hostname,
        tokens,
      }),
    ]);
    return {
      input,
      blob,
      withTokens: tokens,
      ...analysis,
      participants: addressesOf(analysis.parsed),
      receivedAt: (input.receivedAt ?? deps.clock.now()).getTime(),
      bounce: input.source === 'sent' ? null : parseBounce(analysis.parsed, input.raw),
      bounced: new Map(),
    };
  }

  async function prepareForUser(s: Shared, userId: number): Promise<PreparedMessage> {
    const db = deps.readDb;
    const fromAddress = s.participants.find((p) => p.role === 'from')?.address ?? null;
    const [ownList, { history, dup, contacts }] = await Promise.all([
      addressesOfUser(userId),
      loadIngestFacts(db, userId, fromAddress, s.hash, s.participants.map((p) => p.address)),
    ]);
    const own = new Set(ownList);
    const fromUser = s.input.source === 'sent' || !!s.input.sentByUser || (fromAddress !== null && own.has(fromAddress));
    // a bounce of a message this user sent goes to that message's discussion, and is not spam
    const bounced = s.bounce && !fromUser ? await findBounced(db, userId, s.bounce) : null;
    if (bounced) s.bounced.set(userId, bounced);
    // mail from the user, or from another user of this box (authenticated to us), is not scored as spam
    const spam: SpamVerdict = fromUser || s.input.source === 'local' || bounced
      ? { spamScore: 0, isSpam: false, importance: 0, signals: [] }
      : await scoreSpam(db, userId, {
          parsed: s.parsed, auth: s.auth, history, tokens: s.tokens, userAddresses: ownList,
          repliesToUser: await repliesToUser(db, userId, s.parsed, own),
        }, { untrained: !s.withTokens || !isTrained(await spamStatsOf(userId)) });
    const signals = collectPrivacySignals({
      parsed: s.parsed, raw: s.input.raw, transport: s.input.transport ?? null, auth: s.auth, sender: history,
      source: s.input.source, ownHosts: [deps.config.hostname],
      verifiedSignature: await senderSignatureVerified(db, userId, s.input.raw, s.parsed, fromAddress),
    });
    const listId = listIdOf(s.parsed);
    const key = discussionKey(s.participants, own, contacts, listId);
    const text = bodyText(s.parsed);
    const attachments = userAttachments(s.parsed);
    const encrypted = isEncrypted(s.parsed);
    const isRead = s.input.read ?? fromUser;
    const pi = computePi(signals);
    const from = s.participants.find((p) => p.role === 'from');
    const subject = (s.parsed.subject ?? '').slice(0, 1000);
    const excerpt = excerptOf(text);
    const date = messageDate(s.parsed, s.receivedAt);
    return {
      userId, hash: s.hash, own, fromUser, participants: s.participants, contacts, dup, key, discussionId: s.input.discussionId ?? bounced?.discussionId ?? undefined, listId,
      discussionSubject: normalizeSubject(subject), receivedAt: s.receivedAt,
      tagNames: tagNamesFor(s.input.tags ?? [], fromUser, spam, encrypted),
      row: {
        user_id: userId, blob_hash: s.blob.hash, size: s.blob.size, source: s.input.source,
        message_id: stripAngles(s.parsed.messageId), content_hash: s.hash, in_reply_to: stripAngles(s.parsed.inReplyTo),
        references_json: JSON.stringify(referencesOf(s.parsed)), list_id: listId, subject, from_address: fromAddress,
        from_name: from?.name ?? null, excerpt, date, received_at: s.receivedAt, attachment_count: attachments.length,
        is_read: isRead, is_spam: spam.isSpam, is_encrypted: encrypted, is_signed: isSigned(s.parsed),
        spam_score: spam.spamScore, importance: spam.importance, pi_score: pi.score, pi_letter: pi.letter,
        auth_json: s.auth ? JSON.stringify(s.auth) : null,
        transport_json: s.input.transport ? JSON.stringify(s.input.transport) : null,
        envelope_json: s.input.envelope ? JSON.stringify(s.input.envelope) : null,
        signals_json: JSON.stringify({ privacy: signals, spam: spam.signals }), created_at: s.receivedAt,
      },
      fts: {
        subject,
        body: text,
        participants: s.participants.map((p) => (p.name ? `${p.name} <${p.address}>` : p.address)).join(', '),
        attachments: attachments.map((x) => x.filename ?? '').join(' '),
      },
      pi,
      facts: { unread: !isRead, spam: spam.isSpam, hasAttachments: attachments.length > 0, importance: spam.importance, excerpt, from: from?.name || fromAddress },
    };
  }

  return {
    async ingest(input) {
      const shared = await prepareShared(input);
      const userIds = [...new Set(input.userIds)];
      const prepared = await Promise.all(userIds.map((userId) => prepareForUser(shared, userId)));
      const outcomes = await Promise.all(prepared.map((p) => queue.submit(p)));
      for (const o of outcomes) {
        const origin = shared.bounced.get(o.userId);
        if (!origin || o.duplicate) continue;
        // after the commit: the bounce is stored whatever happens here
        await markBounced(deps.db, origin, shared.bounce!, deps.clock.now()).catch((err) => deps.log.warn('bounced recipients not marked', { err }));
      }
      // after the commit: Autocrypt peer state and attached keys (crypto/mail-keys.ts, never throws)
      await learnKeysFromMail(deps, shared.parsed, input.source, outcomes);
      for (const o of outcomes) {
        if (!o.duplicate) deps.events.emit('message', { userId: o.userId, messageId: o.messageId, discussionId: o.discussionId });
      }
      return outcomes;
    },
    async drain() {
      await queue.drain();
      await analyzer.close();
    },
  };
}

function tagNamesFor(extra: string[], fromUser: boolean, spam: SpamVerdict, encrypted: boolean): string[] {
  const names = [...extra];
  if (fromUser) names.push('SENT');
  else names.push(spam.isSpam ? 'SPAM' : 'INBOX');
  if (!spam.isSpam && spam.importance >= IMPORTANT_THRESHOLD) names.push('IMPORTANT');
  if (encrypted) names.push('ENCRYPTED');
  return names;
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
