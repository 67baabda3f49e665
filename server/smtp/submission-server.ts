/**
 * Submission for mail clients (RFC 6409): port 587 in mode 'starttls' (plain, then STARTTLS,
 * RFC 3207) and port 465 in mode 'implicit' (TLS from the first byte, RFC 8314 §3.3). Same
 * smtp-server base as the MX (limits.ts), with these rules on top:
 * - AUTH PLAIN / LOGIN only over TLS: before STARTTLS, AUTH is not even advertised (a client must
 *   not put a password on the wire in clear) and refused with 530 5.7.0 if tried; MAIL/RCPT/DATA
 *   before AUTH get 530 5.7.0. Failures count per client IP and per login name in a Throttle:
 *   past its limit, 454 4.7.0 and the connection is closed. Passwords never reach the logs.
 * - MAIL FROM and the From / Sender header addresses must be the user's own (553 5.7.1); the
 *   message must have exactly one From header (550 5.6.0: RFC 5322 §3.6, and the same bytes would
 *   fail again, so permanent). Any recipient is accepted (that is what submission is for), up to
 *   smtp.maxRecipients (452 4.5.3). SIZE (552) and bare CR/LF (550 5.6.0) as on the MX.
 * - The bytes go to handlers.submit() exactly as the client sent them: nothing added (no Received
 *   header, so the client's IP and the box's view of it never leave the box), nothing removed.
 *   Headers the client itself wrote (User-Agent, X-Mailer, X-Originating-IP) are the send path's
 *   privacy decision (privacy policy / Sender), not the protocol's. 250 only once submit resolved.
 * Not here: signing, the Sent copy, queueing and rate limits (Sender.submit), wiring (app.ts).
 */
import addressparser from 'nodemailer/lib/addressparser';
import type {
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerDataStream,
  SMTPServerEnvelope,
  SMTPServerSession,
} from 'smtp-server';
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { createThrottle, type Throttle } from '../accounts/sessions.js';
import { normalizeAddress } from '../accounts/users.js';
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { OutgoingMessage, SendOutcome } from '../delivery/types.js';
import { isAppError, smtpReplyOf, type SmtpReply } from '../errors.js';
import type { Logger } from '../log.js';
import { LimitedSmtpServer, limitOptions } from './limits.js';
import { REPLY_BARE_LINE_ENDING, REPLY_MESSAGE_TOO_BIG, SmtpRejection, toSmtpServerError } from './replies.js';
import { listenOn, readMessage } from './server-io.js';

export interface SubmissionHandlers {
  /** username is a login name or any address of the user; null when unknown or wrong (compare in constant time). */
  authenticate(username: string, password: string): Promise<{ userId: number } | null>;
  /** The addresses the user may send as (primary and aliases), in any case, IDN domains as Unicode or punycode. */
  allowedSenders(userId: number): Promise<string[]>;
  /** Sender.submit fits as is; AppError codes become replies through smtpReplyOf (rate_limited → 450 4.7.1). */
  submit(msg: OutgoingMessage): Promise<Pick<SendOutcome, 'outboundId' | 'messageId'>>;
}

export type SubmissionMode = 'starttls' | 'implicit';

export interface SubmissionServerOptions {
  config: Config;
  log: Logger;
  handlers: SubmissionHandlers;
  tls: { key: Buffer; cert: Buffer };
  /** 'starttls' for port 587, 'implicit' for port 465 */
  mode: SubmissionMode;
  /** Share one between the 587 and 465 servers, or a guesser gets twice the attempts. */
  throttle?: Throttle;
  /** Clock of the default throttle (5 failures per 15 minutes per IP and per login). */
  clock?: Clock;
}

export interface SubmissionServer {
  /** Resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, lets sessions finish for up to CLOSE_GRACE_MS, then ends them with 421. */
  close(): Promise<void>;
}

export const REPLY_AUTH_REQUIRED: SmtpReply = { responseCode: 530, message: '5.7.0 Authentication required' }; // RFC 4954 §6
export const REPLY_STARTTLS_FIRST: SmtpReply = { responseCode: 530, message: '5.7.0 Must issue a STARTTLS command first' }; // RFC 3207 §4
export const REPLY_AUTH_FAILED: SmtpReply = { responseCode: 535, message: '5.7.8 Authentication credentials invalid' }; // RFC 4954 §6
export const REPLY_AUTH_THROTTLED: SmtpReply = {
  responseCode: 454,
  message: '4.7.0 Too many failed authentication attempts, try again later',
}; // RFC 4954 §6: temporary authentication failure
export const REPLY_SENDER_NOT_OWNED: SmtpReply = { responseCode: 553, message: '5.7.1 Sender address is not one of your addresses' }; // RFC 6409 §6.1, RFC 3463 X.7.1
export const REPLY_HEADER_SENDER_NOT_OWNED: SmtpReply = {
  responseCode: 553,
  message: '5.7.1 From or Sender header address is not one of your addresses',
};
export const REPLY_BAD_FROM_HEADER: SmtpReply = { responseCode: 550, message: '5.6.0 Message must have exactly one From header with an address' }; // RFC 5322 §3.6

const CLOSE_GRACE_MS = 5_000;

type Callback<T = void> = (err?: Error | null, value?: T) => void;

/** Per-server state and the steps of a session; smtp-server's callbacks only call into it via edge(). */
class SubmissionProtocol {
  /** sessions whose next error reply ends the connection (throttled clients) */
  readonly closeAfterReply = new WeakSet<SMTPServerSession>();
  private readonly senders = new WeakMap<SMTPServerEnvelope, Set<string>>();

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly handlers: SubmissionHandlers,
    private readonly throttle: Throttle,
  ) {}

  edge<T>(stage: string, work: () => Promise<T>, cb: Callback<T>): void {
    work().then(
      (value) => cb(null, value),
      (err: unknown) => cb(toSmtpServerError(this.replyFor(err, stage))),
    );
  }

  async login(auth: SMTPServerAuthentication, session: SMTPServerSession): Promise<{ user: number }> {
    const username = auth.username ?? '';
    const login = username.trim().toLowerCase();
    const ipKey = `submission-ip\n${session.remoteAddress}`;
    const loginKey = `submission-login\n${login}`;
    const facts = { session: session.id, clientIp: session.remoteAddress, login: login.slice(0, 100), method: auth.method };
    if (!allowedBy(this.throttle, ipKey) || !allowedBy(this.throttle, loginKey)) {
      this.log.warn('submission auth throttled', facts);
      this.closeAfterReply.add(session);
      throw new SmtpRejection(REPLY_AUTH_THROTTLED);
    }
    // RFC 4616 §2: an authzid other than the authcid asks to act as someone else; we offer no such proxying
    const proxied = Boolean(auth.authzid && auth.authcid && auth.authzid.trim().toLowerCase() !== auth.authcid.trim().toLowerCase());
    const found = proxied ? null : await this.handlers.authenticate(username, auth.password ?? '');
    if (!found) {
      this.throttle.fail(ipKey);
      this.throttle.fail(loginKey);
      this.log.warn('submission auth failed', facts);
      throw new SmtpRejection(REPLY_AUTH_FAILED);
    }
    // only the login's count is cleared: a guesser holding one valid account must not reset its IP's
    this.throttle.reset(loginKey);
    return { user: found.userId };
  }

  async checkMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const own = await this.sendersOf(session);
    // MAIL FROM:<> (a bounce) is not something a mail client submits
    if (!address.address || !own.has(normalizeAddress(address.address))) throw new SmtpRejection(REPLY_SENDER_NOT_OWNED);
  }

  async receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const started = Date.now();
    let reply: SmtpReply | null = null;
    let bytes = 0;
    try {
      const { raw, bareLineEnding, overflow } = await readMessage(stream, this.config.smtp.maxMessageSize);
      bytes = raw.length;
      if (overflow || stream.sizeExceeded) throw new SmtpRejection(REPLY_MESSAGE_TOO_BIG); // RFC 1870 §4
      if (bareLineEnding) throw new SmtpRejection(REPLY_BARE_LINE_ENDING); // RFC 5321 §2.3.8
      checkHeaderSenders(raw, await this.sendersOf(session));
      const outcome = await this.handlers.submit({
        userId: session.user as number,
        raw,
        envelope: { mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', rcptTo: session.envelope.rcptTo.map((r) => r.address) },
        source: 'submission',
      });
      reply = acceptedReply(outcome);
      return reply.message; // 250 only now: the Sender has stored and queued it
    } catch (err) {
      reply = err instanceof SmtpRejection ? err.reply : smtpReplyOf(err);
      throw err;
    } finally {
      // counts only: no addresses, no subject, no body
      this.log.info('submission transaction', {
        session: session.id,
        userId: session.user,
        recipients: session.envelope.rcptTo.length,
        bytes,
        reply: reply?.responseCode ?? null,
        ms: Date.now() - started,
      });
    }
  }

  private async sendersOf(session: SMTPServerSession): Promise<Set<string>> {
    // asked once per transaction (the envelope object is new at every MAIL), reused at end of DATA
    let own = this.senders.get(session.envelope);
    if (!own) {
      own = new Set((await this.handlers.allowedSenders(session.user as number)).map(normalizeAddress));
      this.senders.set(session.envelope, own);
    }
    return own;
  }

  private replyFor(err: unknown, stage: string): SmtpReply {
    if (err instanceof SmtpRejection) return err.reply;
    if (!isAppError(err)) this.log.error('submission handler failed', { stage, err });
    return smtpReplyOf(err); // anything but an AppError is our bug: 451 4.3.0, the client retries
  }
}

function allowedBy(throttle: Throttle, key: string): boolean {
  try {
    throttle.assertAllowed(key);
    return true;
  } catch {
    return false;
  }
}

function acceptedReply(outcome: Pick<SendOutcome, 'outboundId' | 'messageId'>): SmtpReply {
  const what = outcome.outboundId !== null ? `queued as ${outcome.outboundId}` : `delivered locally as ${outcome.messageId}`;
  return { responseCode: 250, message: `2.0.0 Ok: ${what}` };
}

/**
 * The From header (exactly one, RFC 5322 §3.6) and any Sender header may only name the user's own
 * addresses: a signed message must not carry somebody else's name as its author. An entry without
 * a parseable address counts as malformed rather than being skipped, so that no reader's parser can
 * find an author ours did not check.
 */
export function checkHeaderSenders(raw: Buffer, own: Set<string>): void {
  const headers = parseHeaderFields(raw);
  const from = headers.filter((h) => h.name === 'from');
  if (from.length !== 1) throw new SmtpRejection(REPLY_BAD_FROM_HEADER);
  const authors = mailboxesOf(from[0]!.value);
  if (!authors || authors.length === 0) throw new SmtpRejection(REPLY_BAD_FROM_HEADER);
  const senders = headers.filter((h) => h.name === 'sender').map((h) => mailboxesOf(h.value));
  for (const list of [authors, ...senders]) {
    if (!list || list.some((a) => !own.has(normalizeAddress(a)))) throw new SmtpRejection(REPLY_HEADER_SENDER_NOT_OWNED);
  }
}

/** Header fields of the message (unfolded, names lower-cased), up to the first empty line. */
function parseHeaderFields(raw: Buffer): Array<{ name: string; value: string }> {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end === -1 ? raw.length : end).toString('utf8'); // RFC 6532: UTF-8 allowed
  const fields: Array<{ name: string; value: string }> = [];
  for (const line of head.replace(/\r\n(?=[ \t])/g, '').split('\r\n')) {
    const m = /^([!-9;-~]+)[ \t]*:(.*)$/s.exec(line); // RFC 5322 §2.2: printable ASCII but ':'
    if (m) fields.push({ name: m[1]!.toLowerCase(), value: m[2]! });
  }
  return fields;
}

/** The addresses of an address-list header, or null when one entry has no address@domain. */
function mailboxesOf(value: string): string[] | null {
  const entries = addressparser(value, { flatten: true });
  const addresses = entries.map((e) => e.address.trim());
  return addresses.every((a) => /^[^@\s]+@[^@\s]+$/.test(a)) ? addresses : null;
}


/**
 * smtp-server answers AUTH before STARTTLS with a non-standard 538 and lists AUTH in EHLO on a
 * plain connection; here the reply becomes RFC 3207's 530 and AUTH is listed only once under TLS.
 * A session marked in closeAfterReply is closed right after its error reply.
 */
class SubmissionSmtpServer extends LimitedSmtpServer {
  private readonly adjusted = new WeakSet<SMTPConnection>();
  closeAfterReply: WeakSet<SMTPServerSession> = new WeakSet();

  override connect(socket: Parameters<LimitedSmtpServer['connect']>[0], socketOptions?: Parameters<LimitedSmtpServer['connect']>[1]): void {
    super.connect(socket, socketOptions);
    for (const connection of this.connections) {
      if (this.adjusted.has(connection)) continue;
      this.adjusted.add(connection);
      this.adjustReplies(connection);
    }
  }

  private adjustReplies(connection: SMTPConnection): void {
    const send = connection.send.bind(connection);
    connection.send = (code, data, context) => {
      if (code === 538) return send(REPLY_STARTTLS_FIRST.responseCode, REPLY_STARTTLS_FIRST.message, false);
      if (code === 250 && Array.isArray(data) && !connection.secure) data = data.filter((line) => !/^AUTH\b/i.test(line));
      send(code, data, context);
      if (code >= 400 && this.closeAfterReply.has(connection.session)) {
        this.closeAfterReply.delete(connection.session);
        connection.close();
      }
    };
  }
}

export function createSubmissionServer(opts: SubmissionServerOptions): SubmissionServer {
  const { config, log } = opts;
  const throttle = opts.throttle ?? createThrottle(opts.clock ?? systemClock);
  const msa = new SubmissionProtocol(config, log, opts.handlers, throttle);
  const server = new SubmissionSmtpServer(
    {
      ...limitOptions(config),
      name: config.hostname,
      key: opts.tls.key,
      cert: opts.tls.cert,
      secure: opts.mode === 'implicit',
      hideENHANCEDSTATUSCODES: false,
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: false,
      allowInsecureAuth: false, // RFC 8314 §3: credentials only under TLS
      authRequiredMessage: REPLY_AUTH_REQUIRED.message,
      disableReverseLookup: true, // DNS only goes through the injected resolvers
      closeTimeout: CLOSE_GRACE_MS,
      logger: false, // smtp-server's logger would print login names with every AUTH line
      onAuth: (auth, session, cb) => msa.edge('auth', () => msa.login(auth, session), cb),
      onMailFrom: (address, session, cb) => msa.edge('mail', () => msa.checkMailFrom(address, session), cb),
      onData: (stream, session, cb) => msa.edge('data', () => msa.receive(stream, session), cb),
    },
    { maxErrors: config.smtp.maxErrors, hostname: config.hostname },
  );
  server.closeAfterReply = msa.closeAfterReply;
  server.on('error', (err: Error) => log.warn('submission connection error', { err }));
  return {
    listen: (port, host) => listenOn(server, port, host),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
