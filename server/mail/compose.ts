/**
 * Writing mail: the address syntax the box accepts from its users, the conventions of a reply
 * (subject, quote), and the RFC 5322 bytes of an outgoing message built with nodemailer's composer.
 * It knows nothing of drafts, the database or delivery: drafts.ts feeds it, the Sender sends what it
 * returns. Nothing here leaks more than the message needs: no X-Mailer, no user agent, no client IP,
 * a Date in UTC (not the user's time zone) and a random Message-ID on the sender's own domain.
 */
import crypto from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { AppError } from '../errors.js';
import { asciiDomain, domainOf, isEmailAddress, toAsciiAddress } from './address-syntax.js';

export { domainOf, isEmailAddress, toAsciiAddress };

export interface Mailbox {
  name: string | null;
  address: string;
}

export type MailboxInput = string | { address: string; name?: string | null };

/** Header text from user input: no line breaks or control characters (header injection), bounded. */
function oneLine(s: string, max: number): string {
  return s.replace(/[\x00-\x1f\x7f]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, max);
}

/**
 * "bob@example.org", "Bob <bob@example.org>", "\"Bob, Jr\" <bob@example.org>" or {name, address}
 * → a mailbox, or AppError('invalid_recipient') naming exactly what was given.
 */
export function parseMailbox(input: MailboxInput): Mailbox {
  let name: string | null = null;
  let address: string;
  if (typeof input === 'string') {
    const m = input.match(/^\s*(.*?)\s*<([^<>]*)>\s*$/s);
    if (m) {
      name = m[1]!.replace(/^"(.*)"$/s, '$1').replace(/\\(.)/g, '$1');
      address = m[2]!.trim();
    } else address = input.trim();
  } else {
    name = input.name ?? null;
    address = input.address.trim();
  }
  if (!isEmailAddress(address)) {
    const shown = typeof input === 'string' ? input.trim() : address;
    throw new AppError('invalid_recipient', `not an email address: ${JSON.stringify(shown.slice(0, 200))}`);
  }
  name = name === null ? null : oneLine(name, 200) || null;
  return { name, address };
}


// Reply and forward markers in the languages mail clients commonly write them in:
// Re, Fwd/Fw, AW (de), WG (de), TR (fr, transféré), Réf, SV/VS (nordic), Antw (nl), RIF/I (it, not stripped: too short).
const PREFIX = /^\s*(?:(?:re|fwd?|aw|wg|tr|r[ée]f|sv|vs|antw)(?:\s*\[\d+\]|\s*\(\d+\))?\s*[:：]\s*)+/i;

/** "Re: " exactly once before the parent's subject; a leading [list] tag stays in front. */
export function replySubject(parent: string | null | undefined): string {
  let s = oneLine(parent ?? '', 900);
  const tag = s.match(/^(\[[^\]]{1,60}\])\s*/);
  if (tag) s = s.slice(tag[0].length);
  s = s.replace(PREFIX, '');
  return tag ? `Re: ${tag[1]} ${s}`.trimEnd() : `Re: ${s}`.trimEnd();
}

/** The attribution line and the parent's text, every line prefixed "> " (RFC 3676 §4.5 quoting). */
export function quoteReply(opts: { text: string; author: string; date: Date; lang: 'en' | 'fr'; timezone: string }): string {
  let when: string;
  try {
    when = new Intl.DateTimeFormat(opts.lang === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'full', timeStyle: 'short', timeZone: opts.timezone }).format(opts.date);
  } catch {
    when = opts.date.toUTCString(); // an unknown time zone in the user's settings
  }
  const author = oneLine(opts.author, 200);
  const head = opts.lang === 'fr' ? `Le ${when}, ${author} a écrit :` : `On ${when}, ${author} wrote:`;
  const lines = opts.text.replace(/\r\n?/g, '\n').replace(/\s+$/, '').split('\n');
  const quoted = lines.map((l) => (l.startsWith('>') ? `>${l}` : l ? `> ${l}` : '>'));
  return `${head}\n${quoted.join('\n')}\n\n`;
}

/** A file name without a path or control characters, as it will appear in the message. */
export function attachmentFilename(name: string): string {
  const base = name.replace(/[\x00-\x1f\x7f]/g, '').split(/[/\\]/).pop()!.trim().replace(/^\.+$/, '');
  return base.slice(0, 255) || 'attachment';
}

/** type/subtype (and a text charset) when well-formed, else application/octet-stream. */
export function attachmentContentType(value: string): string {
  const token = "[a-z0-9!#$&^_.+-]+";
  const m = value.toLowerCase().match(new RegExp(`^\\s*(${token}/${token})\\s*(?:;.*?charset="?(${token})"?)?`));
  if (!m) return 'application/octet-stream';
  return m[1]!.startsWith('text/') && m[2] ? `${m[1]}; charset=${m[2]}` : m[1]!;
}

export interface ComposeAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface ComposeInput {
  from: Mailbox;
  to: Mailbox[];
  cc?: Mailbox[];
  bcc?: Mailbox[];
  subject: string;
  text: string;
  html?: string;
  attachments?: ComposeAttachment[];
  /** Message-IDs without angle brackets */
  inReplyTo?: string | null;
  references?: string[];
  /** the sender's domain: Message-IDs name the domain that vouches for them */
  messageIdDomain: string;
  date: Date;
}

export interface ComposedMessage {
  raw: Buffer;
  /** the Message-ID without angle brackets */
  messageId: string;
  envelope: { mailFrom: string; rcptTo: string[] };
}

// A long thread's References is trimmed to the root and the latest ids, as mail clients do.
const MAX_REFERENCES = 20;

function trimReferences(ids: string[]): string[] {
  return ids.length <= MAX_REFERENCES ? ids : [ids[0]!, ...ids.slice(ids.length - MAX_REFERENCES + 1)];
}

const asHeader = (m: Mailbox) => ({ name: m.name ?? '', address: m.address });

export async function composeMessage(input: ComposeInput): Promise<ComposedMessage> {
  const domain = asciiDomain(input.messageIdDomain);
  if (!domain) throw new AppError('bad_request', `not a domain: ${JSON.stringify(input.messageIdDomain)}`);
  const messageId = `${crypto.randomBytes(18).toString('base64url')}@${domain}`;
  const composer = new MailComposer({
    from: asHeader(input.from),
    to: input.to.map(asHeader),
    cc: input.cc?.length ? input.cc.map(asHeader) : undefined,
    // Bcc is deliberately not given to the composer: it lives in the envelope only (RFC 5322 §3.6.3).
    subject: oneLine(input.subject, 2000),
    text: input.text.replace(/\r\n?/g, '\n'),
    html: input.html,
    attachments: (input.attachments ?? []).map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
    inReplyTo: input.inReplyTo || undefined,
    references: input.references?.length ? trimReferences(input.references) : undefined,
    messageId: `<${messageId}>`,
    date: input.date,
    newline: 'windows',
    // nodemailer's default boundary prefix (--_NmP) names the software, as X-Mailer would. "=_"
    // cannot occur in quoted-printable or base64 text, so the boundary never collides with a body.
    boundaryPrefix: '=_',
    baseBoundary: crypto.randomBytes(12).toString('hex'),
    // Content comes from the user's own upload; nothing may make the box read a file or a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const raw = await composer.compile().build();
  const rcptTo: string[] = [];
  const seen = new Set<string>();
  for (const m of [...input.to, ...(input.cc ?? []), ...(input.bcc ?? [])]) {
    const ascii = toAsciiAddress(m.address);
    if (!ascii) throw new AppError('invalid_recipient', `not an email address: ${JSON.stringify(m.address)}`);
    if (!seen.has(ascii.toLowerCase())) rcptTo.push(ascii);
    seen.add(ascii.toLowerCase());
  }
  const mailFrom = toAsciiAddress(input.from.address);
  if (!mailFrom) throw new AppError('sender_not_allowed', `not an email address: ${JSON.stringify(input.from.address)}`);
  return { raw, messageId, envelope: { mailFrom, rcptTo } };
}
