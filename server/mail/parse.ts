/**
 * Parsing raw messages (mailparser) and the facts ingest derives from them: addresses, the
 * content hash used for de-duplication, Message-ID, List-ID, excerpt, encryption markers.
 */
import { simpleParser, type ParsedMail, type AddressObject, type Attachment } from 'mailparser';
import { sha256 } from '../store/blobs.js';
import { withoutFields } from './header-lines.js';

export async function parseMessage(raw: Buffer): Promise<ParsedMail> {
  return simpleParser(raw, {
    skipTextToHtml: true, // we never serve generated HTML; saves time on every message
    skipTextLinks: true,
    skipImageLinks: true,
    maxHtmlLengthToParse: 2 * 1024 * 1024,
  });
}

export interface AddressEntry {
  role: 'from' | 'to' | 'cc' | 'bcc' | 'reply_to';
  address: string;
  name: string | null;
}

function flatten(obj: AddressObject | AddressObject[] | undefined): Array<{ address: string; name: string }> {
  const out: Array<{ address: string; name: string }> = [];
  const walk = (list: Array<{ address?: string; name: string; group?: unknown[] }>) => {
    for (const a of list) {
      if (a.group) walk(a.group as typeof list);
      else if (a.address && a.address.includes('@')) out.push({ address: a.address.trim().toLowerCase(), name: a.name });
    }
  };
  for (const o of Array.isArray(obj) ? obj : obj ? [obj] : []) walk(o.value);
  return out;
}

export function addressesOf(parsed: ParsedMail): AddressEntry[] {
  const out: AddressEntry[] = [];
  const roles: Array<[AddressEntry['role'], AddressObject | AddressObject[] | undefined]> = [
    ['from', parsed.from],
    ['to', parsed.to],
    ['cc', parsed.cc],
    ['bcc', parsed.bcc],
    ['reply_to', parsed.replyTo],
  ];
  for (const [role, obj] of roles) {
    for (const a of flatten(obj)) out.push({ role, address: a.address.slice(0, 320), name: a.name ? a.name.slice(0, 200) : null });
  }
  return out;
}

const TRACE_HEADERS = /^(received|return-path|delivered-to|x-original-to|authentication-results|received-spf|x-received|x-delivered-to):/i;

/**
 * sha256 of the message without its trace headers and with line endings normalised, so that
 * the same message reaching us by SMTP, by mbox and by IMAP is recognised as one.
 */
export function contentHash(raw: Buffer): string {
  const s = raw.toString('latin1').replace(/\r\n?/g, '\n');
  const split = s.indexOf('\n\n');
  const head = split >= 0 ? s.slice(0, split) : s;
  const body = split >= 0 ? s.slice(split + 2) : '';
  const kept = withoutFields(head.split('\n'), (line) => TRACE_HEADERS.test(line));
  return sha256(kept.join('\n') + '\n\n' + body.replace(/\s+$/, ''));
}

export function stripAngles(id: string | undefined | null): string | null {
  if (!id) return null;
  const m = id.trim().match(/<([^>]+)>/);
  const v = (m ? m[1]! : id.trim()).slice(0, 500);
  return v || null;
}

export function referencesOf(parsed: ParsedMail): string[] {
  const r = parsed.references;
  const list = Array.isArray(r) ? r : r ? r.split(/\s+/) : [];
  return list.map(stripAngles).filter((x): x is string => !!x).slice(-50);
}

/** RFC 2919: the list identifier is the part in angle brackets (or the whole value if none). */
export function listIdOf(parsed: ParsedMail): string | null {
  const line = parsed.headerLines?.find((h) => h.key === 'list-id')?.line;
  if (!line) return null;
  const value = line.slice(line.indexOf(':') + 1).replace(/\s+/g, ' ');
  const m = value.match(/<([^>]+)>/);
  const id = (m ? m[1]! : value).trim().toLowerCase();
  return id ? id.slice(0, 255) : null;
}

export function bodyText(parsed: ParsedMail): string {
  if (parsed.text) return parsed.text;
  if (typeof parsed.html === 'string') return htmlToPlain(parsed.html);
  return '';
}

function htmlToPlain(html: string): string {
  return html
    .replace(/<(script|style|head)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&quot;/g, '"');
}

export function excerptOf(text: string, max = 200): string {
  // Only the head of a long body can end up in an excerpt; do not split megabytes for 200 chars.
  const lines = text.slice(0, 8 * max + 2000).split(/\r?\n/).filter((l) => !/^\s*>/.test(l) && !/^On .* wrote:$/.test(l.trim()));
  return lines.join(' ').replace(/\s+/g, ' ').trim().slice(0, max);
}

/** PGP/MIME control parts (RFC 3156) are not attachments a person would want to see. */
export function isPgpControlPart(a: Attachment): boolean {
  return a.contentType === 'application/pgp-encrypted' || a.contentType === 'application/pgp-signature';
}

export function userAttachments(parsed: ParsedMail): Attachment[] {
  const encrypted = contentTypeOf(parsed) === 'multipart/encrypted';
  return parsed.attachments.filter((a) => !isPgpControlPart(a) && !(encrypted && isPgpPayload(a)) && !(a.related && !a.filename));
}

/** The encrypted body of a PGP/MIME message (its second control part): opened by the browser, not an attachment. */
function isPgpPayload(a: Attachment): boolean {
  return a.contentType === 'application/octet-stream' && a.content.subarray(0, 200).toString('latin1').includes('-----BEGIN PGP MESSAGE-----');
}

export function contentTypeOf(parsed: ParsedMail): string {
  const ct = parsed.headers.get('content-type') as { value?: string } | string | undefined;
  return (typeof ct === 'string' ? ct : ct?.value ?? 'text/plain').toLowerCase();
}

export function isEncrypted(parsed: ParsedMail): boolean {
  return contentTypeOf(parsed) === 'multipart/encrypted' || /-----BEGIN PGP MESSAGE-----/.test(parsed.text ?? '');
}

export function isSigned(parsed: ParsedMail): boolean {
  return contentTypeOf(parsed) === 'multipart/signed' || /-----BEGIN PGP SIGNED MESSAGE-----/.test(parsed.text ?? '');
}

export function normalizeSubject(subject: string | undefined): string {
  let s = (subject ?? '').trim();
  for (;;) {
    const next = s.replace(/^(re|fwd?|tr|aw|wg|sv|vs|réf|ref)\s*(\[\d+\])?\s*:\s*/i, '');
    if (next === s) return s;
    s = next;
  }
}
