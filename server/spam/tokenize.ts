/**
 * A parsed message → the tokens the learning filter counts. The same tokens carry a few structural
 * facts ("u:" URL hosts, "h:body:…" size, "h:no-mid"…) that the content rules read back, so one pass
 * over the body serves both the rules and the Bayes filter.
 *
 * Work per message is bounded: at most MAX_BODY_CHARS of text and MAX_URLS URLs are scanned and at most
 * MAX_TOKENS unique tokens are kept, headers first so a huge body cannot push sender facts out.
 */
import type { ParsedMail } from 'mailparser';
import { baseDomain, bucket, firstAddress, headerText, hostOf, listHeaders, senderOf } from './facts.js';

export const MAX_TOKENS = 1000;
const MAX_BODY_CHARS = 64 * 1024;
const MAX_HTML_CHARS = 512 * 1024;
const MAX_URLS = 200;
const MAX_WORD = 30;
const MAX_TOKEN = 100;
/** bucket edges of the "h:urls:…" (distinct links) and "h:body:…" (characters of text besides links) tokens */
export const URL_EDGES = [0, 1, 5, 20] as const;
export const BODY_EDGES = [0, 40, 400, 4000] as const;

// A word starts with a letter or digit and may hold inner apostrophes, dots and dashes ("don't",
// "example.com", "e-mail"), so domains and contractions stay whole.
const WORD = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*(?:['’.\-][\p{L}\p{M}\p{N}]+)*/gu;
// Scripts written without spaces: a run of them is one "word", so it is counted as character pairs.
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;
const URL = /\b(?:https?|ftp):\/\/[^\s"'<>\\`)\]]+|\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)+[^\s"'<>\\`)\]]*/gi;

/** Keeps insertion order, drops duplicates and stops accepting at the cap. */
class TokenSet {
  readonly items = new Set<string>();
  add(token: string): void {
    if (this.items.size < MAX_TOKENS) this.items.add(token.slice(0, MAX_TOKEN));
  }
  get full(): boolean {
    return this.items.size >= MAX_TOKENS;
  }
}

export function tokenize(parsed: ParsedMail): string[] {
  const out = new TokenSet();
  addHeaderFeatures(out, parsed);
  addSender(out, parsed);
  addRelays(out, parsed);
  addWords(out, 's:', parsed.subject ?? '');
  const body = bodyText(parsed);
  const urls = findUrls(body, typeof parsed.html === 'string' ? parsed.html.slice(0, MAX_HTML_CHARS) : '');
  out.add(`h:urls:${bucket(urls.size, URL_EDGES)}`);
  const prose = body.replace(URL, ' ').trim();
  out.add(`h:body:${bucket(prose.length, BODY_EDGES)}`);
  for (const url of urls) {
    const host = hostOf(url);
    if (!host) continue;
    out.add(`u:${host}`);
    out.add(`u:${baseDomain(host)}`);
  }
  addStyle(out, prose);
  if (typeof parsed.html === 'string') addMarkup(out, parsed.html.slice(0, MAX_HTML_CHARS));
  addWords(out, '', body);
  return [...out.items];
}

const RELAY_HOST = /\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b/gi;
const RELAY_IP = /\[(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}\]/g;

/**
 * The relays a message passed through (the newest few Received lines): the networks spam comes from
 * differ from the ones a user's correspondents use, and the user's own servers, present on every
 * message, cancel out. Networks are kept at /16 so one sender's pool of addresses counts as one.
 */
function addRelays(out: TokenSet, parsed: ParsedMail): void {
  const received = parsed.headerLines.filter((h) => h.key === 'received').slice(0, 4);
  for (const { line } of received) {
    const from = line.slice(0, 600).toLowerCase();
    for (const m of from.matchAll(RELAY_HOST)) out.add(`r:${baseDomain(m[0])}`);
    for (const m of from.matchAll(RELAY_IP)) out.add(`r:ip:${m[1]}.${m[2]}`);
    if (from.includes('may be forged')) out.add('h:forged-relay');
  }
}

/** Which HTML elements a message uses (fonts, tables, images, forms) says much about who built it. */
function addMarkup(out: TokenSet, html: string): void {
  const seen = new Set<string>();
  for (const m of html.matchAll(/<([a-z][a-z0-9]{0,9})\b/gi)) {
    const tag = m[1]!.toLowerCase();
    if (seen.has(tag)) continue;
    seen.add(tag);
    out.add(`t:${tag}`);
    if (seen.size >= 40) return;
  }
}

/** Shouting and money: counted on the prose, bucketed so the filter learns how much is normal. */
function addStyle(out: TokenSet, prose: string): void {
  const sample = prose.slice(0, 16 * 1024);
  const words = sample.match(/\p{L}{3,}/gu) ?? [];
  const capitals = words.filter((w) => w === w.toUpperCase() && w !== w.toLowerCase()).length;
  if (words.length >= 10) out.add(`h:caps:${bucket(Math.round((100 * capitals) / words.length), [5, 20, 50])}`);
  out.add(`h:excl:${bucket(sample.split('!').length - 1, [0, 2, 10])}`);
  if (/[$€£]\s?\d/.test(sample)) out.add('h:money');
}

/** The message's readable text: the text part, else its HTML reduced to text; bounded. */
export function bodyText(parsed: ParsedMail): string {
  if (parsed.text && parsed.text.trim()) return parsed.text.slice(0, MAX_BODY_CHARS);
  if (typeof parsed.html === 'string') return htmlToText(parsed.html.slice(0, MAX_HTML_CHARS)).slice(0, MAX_BODY_CHARS);
  return '';
}

/**
 * Tags out, script/style contents out, common entities decoded. A linear scan (indexOf) rather than a
 * regex over `<script…</script>`, because hostile HTML with thousands of unclosed tags must not go quadratic.
 */
export function htmlToText(html: string): string {
  const lower = html.toLowerCase();
  const parts: string[] = [];
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      parts.push(html.slice(i));
      break;
    }
    parts.push(html.slice(i, lt), ' ');
    const skipTo = lower.startsWith('<script', lt) ? '</script' : lower.startsWith('<style', lt) ? '</style' : null;
    const from = skipTo ? lower.indexOf(skipTo, lt) : lt;
    const gt = from < 0 ? -1 : html.indexOf('>', from);
    if (gt < 0) break;
    i = gt + 1;
  }
  return parts.join('').replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,8});/gi, decodeEntity);
}

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntity(all: string, name: string): string {
  if (name[0] !== '#') return ENTITIES[name.toLowerCase()] ?? ' ';
  const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
}

/** Distinct URLs of the text and of the HTML's attributes (hidden links count), at most MAX_URLS. */
function findUrls(text: string, html: string): Set<string> {
  const urls = new Set<string>();
  for (const source of [text, html]) {
    for (const m of source.matchAll(URL)) {
      if (urls.size >= MAX_URLS) return urls;
      urls.add(m[0].replace(/[.,;:!?]+$/, ''));
    }
  }
  return urls;
}

function addWords(out: TokenSet, prefix: string, text: string): void {
  if (!text) return;
  const normal = text.normalize('NFKC').toLowerCase();
  for (const m of normal.matchAll(WORD)) {
    if (out.full) return;
    const w = m[0];
    if (UNSPACED.test(w)) {
      for (let i = 0; i + 1 < w.length && i < 64; i++) out.add(prefix + w.slice(i, i + 2));
    } else if (w.length >= 2 && w.length <= MAX_WORD && !(w.length > 4 && /^\d+$/.test(w))) {
      // long digit runs are order numbers and ids: unique per message, they only bloat the table
      out.add(prefix + w);
    }
  }
}

function addSender(out: TokenSet, parsed: ParsedMail): void {
  const from = senderOf(parsed);
  if (!from) {
    out.add('h:no-from');
    return;
  }
  out.add(`fa:${from.address}`);
  out.add(`fd:${from.domain}`);
  out.add(`fd:${baseDomain(from.domain)}`);
  addWords(out, 'fn:', from.name);
  const replyTo = firstAddress(parsed.replyTo);
  if (replyTo && baseDomain(replyTo.address.slice(replyTo.address.lastIndexOf('@') + 1)) !== baseDomain(from.domain)) {
    out.add('h:reply-to-elsewhere');
  }
}

function addHeaderFeatures(out: TokenSet, parsed: ParsedMail): void {
  const ct = parsed.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  out.add(`h:ct:${(ct?.value ?? 'text/plain').toLowerCase()}`);
  if (ct?.params?.charset) out.add(`h:cs:${ct.params.charset.toLowerCase()}`);
  const mailer = headerText(parsed, 'x-mailer') ?? headerText(parsed, 'user-agent');
  if (mailer) out.add(`h:mailer:${(mailer.toLowerCase().match(/[a-z][a-z.\- ]*/) ?? ['other'])[0].trim()}`);
  const list = listHeaders(parsed);
  if (list.id !== null) out.add('h:list');
  if (list.unsubscribe) out.add('h:unsubscribe');
  const precedence = headerText(parsed, 'precedence');
  if (precedence) out.add(`h:prec:${precedence.trim().toLowerCase()}`);
  const mid = parsed.messageId?.match(/@([^>\s]+)/);
  out.add(mid ? `h:mid:${baseDomain(mid[1]!.toLowerCase())}` : 'h:no-mid');
  if (!parsed.headers.has('date')) out.add('h:no-date');
  if (!parsed.to) out.add('h:no-to');
  if (typeof parsed.html === 'string') out.add('h:html');
  for (const a of parsed.attachments.slice(0, 20)) {
    out.add(`h:att:${a.contentType.toLowerCase()}`);
    const ext = a.filename?.toLowerCase().match(/\.([a-z0-9]{1,8})$/);
    if (ext) out.add(`ext:${ext[1]}`);
  }
}
