/**
 * One outbound SMTP session over nodemailer's SMTPConnection, wrapped once in promises: open
 * (connect, EHLO, STARTTLS, AUTH), send one transaction with a result per recipient, RSET, close.
 * Network and remote failures come back as values (Failure, RecipientResult), never as throws,
 * except open(), which throws a SessionError carrying its Failure. Choosing hosts and pooling
 * sessions is transport.ts's and connection-pool.ts's job.
 *
 * What went on in the session (which command was in flight, each RCPT's reply) is followed through
 * nodemailer's transaction log, kept in memory as verbs and replies only: never the message, never
 * AUTH data, and nothing of it is written to the logs.
 */
import { isAscii } from 'node:buffer';
import tls from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Failure } from './mx.js';
import type { RecipientResult } from './types.js';

/** opportunistic: STARTTLS when offered, unverified; plain: never TLS; starttls: required; implicit: TLS from the first byte */
export type TlsMode = 'opportunistic' | 'plain' | 'starttls' | 'implicit';

export interface SessionTarget {
  ip: string;
  port: number;
  /** the host we mean to talk to (MX or relay name): in messages, and the TLS server name */
  host: string;
  tls: TlsMode;
  /** refuse a certificate that does not chain to a trusted CA or is not valid for `host` */
  verify: boolean;
  ca?: string | Buffer | Array<string | Buffer> | undefined;
  auth?: { user: string; pass: string } | null;
  /** a certificate the user chose to trust (self-signed server): the only one accepted, whatever the name */
  pin?: { fingerprint: string; pem: string } | null;
}

export interface SessionTimeouts {
  ehloName: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

export interface SendOutcome {
  results: RecipientResult[];
  /** set when the session broke (lost, timed out, 421): the reason for recipients without a reply */
  broken: Failure | null;
  /** the session broke before any message byte was sent: another host or connection may be tried */
  retryable: boolean;
}

/** What kept a session from opening, for a "test connection" to name it. */
export type OpenFailureKind = 'auth' | 'tls' | 'refused' | 'timeout' | 'other';

export class SessionError extends Error {
  readonly kind: OpenFailureKind;
  constructor(readonly failure: Failure, readonly tlsFailed: boolean, kind?: OpenFailureKind) {
    super(failure.response);
    this.kind = kind ?? (tlsFailed ? 'tls' : 'other');
  }
}

type SmtpError = Error & { code?: string; originalCode?: string; response?: string; responseCode?: number; command?: string; timeoutType?: string };

/** "550 5.1.1" from "550 5.1.1 <x@y>: Recipient address rejected"; RFC 3463 enhanced code when present. */
export function replyCode(reply: string): string | null {
  const m = reply.match(/^(\d{3})(?:[ -]([245]\.\d{1,3}\.\d{1,3})\b)?/);
  return m ? (m[2] ? `${m[1]} ${m[2]}` : m[1]!) : null;
}

/** RFC 5321 §4.2.1: 2yz done, 4yz transient, 5yz permanent (anything else is treated as transient). */
export function resultOf(address: string, reply: string): RecipientResult {
  const c = reply.charAt(0);
  const status = c === '2' ? 'delivered' : c === '5' ? 'perm_fail' : 'temp_fail';
  return { address, status, code: replyCode(reply), response: reply.trim() };
}

const VERBS = new Set(['EHLO', 'HELO', 'STARTTLS', 'AUTH', 'MAIL', 'RCPT', 'DATA', 'RSET', 'QUIT', 'NOOP']);
const STAGE: Record<string, string> = { MAIL: 'MAIL FROM', RCPT: 'RCPT TO' };

/** Follows commands and replies; pairs them in order (pipelined commands are answered in order, RFC 2920 §3.1). */
class Transcript {
  pending: string[] = [];
  private rcptQueue: string[] = [];
  rcpt = new Map<string, string>();
  mailReply: string | null = null;
  dataStarted = false;
  private greeted = false;

  readonly logger = {
    debug: (entry: { tnx?: string }, msg: unknown) => this.onLog(entry?.tnx, String(msg ?? '')),
    trace: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    fatal: () => undefined,
  };

  beginMessage(): void {
    this.rcpt.clear();
    this.rcptQueue = [];
    this.mailReply = null;
    this.dataStarted = false;
  }

  stage(): string {
    const verb = this.pending[0];
    if (verb) return STAGE[verb] ?? verb;
    return this.dataStarted ? 'DATA' : this.greeted ? 'the session' : 'the greeting';
  }

  private onLog(tnx: string | undefined, msg: string): void {
    if (tnx === 'client') {
      const word = msg.split(' ', 1)[0]!.toUpperCase();
      const verb = VERBS.has(word) ? word : 'AUTH'; // SASL continuation lines
      this.pending.push(verb);
      if (verb === 'RCPT') this.rcptQueue.push(msg.match(/<([^>]*)>/)?.[1] ?? '');
    } else if (tnx === 'server') {
      if (!this.greeted) {
        this.greeted = true;
        return;
      }
      const verb = this.pending.shift(); // undefined: the reply to the end of DATA
      if (verb === 'MAIL') this.mailReply = msg;
      else if (verb === 'RCPT') this.rcpt.set(this.rcptQueue.shift() ?? '', msg);
      else if (verb === 'DATA' && msg.startsWith('3')) this.dataStarted = true;
    }
  }
}

/** "mx.example.org [192.0.2.1]", with the port when it is not 25 (labs, tests, relays). */
function label(t: SessionTarget): string {
  const where = t.port === 25 ? `[${t.ip}]` : `[${t.ip}]:${t.port}`;
  return t.host === t.ip ? where : `${t.host} ${where}`;
}

/** Certificate and handshake failures surface as socket errors carrying OpenSSL's or Node's code. */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_MISMATCH|ERR_OSSL_)/;

function describeOpenError(e: SmtpError, t: SessionTarget, tr: Transcript, o: SessionTimeouts, upgrading: boolean): SessionError {
  const who = label(t);
  const temp = (response: string, code: string | null = null, tlsFailed = false, kind?: OpenFailureKind) => new SessionError({ status: 'temp_fail', code, response }, tlsFailed, kind);
  if (e.response) {
    const reply = e.response.trim();
    // a 5xx greeting is skipped like a 4xx one (as Postfix's smtp_skip_5xx_greeting): another MX may take the mail
    if (e.command === 'CONN') return temp(`${who} greeted with: ${reply}`, replyCode(reply));
    if (e.command === 'STARTTLS') return temp(`${who} does not offer STARTTLS: ${reply}`, replyCode(reply), true);
    // bad relay credentials are the operator's to fix: keep the mail meanwhile (Postfix's soft bounce)
    if (e.code === 'EAUTH') return temp(`${who} refused our credentials: ${reply}`, replyCode(reply), false, 'auth');
    return temp(`${who} answered ${e.command ?? 'the session'} with: ${reply}`, replyCode(reply));
  }
  if (e.code === 'EAUTH') return temp(`authentication with ${who} failed: ${e.message}`, null, false, 'auth');
  if (e.code === 'ETLS' || e.timeoutType === 'UPGRADE_TIMEOUT' || upgrading || TLS_CODE.test(e.originalCode ?? '')) {
    return temp(`TLS with ${who} failed: ${e.message.replace(/^Error initiating TLS - /, '')}`, null, true);
  }
  if (e.originalCode === 'ECONNREFUSED') return temp(`connection to ${who} refused`, null, false, 'refused');
  if (e.timeoutType === 'CONNECT_TIMEOUT') return temp(`connection to ${who} timed out after ${o.connectTimeoutMs / 1000} s`, null, false, 'timeout');
  if (e.timeoutType === 'GREETING_TIMEOUT') return temp(`${who} sent no greeting within ${o.connectTimeoutMs / 1000} s`, null, false, 'timeout');
  return temp(breakReason(e, t, tr));
}

/** What ended a session without a reply: "connection to mx.example.org [192.0.2.1] lost during DATA". */
function breakReason(e: SmtpError, t: SessionTarget, tr: Transcript): string {
  if (e.code === 'ETIMEDOUT') return `${label(t)} timed out during ${tr.stage()}`;
  if (e.originalCode && e.originalCode !== 'ECONNRESET' && e.originalCode !== 'EPIPE') return `connection to ${label(t)} failed (${e.originalCode})`;
  return `connection to ${label(t)} lost during ${tr.stage()}`;
}

function tlsOptions(t: SessionTarget): tls.ConnectionOptions {
  if (!t.pin) return { rejectUnauthorized: t.verify, ...(t.ca ? { ca: t.ca } : {}) };
  const wanted = t.pin.fingerprint;
  return {
    rejectUnauthorized: true,
    // the pinned certificate is the only trust anchor, and the only certificate accepted
    ca: [t.pin.pem],
    checkServerIdentity: (_host, cert) =>
      cert.fingerprint256 === wanted ? undefined : Object.assign(new Error(`certificate ${cert.fingerprint256} is not the trusted one`), { code: 'CERT_FINGERPRINT_MISMATCH' }),
  };
}

export class SmtpSession {
  /** transactions started on this connection */
  messages = 0;
  private closed = false;
  /** The negotiated TLS protocol and cipher, null for a plain-text session (read once: they hold for the session). */
  readonly tls: { protocol: string; cipher: string } | null = null;
  private readonly peer: { cert: tls.PeerCertificate; chainOk: boolean } | null = null;

  private constructor(
    private readonly conn: SMTPConnection,
    readonly target: SessionTarget,
    private readonly transcript: Transcript,
  ) {
    conn.on('error', () => undefined); // failures reach the pending call; the event must not go unheard
    conn.once('end', () => {
      this.closed = true;
    });
    const s = conn._socket;
    if (conn.secure && s instanceof tls.TLSSocket) {
      this.tls = { protocol: s.getProtocol() ?? 'unknown', cipher: s.getCipher()?.name ?? 'unknown' };
      // the session may serve several names on one address: keep the chain verdict apart from the name check
      const chainOk = s.authorized || String(s.authorizationError) === 'ERR_TLS_CERT_ALTNAME_INVALID';
      this.peer = { cert: s.getPeerCertificate(), chainOk };
    }
  }

  static open(target: SessionTarget, o: SessionTimeouts): Promise<SmtpSession> {
    const transcript = new Transcript();
    const conn = new SMTPConnection({
      host: target.ip,
      port: target.port,
      name: o.ehloName,
      secure: target.tls === 'implicit',
      requireTLS: target.tls === 'starttls',
      ignoreTLS: target.tls === 'plain',
      // a server that refuses STARTTLS after offering it still gets the mail in plain text
      opportunisticTLS: target.tls === 'opportunistic',
      servername: target.host === target.ip ? undefined : target.host,
      tls: tlsOptions(target),
      connectionTimeout: o.connectTimeoutMs,
      greetingTimeout: o.connectTimeoutMs,
      socketTimeout: o.commandTimeoutMs,
      socketCloseTimeout: 1000,
      logger: transcript.logger as unknown as SMTPConnection.Options['logger'],
      transactionLog: true,
    });
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        conn.close();
        reject(describeOpenError(err as SmtpError, target, transcript, o, !!conn.upgrading));
      };
      const ended = () => fail(Object.assign(new Error('Connection closed'), { code: 'ECONNECTION' }));
      conn.once('error', fail);
      conn.once('end', ended);
      const ready = () => {
        if (settled) return;
        settled = true;
        conn.removeListener('error', fail);
        conn.removeListener('end', ended);
        resolve(new SmtpSession(conn, target, transcript));
      };
      conn.connect((err) => {
        if (err) return fail(err);
        if (!target.auth) return ready();
        conn.login({ user: target.auth.user, pass: target.auth.pass }, (authErr) => (authErr ? fail(authErr) : ready()));
      });
    });
  }

  get alive(): boolean {
    return !this.closed && !this.conn.destroyed;
  }

  /** Whether the server's certificate chains to a trusted CA and is valid for `name` (RFC 8461 §4.2). */
  certificateValidFor(name: string): boolean {
    if (!this.peer || Object.keys(this.peer.cert).length === 0) return false;
    return this.peer.chainOk && tls.checkServerIdentity(name, this.peer.cert) === undefined;
  }

  send(mailFrom: string, recipients: string[], raw: Buffer): Promise<SendOutcome> {
    this.messages++;
    this.transcript.beginMessage();
    // RFC 5321 §4.5.5: an empty reverse-path is sent as MAIL FROM:<> (DSNs)
    const envelope = { from: mailFrom, to: recipients, size: raw.length, use8BitMime: !isAscii(raw) };
    return new Promise((resolve) => {
      this.conn.send(envelope, raw, (err, info) => resolve(this.outcome(recipients, err as SmtpError | null, info?.response)));
    });
  }

  private outcome(recipients: string[], err: SmtpError | null, final: string | undefined): SendOutcome {
    const tr = this.transcript;
    const rcptRefusal = (a: string) => {
      const reply = tr.rcpt.get(a);
      return reply && !reply.startsWith('2') ? resultOf(a, reply) : null;
    };
    if (!err) {
      return { results: recipients.map((a) => rcptRefusal(a) ?? resultOf(a, final ?? '250')), broken: null, retryable: false };
    }
    if (this.conn.destroyed || err.responseCode === 421) {
      const broken: Failure = err.response
        ? { status: 'temp_fail', code: replyCode(err.response), response: `${label(this.target)} closed the session: ${err.response.trim()}` }
        : { status: 'temp_fail', code: null, response: breakReason(err, this.target, tr) };
      // a definite RCPT refusal stays what it is; everyone else waits for the next attempt
      const results = recipients.map((a) => (tr.rcpt.get(a)?.startsWith('5') ? rcptRefusal(a)! : { address: a, ...broken }));
      return { results, broken, retryable: !tr.dataStarted };
    }
    const results = recipients.map((a): RecipientResult => {
      if (tr.mailReply && !tr.mailReply.startsWith('2')) return resultOf(a, tr.mailReply);
      const refused = rcptRefusal(a);
      if (refused) return refused;
      if (err.response) return resultOf(a, err.response);
      if (/larger than allowed/.test(err.message)) {
        // RFC 1870 §6.1, RFC 3463 X.3.4: larger than the SIZE the server announced
        return { address: a, status: 'perm_fail', code: '552 5.3.4', response: `message too big for ${label(this.target)}: ${err.message}` };
      }
      return { address: a, status: 'temp_fail', code: null, response: `${label(this.target)}: ${err.message}` };
    });
    return { results, broken: null, retryable: false };
  }

  /** RSET (RFC 5321 §4.1.1.5) before the connection carries another message; false when it is no longer usable. */
  reset(): Promise<boolean> {
    if (!this.alive) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onEnd = () => resolve(false);
      this.conn.once('end', onEnd);
      this.conn.reset((err) => {
        this.conn.removeListener('end', onEnd);
        resolve(!err && this.alive);
      });
    });
  }

  /** QUIT, then close; resolves once the connection is gone (or after a second at most). */
  close(): Promise<void> {
    if (!this.alive) {
      this.conn.close();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.conn.close();
        resolve();
      }, 1000);
      this.conn.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
      this.conn.quit();
    });
  }
}
