/**
 * Recognising incoming bounces: standard delivery reports (RFC 3464 multipart/report with a
 * message/delivery-status part, or its UTF-8 form of RFC 6533) and the notices for humans that many
 * MTAs still send instead. The result names the failed (or delayed) recipients with the remote
 * reply, and the Message-ID of the message that bounced, so ingest can file the bounce with it.
 *
 * Not bounces, answered null: auto-replies and vacation notices (RFC 3834), challenge-response
 * requests, read receipts (RFC 8098 MDNs), abuse feedback reports (ARF, RFC 5965), DMARC and TLS
 * reports. None of them says that a message failed to arrive.
 *
 * Cheap for ordinary mail: only the top header block and the start of the text are looked at
 * before deciding that a message cannot be a bounce.
 */
import type { ParsedMail } from 'mailparser';
import { normalizeNewlines, splitHead, parseHeaders, headerOf, walkMime, leaves, MAX_BOUNCE_BYTES, type MimeHeader, type MimePart } from './bounce-mime.js';
import { parseDeliveryStatus, emailsIn, type BounceRecipient, type RecipientAction } from './bounce-fields.js';
import { isHardFailure } from './status-codes.js';
import { NDR_PHRASES, NDR_SUBJECT, cutAtOriginal, isDelayNotice, recipientsFromText, messageIdInText } from './bounce-text.js';

export type { BounceRecipient, RecipientAction } from './bounce-fields.js';

export type BounceKind = 'failed' | 'delayed' | 'delivered' | 'unknown';

export interface BounceReport {
  /** failed if any recipient failed, else delayed if any is delayed, else delivered (a success DSN) */
  kind: BounceKind;
  recipients: BounceRecipient[];
  /** without angle brackets */
  originalMessageId: string | null;
  reportingMta: string | null;
}

const DAEMON_FROM =
  /mailer[-_ ]?daemon|post_?master|mail ?delivery ?(system|subsystem|service)?|mail ?administrator|mail ?transport|system ?administrator|internet ?mail ?delivery|delivery ?status|post ?office|mdaemon|\bmail ?(router|gateway|system)\b|microsoft ?outlook|mailer@|bounce|nondelivery/i;
const AUTO_REPLY_SUBJECT =
  /^(auto(matic)?[ _-]?(reply|response|antwort|answer)|auto:|out of (the )?office|abwesen|absence|absent|r[ée]ponse automatique|vacation|on leave|away from|thank you for your (e-?mail|message)|\[?automatyczna)|\((auto(matic)? ?(reply|response))\)|out of office/i;
const REPORT_TYPES_NOT_BOUNCES = /feedback-report|disposition-notification|tlsrpt|dmarc/i;

interface Evidence {
  fromDaemon: boolean;
  subject: boolean;
  nullSender: boolean;
  reportType: boolean;
  failedHeader: string[];
  autoReply: boolean;
}

function evidenceOf(h: MimeHeader[]): Evidence {
  const from = headerOf(h, 'from') ?? '';
  const subject = headerOf(h, 'subject') ?? '';
  const ct = (headerOf(h, 'content-type') ?? '').toLowerCase();
  const auto = (headerOf(h, 'auto-submitted') ?? '').toLowerCase();
  const returnPath = headerOf(h, 'return-path');
  return {
    fromDaemon: DAEMON_FROM.test(from),
    subject: NDR_SUBJECT.test(subject) || NDR_PHRASES.test(subject),
    nullSender: returnPath !== null && /^<?\s*>?$|^<?mailer-daemon>?$/i.test(returnPath.trim()),
    reportType: ct.startsWith('multipart/report') && /delivery-status/.test(ct),
    failedHeader: (headerOf(h, 'x-failed-recipients') ?? '').split(/[\s,]+/).filter((a) => a.includes('@')).map((a) => a.replace(/[<>]/g, '').toLowerCase()),
    autoReply:
      auto.startsWith('auto-replied') || AUTO_REPLY_SUBJECT.test(subject) ||
      h.some((x) => /^(x-autoreply|x-autorespond|x-auto-response)$/.test(x.name) || (x.name === 'precedence' && /auto_reply/i.test(x.value))),
  };
}

function dsnParts(root: MimePart): MimePart[] {
  return leaves(root).filter((p) => /^(message|text)\/(global-)?delivery-status$/.test(p.type));
}

/** The notice for humans: the text parts outside the returned original, cut at the separator line. */
function noticeText(root: MimePart): { notice: string; full: string } {
  const texts = leaves(root).filter((p) => p.type.startsWith('text/') && !/rfc822|delivery-status|headers/.test(p.type));
  const plain = texts.filter((p) => p.type !== 'text/html');
  const chosen = plain.length ? plain : texts;
  const full = chosen.map((p) => (p.type === 'text/html' ? htmlText(p.text) : p.text)).join('\n\n');
  return { notice: cutAtOriginal(full).notice, full };
}

function htmlText(html: string): string {
  return html.replace(/<(script|style|head)[\s\S]*?<\/\1>/gi, ' ').replace(/<br\s*\/?>|<\/(p|div|tr|li|h\d)>/gi, '\n').replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/[ \t]+/g, ' ');
}

function addressesIn(value: string | null): string[] {
  return emailsIn((value ?? '').slice(0, 4000)).map((e) => e.address);
}

interface Original {
  messageId: string | null;
  /** its sender's addresses: never failed recipients */
  senders: string[];
  /** whom it was for, from its first Received "for <…>" or, when it names only one, To/Cc */
  recipients: string[];
}

function readOriginalHeaders(h: MimeHeader[], o: Original): void {
  o.messageId ??= stripId(headerOf(h, 'message-id'));
  o.senders.push(...addressesIn(headerOf(h, 'from')), ...addressesIn(headerOf(h, 'return-path')), ...addressesIn(headerOf(h, 'sender')));
  if (o.recipients.length) return;
  const forAddress = h.filter((x) => x.name === 'received').map((x) => x.value.match(/\bfor\s+<?([^\s<>;]+@[^\s<>;]+?)>?\s*;/i)?.[1]).find(Boolean);
  const to = [...addressesIn(headerOf(h, 'to')), ...addressesIn(headerOf(h, 'cc'))];
  o.recipients = forAddress ? [forAddress.toLowerCase()] : to.length === 1 ? to : [];
}

/** The returned original (an attached message or headers part, else the text below the separator). */
function originalOf(root: MimePart, full: string, top: MimeHeader[]): Original {
  const o: Original = { messageId: null, senders: [], recipients: [] };
  for (const p of leaves(root).filter((x) => /^(message\/(rfc822|global)|text\/rfc822-headers|message\/global-headers)$/.test(x.type))) {
    readOriginalHeaders(parseHeaders(p.text), o);
  }
  const { original } = cutAtOriginal(full);
  if (original) {
    const block = original.split('\n').slice(1).join('\n').replace(/^\s+/, '').split('\n\n')[0] ?? '';
    readOriginalHeaders(parseHeaders(block), o);
  }
  o.messageId ??= messageIdInText(original || full);
  o.messageId ??= stripId(headerOf(top, 'in-reply-to')) ?? stripId((headerOf(top, 'references') ?? '').trim().split(/\s+/).pop() ?? null);
  return o;
}

function stripId(v: string | null): string | null {
  const m = v?.match(/<([^<>\s]+)>/) ?? v?.trim().match(/^([^\s<>]+@[^\s<>]+)$/);
  return m ? m[1]!.slice(0, 500) : null;
}

function kindOf(recipients: BounceRecipient[], fallback: BounceKind): BounceKind {
  const actions = new Set(recipients.map((r) => r.action));
  if (actions.has('failed')) return 'failed';
  if (actions.has('delayed')) return 'delayed';
  if (recipients.length && [...actions].every((a) => a === 'delivered')) return 'delivered';
  return fallback;
}

/** Cheap first look at the top header block and the start of the text: most mail stops here. */
function mightBeBounce(ev: Evidence, parsed: ParsedMail, s: string): boolean {
  if (ev.fromDaemon || ev.subject || ev.nullSender || ev.reportType || ev.failedHeader.length) return true;
  return NDR_PHRASES.test((parsed.text ?? '').slice(0, 4096)) || /delivery-status|^final-recipient:/im.test(s.slice(0, 64 * 1024));
}

/** Recipients of the machine-readable report, wherever the MTA put it. */
function standardReport(root: MimePart, parsed: ParsedMail, full: string): { reportingMta: string | null; recipients: BounceRecipient[] } {
  const parts = dsnParts(root);
  const attached = (parsed.attachments ?? []).filter((a) => /delivery-status$/i.test(a.contentType)).map((a) => normalizeNewlines(a.content.toString('utf8')));
  // Reports pasted into the text part (some gateways do) count when no part carries one.
  const inline = /^(reporting-mta|final-recipient|original-recipient)\s*:/im.exec(full);
  const texts = parts.length ? parts.map((p) => p.text) : attached.length ? attached : inline ? [full.slice(inline.index)] : [];
  let reportingMta: string | null = null;
  const recipients: BounceRecipient[] = [];
  for (const t of texts) {
    const f = parseDeliveryStatus(t);
    reportingMta ??= f.reportingMta;
    recipients.push(...f.recipients);
  }
  return { reportingMta, recipients: dedupe(recipients) };
}

/** A report without diagnostic (OpenSMTPD, some Exchange) often has the reply in the notice. */
function enrichFromNotice(recipients: BounceRecipient[], fromText: BounceRecipient[]): BounceRecipient[] {
  return recipients.map((r) => {
    const t = fromText.find((x) => x.address === r.address);
    if (r.diagnostic || !t?.diagnostic) return r;
    const status = r.status && !/\.0\.0$/.test(r.status) ? r.status : t.status?.[0] === r.status?.[0] || !r.status ? t.status ?? r.status : r.status;
    return { ...r, status, code: r.code ?? t.code, diagnostic: t.diagnostic, hard: r.action === 'failed' && isHardFailure(status, r.code ?? t.code, t.diagnostic) };
  });
}

/** The report a bounce carries, or null when the message is not a bounce. Never throws: ingest calls it on every message. */
export function parseBounce(parsed: ParsedMail, raw: Buffer): BounceReport | null {
  try {
    return readBounce(parsed, raw);
  } catch {
    return null;
  }
}

function readBounce(parsed: ParsedMail, raw: Buffer): BounceReport | null {
  const start = normalizeNewlines(raw.subarray(0, 128 * 1024).toString('latin1')).replace(/^From [^\n]*\n/, '');
  const top = parseHeaders(splitHead(start).head);
  const ct = (headerOf(top, 'content-type') ?? '').toLowerCase();
  if (ct.startsWith('multipart/report') && REPORT_TYPES_NOT_BOUNCES.test(ct)) return null;
  const ev = evidenceOf(top);
  if (!mightBeBounce(ev, parsed, start)) return null;

  const root = walkMime(normalizeNewlines(raw.subarray(0, MAX_BOUNCE_BYTES).toString('latin1')).replace(/^From [^\n]*\n/, ''));
  if (leaves(root).some((p) => /^message\/(feedback-report|disposition-notification)$/.test(p.type))) return null;
  const { notice, full } = noticeText(root);
  const original = originalOf(root, full, top);
  const bodyNdr = NDR_PHRASES.test(notice);
  const subject = headerOf(top, 'subject') ?? '';
  const exclude = { never: new Set(addressesIn(headerOf(top, 'from'))), unlikely: new Set([...addressesIn(headerOf(top, 'to')), ...addressesIn(headerOf(top, 'return-path')), ...original.senders]) };
  for (const a of ev.failedHeader) exclude.unlikely.delete(a);
  const std = standardReport(root, parsed, full);
  const bounceHeaders = ev.fromDaemon || ev.subject || ev.nullSender || ev.reportType || ct.startsWith('multipart/report');

  if (std.recipients.length && (bounceHeaders || bodyNdr)) {
    const recipients = enrichFromNotice(std.recipients, recipientsFromText(notice, exclude, 'failed'));
    return { kind: kindOf(recipients, 'unknown'), recipients, originalMessageId: original.messageId, reportingMta: std.reportingMta };
  }
  const returnsOriginal = leaves(root).some((p) => /^(message\/(rfc822|global)|text\/rfc822-headers|message\/global-headers)$/.test(p.type));
  const score = (ev.fromDaemon ? 2 : 0) + (ev.subject ? 2 : 0) + (ev.nullSender ? 1 : 0) + (ev.reportType ? 2 : 0) + (bodyNdr ? 2 : 0) + (returnsOriginal ? 1 : 0);
  const isBounce = ev.failedHeader.length > 0 || ((bodyNdr || ev.subject) && score >= 4);
  if (!isBounce || (ev.autoReply && !ev.fromDaemon && !(bodyNdr && ev.subject))) return null;
  const action: RecipientAction = isDelayNotice(subject, notice) ? 'delayed' : 'failed';
  const recipients = recipientsFromText(notice, exclude, action, ev.failedHeader.length ? { only: ev.failedHeader } : { fallback: original.recipients });
  const reportingMta = notice.match(/(?:mail system at host|qmail-send program at|this is the .{0,40} at)\s+([\w.-]+\.[a-z]{2,})/i)?.[1] ?? null;
  return { kind: kindOf(recipients, action), recipients, originalMessageId: original.messageId, reportingMta };
}

function dedupe(list: BounceRecipient[]): BounceRecipient[] {
  const seen = new Map<string, BounceRecipient>();
  for (const r of list) {
    const prev = seen.get(r.address);
    if (!prev || (!prev.diagnostic && r.diagnostic)) seen.set(r.address, r);
  }
  return [...seen.values()];
}
