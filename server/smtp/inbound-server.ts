/**
 * The inbound MX: smtp-server configured for receiving mail for our domains, with the domain
 * reached only through the two injected handlers. smtp-server's callbacks are wrapped here, once;
 * everything below them is async/await and throws, and edge() turns what was thrown into a reply.
 */
import type tls from 'node:tls';
import type { SMTPServerDataStream, SMTPServerEnvelope, SMTPServerSession } from 'smtp-server';
import type { Config } from '../config.js';
import { isAppError, smtpReplyOf, type SmtpReply } from '../errors.js';
import type { Logger } from '../log.js';
import type { Envelope, TransportInfo } from '../mail/types.js';
import { LimitedSmtpServer, limitOptions } from './limits.js';
import {
  REPLY_ACCEPTED,
  REPLY_BARE_LINE_ENDING,
  REPLY_MESSAGE_TOO_BIG,
  REPLY_RELAY_DENIED,
  REPLY_UNKNOWN_RECIPIENT,
  SmtpRejection,
  toSmtpServerError,
} from './replies.js';
import { listenOn, readMessage } from './server-io.js';

export interface InboundHandlers {
  /** 'local' = one of our mailboxes; 'unknown' = our domain but no such mailbox; 'foreign' = not our domain */
  classifyRecipient(address: string): Promise<'local' | 'unknown' | 'foreign'>;
  /** Resolves only once the message is durably stored (fsync + commit); rejects → SMTP error via smtpReplyOf() */
  deliver(msg: { raw: Buffer; envelope: Envelope; transport: TransportInfo; receivedAt: Date }): Promise<void>;
}

export interface InboundServerOptions {
  config: Config;
  log: Logger;
  handlers: InboundHandlers;
  tls: { key: Buffer; cert: Buffer };
}

export interface InboundServer {
  /** Resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, lets sessions finish for up to CLOSE_GRACE_MS, then ends them with 421. */
  close(): Promise<void>;
}

/** Long enough for a message inside deliver() to get its 250; after that the sender retries. */
const CLOSE_GRACE_MS = 5_000;

type Callback<T = void> = (err?: Error | null, value?: T) => void;

interface TransactionFacts {
  rejectedRecipients: number;
  logged: boolean;
}

/** Per-server state and the steps of a session; smtp-server's callbacks only call into it via edge(). */
class InboundProtocol {
  private readonly tlsProtocols = new WeakMap<SMTPServerSession, string | null>();
  // keyed by the envelope object, which smtp-server replaces at every new transaction
  private readonly transactions = new WeakMap<SMTPServerEnvelope, TransactionFacts>();

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly handlers: InboundHandlers,
  ) {}

  /** Runs async work for an smtp-server callback; whatever it throws becomes one SMTP reply. */
  edge<T>(stage: string, work: () => Promise<T>, cb: Callback<T>): void {
    work().then(
      (value) => cb(null, value),
      (err: unknown) => cb(toSmtpServerError(this.replyFor(err, stage))),
    );
  }

  recordTls(session: SMTPServerSession, socket: tls.TLSSocket): void {
    this.tlsProtocols.set(session, socket.getProtocol?.() ?? null);
  }

  async checkRecipient(address: string, session: SMTPServerSession): Promise<void> {
    try {
      const kind = await this.handlers.classifyRecipient(address);
      if (kind === 'local') return;
      if (kind === 'unknown') throw new SmtpRejection(REPLY_UNKNOWN_RECIPIENT); // RFC 5321 §3.3
      if (kind === 'foreign') throw new SmtpRejection(REPLY_RELAY_DENIED); // RFC 5321 §3.6: never an open relay
      throw new Error(`classifyRecipient returned ${String(kind)}`);
    } catch (err) {
      this.factsOf(session).rejectedRecipients++;
      throw err;
    }
  }

  async receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const started = Date.now();
    let reply: SmtpReply = REPLY_ACCEPTED;
    try {
      const { raw, bareLineEnding } = await readMessage(stream, this.config.smtp.maxMessageSize);
      if (stream.sizeExceeded) throw new SmtpRejection(REPLY_MESSAGE_TOO_BIG); // RFC 1870 §4
      if (bareLineEnding) throw new SmtpRejection(REPLY_BARE_LINE_ENDING); // RFC 5321 §2.3.8
      const receivedAt = new Date();
      await this.handlers.deliver({ raw, envelope: envelopeOf(session), transport: this.transportOf(session), receivedAt });
      return REPLY_ACCEPTED.message; // 250 only now: deliver() resolved once the message was on disk
    } catch (err) {
      reply = err instanceof SmtpRejection ? err.reply : smtpReplyOf(err);
      throw err;
    } finally {
      this.logTransaction(session, { reply: reply.responseCode, bytes: stream.byteLength, ms: Date.now() - started });
    }
  }

  /** A client that leaves between MAIL and the end of DATA still gets its transaction logged. */
  closed(session: SMTPServerSession): void {
    if (session.envelope?.mailFrom) this.logTransaction(session, { reply: null, abandoned: true });
  }

  private replyFor(err: unknown, stage: string): SmtpReply {
    if (err instanceof SmtpRejection) return err.reply;
    if (!isAppError(err)) this.log.error('smtp handler failed', { stage, err });
    return smtpReplyOf(err); // anything but an AppError is our bug: 451 4.3.0, the sender retries
  }

  private factsOf(session: SMTPServerSession): TransactionFacts {
    let facts = this.transactions.get(session.envelope);
    if (!facts) this.transactions.set(session.envelope, (facts = { rejectedRecipients: 0, logged: false }));
    return facts;
  }

  private logTransaction(session: SMTPServerSession, outcome: Record<string, unknown>): void {
    const facts = this.factsOf(session);
    if (facts.logged) return;
    facts.logged = true;
    const recipients = session.envelope.rcptTo.map((r) => r.address);
    // counts only: logs never hold bodies, and addresses stay out of them
    this.log.info('smtp transaction', {
      session: session.id,
      clientIp: session.remoteAddress,
      tls: this.tlsProtocols.get(session) ?? (session.secure ? 'unknown' : 'none'),
      recipients: recipients.length,
      recipientDomains: new Set(recipients.map(domainOf)).size,
      rejectedRecipients: facts.rejectedRecipients,
      ...outcome,
    });
  }

  private transportOf(session: SMTPServerSession): TransportInfo {
    const cipher = session.tlsOptions;
    // getCipher().version is the cipher suite's minimum version, not the session's: the protocol comes from onSecure
    const protocol = this.tlsProtocols.get(session) ?? (cipher ? cipher.version : null);
    return {
      tls: session.secure && cipher && protocol ? { protocol, cipher: cipher.name } : null,
      clientIp: session.remoteAddress,
      helo: session.hostNameAppearsAs || undefined,
    };
  }
}

export function createInboundServer(opts: InboundServerOptions): InboundServer {
  const { config, log } = opts;
  const mx = new InboundProtocol(config, log, opts.handlers);
  const server = new LimitedSmtpServer(
    {
      ...limitOptions(config),
      name: config.hostname, // banner and EHLO greeting
      key: opts.tls.key,
      cert: opts.tls.cert,
      secure: false, // port 25: plain, then STARTTLS (RFC 3207)
      hideENHANCEDSTATUSCODES: false, // RFC 2034: announce and use enhanced status codes
      disabledCommands: ['AUTH'], // the MX takes mail for us from anyone; authenticated mail goes to submission
      authOptional: true,
      disableReverseLookup: true, // DNS only goes through the injected resolvers
      closeTimeout: CLOSE_GRACE_MS,
      logger: false,
      onSecure: (socket, session, cb) => {
        mx.recordTls(session, socket as tls.TLSSocket);
        cb();
      },
      onRcptTo: (address, session, cb) => mx.edge('rcpt', () => mx.checkRecipient(address.address, session), cb),
      onData: (stream, session, cb) => mx.edge('data', () => mx.receive(stream, session), cb),
      onClose: (session) => mx.closed(session),
    },
    { maxErrors: config.smtp.maxErrors, hostname: config.hostname },
  );
  // connection-level errors (TLS handshake failures, resets mid-DATA) arrive here; without a
  // listener EventEmitter would throw them and take the whole process down
  server.on('error', (err: Error) => log.warn('smtp connection error', { err }));
  return {
    listen: (port, host) => listenOn(server, port, host),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}


function envelopeOf(session: SMTPServerSession): Envelope {
  const from = session.envelope.mailFrom;
  return {
    mailFrom: from && from.address ? from.address : null, // MAIL FROM:<> is the null reverse-path of bounces
    rcptTo: session.envelope.rcptTo.map((r) => r.address),
  };
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
