/**
 * Our own delivery status notifications (RFC 3464): a multipart/report with a plain explanation in
 * the sender's language, the machine-readable message/delivery-status, and the original's headers
 * (text/rfc822-headers: never its body, which the sender has and which may be large or private).
 * It threads with the message it is about (In-Reply-To/References) and is marked auto-replied so
 * that no well-behaved software answers it (RFC 3834).
 */
import { randomBytes } from 'node:crypto';
import { explainStatus, normalizeStatus, type Lang } from './status-codes.js';
import { withoutFields } from '../mail/header-lines.js';

export interface DsnRecipient {
  address: string;
  action: 'failed' | 'delayed';
  /** enhanced status code, e.g. "5.1.1" */
  status: string;
  /** SMTP reply code and enhanced status when the remote server answered, e.g. "550 5.1.1"; null for network errors */
  code: string | null;
  /** the remote reply, or what went wrong ("connection refused by mx.example.org") */
  diagnostic: string;
  remoteMta?: string;
  willRetryUntil?: Date;
}

export interface DsnInput {
  lang: Lang;
  /** this box's host name */
  reportingMta: string;
  /** when the box accepted the message */
  arrivalDate: Date;
  /** the From address, e.g. MAILER-DAEMON@<hostname> */
  postmaster: string;
  /** the sender of the original */
  to: string;
  /** the message as sent */
  original: Buffer;
  recipients: DsnRecipient[];
  now: Date;
}

const WORDS = {
  en: {
    from: 'Mail Delivery System',
    subjectFailed: 'Undelivered Mail Returned to Sender',
    subjectDelayed: 'Delayed Mail (still being retried)',
    intro: (host: string) => `This is the mail system at ${host}.`,
    failed: (to: string, why: string) => `Your message to ${to} could not be delivered: ${why}.`,
    delayed: (to: string, why: string) => `Your message to ${to} has not been delivered yet: ${why}.`,
    expired: (span: string) => `the box kept trying for ${span} without success`,
    retrying: (until: string) => `The box keeps trying until ${until}; you do not need to send it again. You will be told if it finally fails.`,
    days: (n: number) => (n === 1 ? '1 day' : `${n} days`),
    hours: (n: number) => (n === 1 ? '1 hour' : `${n} hours`),
    adviceAddress: 'Check the address and send it again.',
    adviceFull: 'You can send it again later, or reach the recipient another way.',
    advicePolicy: 'If you think this is a mistake, reach the recipient another way.',
    adviceLater: 'You can send it again later.',
    footer: 'The technical report and the headers of your message are attached.',
    locale: 'en-GB',
  },
  fr: {
    from: 'Service de distribution du courrier',
    subjectFailed: 'Message non remis',
    subjectDelayed: 'Message retardé (nouvel essai en cours)',
    intro: (host: string) => `Ceci est le système de courrier de ${host}.`,
    failed: (to: string, why: string) => `Votre message à ${to} n'a pas pu être remis : ${why}.`,
    delayed: (to: string, why: string) => `Votre message à ${to} n'a pas encore été remis : ${why}.`,
    expired: (span: string) => `la boîte a essayé pendant ${span} sans succès`,
    retrying: (until: string) => `La boîte continue d'essayer jusqu'au ${until} ; inutile de le renvoyer. Vous serez prévenu s'il échoue définitivement.`,
    days: (n: number) => (n === 1 ? '1 jour' : `${n} jours`),
    hours: (n: number) => (n === 1 ? '1 heure' : `${n} heures`),
    adviceAddress: "Vérifiez l'adresse et renvoyez-le.",
    adviceFull: 'Vous pouvez le renvoyer plus tard, ou joindre le destinataire autrement.',
    advicePolicy: "Si vous pensez que c'est une erreur, joignez le destinataire autrement.",
    adviceLater: 'Vous pouvez le renvoyer plus tard.',
    footer: "Le rapport technique et les en-têtes de votre message sont joints.",
    locale: 'fr-FR',
  },
} as const;

const CRLF = '\r\n';

function formatDate(d: Date, lang: Lang): string {
  return new Intl.DateTimeFormat(WORDS[lang].locale, { dateStyle: 'full', timeStyle: 'short', timeZone: 'UTC' }).format(d) + ' UTC';
}

/** RFC 5322 date-time, in UTC. */
export function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

function expiredSpan(input: DsnInput): string {
  const hours = Math.max(1, Math.round((input.now.getTime() - input.arrivalDate.getTime()) / 3_600_000));
  return hours >= 48 ? WORDS[input.lang].days(Math.round(hours / 24)) : WORDS[input.lang].hours(hours);
}

/** The remote reply on one line, starting with its code; shortened for the human part. */
function replyText(r: DsnRecipient, max = 300): string {
  const d = r.diagnostic.replace(/\s+/g, ' ').trim();
  const withCode = r.code && !d.startsWith(r.code.split(' ')[0]!) ? `${r.code} ${d}` : d;
  return withCode.length > max ? withCode.slice(0, max - 1) + '…' : withCode;
}

function paragraph(input: DsnInput, r: DsnRecipient): string {
  const w = WORDS[input.lang];
  const status = normalizeStatus(r.status) ?? (r.action === 'failed' ? '5.0.0' : '4.0.0');
  const expired = r.action === 'failed' && (status.startsWith('4') || /^5\.4\.7$/.test(status));
  const why = (expired ? w.expired(expiredSpan(input)) : explainStatus(status, input.lang)) + (r.diagnostic ? ` (${replyText(r)})` : '');
  if (r.action === 'delayed') {
    const until = r.willRetryUntil ? ' ' + w.retrying(formatDate(r.willRetryUntil, input.lang)) : '';
    return w.delayed(r.address, why) + until;
  }
  const advice = /^5\.1\.(1|2|3|6|10)$|^5\.4\.4$/.test(status) ? w.adviceAddress
    : /^5\.2\.2$/.test(status) ? w.adviceFull
    : /^5\.7\./.test(status) ? w.advicePolicy
    : w.adviceLater;
  return `${w.failed(r.address, why)} ${advice}`;
}

/** The human part: one paragraph per recipient. */
function explanation(input: DsnInput): string {
  const w = WORDS[input.lang];
  return [w.intro(input.reportingMta), ...input.recipients.map((r) => paragraph(input, r)), w.footer].join('\n\n') + '\n';
}

/** A field value for the 7-bit report: one line, folded at 78 characters. */
function field(name: string, value: string): string {
  const words = value.replace(/[\r\n\t]+/g, ' ').replace(/\s+/g, ' ').trim().split(' ');
  const lines: string[] = [];
  let cur = `${name}:`;
  for (const word of words) {
    if (cur.length + 1 + word.length > 78 && cur.trim().length > name.length + 1) {
      lines.push(cur);
      cur = ' ';
    }
    cur += (cur === ' ' ? '' : ' ') + word;
  }
  lines.push(cur);
  return lines.join(CRLF);
}

const isAscii = (s: string) => /^[\x00-\x7f]*$/.test(s);

/** RFC 3464 §2.2 and §2.3; the UTF-8 variant of RFC 6533 when an address is not ASCII. */
function deliveryStatus(input: DsnInput): { text: string; global: boolean } {
  const global = !input.recipients.every((r) => isAscii(r.address) && isAscii(r.diagnostic));
  const lines = [field('Reporting-MTA', `dns; ${input.reportingMta}`), field('Arrival-Date', rfc5322Date(input.arrivalDate))];
  for (const r of input.recipients) {
    const status = normalizeStatus(r.status) ?? (r.action === 'failed' ? '5.0.0' : '4.0.0');
    const diagnostic = r.code ? `smtp; ${replyText(r, 1000)}` : `x-caliopen; ${r.diagnostic.slice(0, 1000)}`;
    lines.push(
      '',
      field('Final-Recipient', `${isAscii(r.address) ? 'rfc822' : 'utf-8'}; ${r.address}`),
      field('Action', r.action),
      field('Status', status),
      ...(r.remoteMta ? [field('Remote-MTA', `dns; ${r.remoteMta}`)] : []),
      ...(r.diagnostic || r.code ? [field('Diagnostic-Code', global ? diagnostic : diagnostic.replace(/[^\x20-\x7e]/g, '?'))] : []),
      field('Last-Attempt-Date', rfc5322Date(input.now)),
      ...(r.action === 'delayed' && r.willRetryUntil ? [field('Will-Retry-Until', rfc5322Date(r.willRetryUntil))] : []),
    );
  }
  return { text: lines.join(CRLF) + CRLF, global };
}

/** The original's header block, without Bcc (a DSN may be forwarded), with CRLF line endings. */
function originalHeaders(original: Buffer): { text: string; messageId: string | null; global: boolean } {
  const s = original.subarray(0, 256 * 1024).toString('latin1');
  const end = s.search(/\r?\n\r?\n/);
  const head = (end < 0 ? s : s.slice(0, end)).replace(/\r?\n/g, '\n');
  const kept = withoutFields(head.split('\n'), (line) => /^bcc\s*:/i.test(line));
  const text = kept.join(CRLF) + CRLF;
  const messageId = head.match(/^message-id:\s*(<[^>\s]+>)/im)?.[1] ?? null;
  return { text, messageId, global: !/^[\x00-\x7f]*$/.test(text) };
}

function encodeWord(s: string): string {
  return isAscii(s) ? s : `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}

/** Quoted-printable (RFC 2045 §6.7) with soft line breaks at 76 characters. */
function quotedPrintable(text: string): string {
  return text.split('\n').map((line) => {
    let enc = '';
    for (const byte of Buffer.from(line, 'utf8')) {
      enc += (byte >= 33 && byte <= 126 && byte !== 61) || byte === 32 ? String.fromCharCode(byte) : '=' + byte.toString(16).toUpperCase().padStart(2, '0');
    }
    enc = enc.replace(/ $/, '=20');
    const out: string[] = [];
    while (enc.length > 75) {
      let cut = 75;
      const eq = enc.lastIndexOf('=', cut);
      if (eq > cut - 3) cut = eq; // never split an =XX escape
      out.push(enc.slice(0, cut) + '=');
      enc = enc.slice(cut);
    }
    out.push(enc);
    return out.join(CRLF);
  }).join(CRLF);
}

/** Builds the DSN, ready to be stored or sent with a null reverse-path. */
export function buildDsn(input: DsnInput): Buffer {
  const w = WORDS[input.lang];
  const failed = input.recipients.some((r) => r.action === 'failed');
  const boundary = `dsn-${randomBytes(12).toString('hex')}`;
  const orig = originalHeaders(input.original);
  const report = deliveryStatus(input);
  const head = [
    `From: ${encodeWord(w.from)} <${input.postmaster}>`,
    `To: <${input.to}>`,
    `Subject: ${encodeWord(failed ? w.subjectFailed : w.subjectDelayed)}`,
    `Date: ${rfc5322Date(input.now)}`,
    `Message-ID: <${input.now.getTime().toString(36)}.${randomBytes(8).toString('hex')}@${input.reportingMta}>`,
    ...(orig.messageId ? [`In-Reply-To: ${orig.messageId}`, `References: ${orig.messageId}`] : []),
    'Auto-Submitted: auto-replied', // RFC 3834 §5
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;${CRLF} boundary="${boundary}"`,
    `Content-Language: ${input.lang}`,
  ];
  const human = ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', `Content-Language: ${input.lang}`, 'Content-Description: Notification', '', quotedPrintable(explanation(input))];
  const machine = [`Content-Type: message/${report.global ? 'global-' : ''}delivery-status`, ...(report.global ? ['Content-Transfer-Encoding: 8bit'] : []), 'Content-Description: Delivery report', '', report.text];
  const headers = [`Content-Type: ${orig.global ? 'message/global-headers' : 'text/rfc822-headers'}`, ...(orig.global ? ['Content-Transfer-Encoding: 8bit'] : []), 'Content-Description: Headers of your message', '', ''];
  const before = [head.join(CRLF), '', 'This is a delivery status notification (RFC 3464).', '', `--${boundary}`, human.join(CRLF), `--${boundary}`, machine.join(CRLF), `--${boundary}`, headers.join(CRLF)].join(CRLF);
  // the original's headers may hold raw 8-bit bytes: they are copied byte for byte
  return Buffer.concat([Buffer.from(before, 'utf8'), Buffer.from(orig.text, 'latin1'), Buffer.from(`${CRLF}--${boundary}--${CRLF}`, 'utf8')]);
}
