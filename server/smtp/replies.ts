/**
 * The replies the inbound MX writes itself. Each text starts with its RFC 3463 enhanced status
 * code: the server sends such texts as they are (see limits.ts), so the code a client sees is the
 * one chosen here and never one smtp-server guesses from the numeric reply.
 */
import type { SmtpReply } from '../errors.js';

/** Matches a text that already carries an enhanced status code (RFC 3463 §2: class.subject.detail). */
export const ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;

/** Sent only once deliver() resolved, i.e. the message is on disk (SPEC §1: acceptance is durable). */
export const REPLY_ACCEPTED: SmtpReply = { responseCode: 250, message: '2.0.0 Ok: message stored' }; // RFC 5321 §4.2.2

/** RFC 5321 §3.3: a recipient known not to exist is refused with 550 at RCPT time; RFC 3463 §3.2 X.1.1. */
export const REPLY_UNKNOWN_RECIPIENT: SmtpReply = { responseCode: 550, message: '5.1.1 No such mailbox here' };

/** RFC 5321 §3.6: we relay for nobody on the MX port; RFC 3463 §3.8 X.7.1 (554 as Postfix answers relaying). */
export const REPLY_RELAY_DENIED: SmtpReply = { responseCode: 554, message: '5.7.1 Relay access denied' };

/** RFC 1870 §4: a message over the announced SIZE gets a permanent 552; RFC 3463 §3.4 X.3.4. */
export const REPLY_MESSAGE_TOO_BIG: SmtpReply = {
  responseCode: 552,
  message: '5.3.4 Message exceeds the fixed maximum message size',
};

/**
 * RFC 5321 §2.3.8 and RFC 5322 §2.3: CR and LF only ever travel together as CRLF. A bare one is how
 * SMTP smuggling (CVE-2023-51766 family) hides a second message inside DATA; RFC 3463 §3.7 X.6.0.
 */
export const REPLY_BARE_LINE_ENDING: SmtpReply = {
  responseCode: 550,
  message: '5.6.0 Bare CR or LF in message; lines must end with CRLF',
};

/** Our own failure: temporary, so the sender keeps the mail and retries (STYLE: never 5xx by our bug). */
export const REPLY_TEMPORARY_FAILURE: SmtpReply = {
  responseCode: 451,
  message: '4.3.0 Temporary local problem, please try again later',
}; // RFC 5321 §4.2.2, RFC 3463 §3.4 X.3.0

/** RFC 5321 §3.8: the server may end a session with 421; RFC 3463 §3.8 X.7.0 (policy). */
export function replyTooManyErrors(hostname: string): SmtpReply {
  return { responseCode: 421, message: `4.7.0 ${hostname} Error: too many errors` };
}

/** A reply decided by the protocol layer, thrown through async code and turned into an SMTP reply at the edge. */
export class SmtpRejection extends Error {
  readonly reply: SmtpReply;
  constructor(reply: SmtpReply) {
    super(reply.message);
    this.name = 'SmtpRejection';
    this.reply = reply;
  }
}

/** The shape smtp-server expects from a handler error: the numeric code travels as responseCode. */
export function toSmtpServerError(reply: SmtpReply): Error & { responseCode: number } {
  return Object.assign(new Error(reply.message), { responseCode: reply.responseCode });
}
