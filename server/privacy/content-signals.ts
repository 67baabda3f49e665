/**
 * Content analyzer: is the message sealed (OpenPGP), signed, and does its HTML reach out to the
 * internet when opened (remote images, tracking pixels, remote styles and fonts)? Pure functions over
 * what mailparser already produced; no second parse of the message.
 */
import type { ParsedMail } from 'mailparser';
import type { Signal } from '../mail/types.js';
import { signal } from './weights.js';

export type ContentView = Pick<ParsedMail, 'headers' | 'attachments' | 'text' | 'html'>;

export interface RemoteContent {
  /** remote images that are visible (tracking pixels are counted apart) */
  remoteImages: number;
  trackingPixels: number;
  /** remote stylesheets, fonts, backgrounds, frames, scripts, media */
  remoteOther: number;
}

// RFC 4880 §6.2 armor header lines (inline PGP); §7 cleartext signature framework
const ARMOR_MESSAGE = '-----BEGIN PGP MESSAGE-----';
const ARMOR_SIGNED = '-----BEGIN PGP SIGNED MESSAGE-----';

/** Open-tracking endpoints of common mailing services; matched against an image URL. */
const TRACKER_URLS = [
  /\/track\/open/i, // Mailchimp (list-manage.com), Mandrill and many others
  /\/wf\/open\b/i, // SendGrid
  /\/(?:open|opened)\.(?:php|aspx?|gif|png)\b/i,
  /\/(?:pixel|beacon|tracking-pixel)(?:\.gif|\.png|[/?]|$)/i,
  /\/(?:e\/)?o(?:pen)?\?(?:.*&)?(?:e|u|id|uid)=/i,
  /\bmailtrack\.io\//i,
  /\bsidekickopen\d*\./i,
  /\bt\.yesware\.com\//i,
  /\bmixmax\.com\/api\/track/i,
  /\bmailfoogae\.appspot\.com\//i, // Streak
  /\bgoogle-analytics\.com\/(?:collect|__utm\.gif)/i,
  /\bfacebook\.com\/tr\b/i,
];

export function contentType(parsed: ContentView): { value: string; protocol: string } {
  const ct = parsed.headers.get('content-type') as { value?: string; params?: Record<string, string> } | string | undefined;
  if (!ct) return { value: 'text/plain', protocol: '' };
  if (typeof ct === 'string') return { value: ct.toLowerCase(), protocol: '' };
  return { value: (ct.value ?? '').toLowerCase(), protocol: (ct.params?.protocol ?? '').toLowerCase() };
}

/** PGP/MIME (RFC 3156 §4) at the top or nested, or inline armor in the text part. */
export function isPgpEncrypted(parsed: ContentView): boolean {
  const ct = contentType(parsed);
  if (ct.value === 'multipart/encrypted' && ct.protocol === 'application/pgp-encrypted') return true;
  // "mixed-up" PGP/MIME (mangled by some relays) keeps the control part as an attachment
  if (parsed.attachments.some((a) => a.contentType?.toLowerCase() === 'application/pgp-encrypted')) return true;
  return typeof parsed.text === 'string' && parsed.text.includes(ARMOR_MESSAGE);
}

/** A signature is present (RFC 3156 §5 multipart/signed, or an inline cleartext signature). */
export function hasPgpSignature(parsed: ContentView): boolean {
  const ct = contentType(parsed);
  if (ct.value === 'multipart/signed' && ct.protocol === 'application/pgp-signature') return true;
  if (parsed.attachments.some((a) => a.contentType?.toLowerCase() === 'application/pgp-signature')) return true;
  return typeof parsed.text === 'string' && parsed.text.includes(ARMOR_SIGNED);
}

/**
 * PGP_ENCRYPTED, SIGNATURE_VERIFIED (only when the caller verified it), PGP_SIGNED (present, unverified),
 * and the remote-content verdict. An encrypted body cannot be inspected here, so it earns no
 * NO_REMOTE_CONTENT: SPEC §7 gives no points for what was not verified.
 */
export function contentSignals(parsed: ContentView, opts: { verifiedSignature?: boolean } = {}): Signal[] {
  const out: Signal[] = [];
  const encrypted = isPgpEncrypted(parsed);
  if (encrypted) out.push(signal('PGP_ENCRYPTED'));
  if (opts.verifiedSignature === true) out.push(signal('SIGNATURE_VERIFIED'));
  else if (hasPgpSignature(parsed)) out.push(signal('PGP_SIGNED'));
  if (encrypted) return out;
  const found = typeof parsed.html === 'string' ? findRemoteContent(parsed.html) : null;
  if (!found || found.remoteImages + found.trackingPixels + found.remoteOther === 0) {
    out.push(signal('NO_REMOTE_CONTENT'));
    return out;
  }
  if (found.trackingPixels > 0) out.push(signal('TRACKING_PIXEL', `${found.trackingPixels} pixel(s)`));
  if (found.remoteImages + found.remoteOther > 0) {
    out.push(signal('REMOTE_CONTENT', `${found.remoteImages} image(s), ${found.remoteOther} other`));
  }
  return out;
}

const CSS_URL_RE = /url\(\s*(?:"([^"]*)"|'([^']*)'|([^"'()]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')/gi;
const TAG_NAME = /[a-z][a-z0-9:-]*/y;
const CSS_WIDTH = /(?:^|;)width:([^;]*)/;
const CSS_HEIGHT = /(?:^|;)height:([^;]*)/;
const LOADING_REL = /\b(?:stylesheet|icon|preload|prefetch|preconnect|dns-prefetch|apple-touch-icon)\b/i;
const MEDIA_ATTRS = ['src', 'data', 'poster', 'background'];

/** Counts what a mail reader would fetch from the network when showing this HTML. */
export function findRemoteContent(html: string): RemoteContent {
  const found: RemoteContent = { remoteImages: 0, trackingPixels: 0, remoteOther: 0 };
  for (const tag of scanTags(html)) {
    if (tag.name === 'img') countImage(tag.attrs, found);
    else if (tag.name === 'link') {
      if (isRemote(tag.attrs.get('href')) && LOADING_REL.test(tag.attrs.get('rel') ?? '')) found.remoteOther++;
    } else if (MEDIA_ATTRS.some((a) => isRemote(tag.attrs.get(a)))) found.remoteOther++;
    else if (isRemote(firstSrcset(tag.attrs.get('srcset')))) found.remoteOther++;
    const style = tag.attrs.get('style');
    if (style) found.remoteOther += countCssUrls(style);
    if (tag.css) found.remoteOther += countCssUrls(tag.css);
  }
  return found;
}

interface Tag {
  name: string;
  attrs: Map<string, string>;
  /** the text of a <style> block */
  css?: string;
}

/**
 * One linear pass over attacker-controlled HTML: no regular expression here may backtrack over the
 * whole input, since this runs on every inbound message. Quoted values may hold "<" and ">".
 */
function* scanTags(html: string): Generator<Tag> {
  const lower = html.toLowerCase();
  let i = 0;
  for (;;) {
    const lt = html.indexOf('<', i);
    if (lt < 0) return;
    TAG_NAME.lastIndex = lt + 1;
    const name = TAG_NAME.exec(lower)?.[0];
    if (!name) {
      i = lt + 1;
      continue;
    }
    const { attrs, end } = readAttributes(html, lt + 1 + name.length);
    i = end;
    if (name !== 'style') {
      yield { name, attrs };
      continue;
    }
    const close = lower.indexOf('</style', end);
    i = close < 0 ? html.length : close;
    yield { name, attrs, css: html.slice(end, i) };
  }
}

// hot helpers live at module level: tsx (keepNames) re-wraps a named closure on every call
function isWhite(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
}

function isSpace(c: string | undefined): boolean {
  return isWhite(c) || c === '/';
}

/** Attributes from `pos` to the unquoted ">" ending the tag; `end` is just past it. */
function readAttributes(html: string, pos: number): { attrs: Map<string, string>; end: number } {
  const attrs = new Map<string, string>();
  const n = html.length;
  while (pos < n) {
    while (pos < n && isSpace(html[pos])) pos++;
    if (pos >= n || html[pos] === '>') break;
    const start = pos;
    while (pos < n && !isSpace(html[pos]) && html[pos] !== '>' && (html[pos] !== '=' || pos === start)) pos++;
    const name = html.slice(start, pos).toLowerCase();
    let value = '';
    let p = pos;
    while (p < n && isWhite(html[p])) p++;
    if (html[p] === '=') {
      p++;
      while (p < n && isWhite(html[p])) p++;
      const q = html[p];
      if (q === '"' || q === "'") {
        const close = html.indexOf(q, p + 1);
        value = html.slice(p + 1, close < 0 ? n : close);
        p = close < 0 ? n : close + 1;
      } else {
        const s = p;
        while (p < n && html[p] !== '>' && !isWhite(html[p])) p++; // unquoted URLs keep their slashes
        value = html.slice(s, p);
      }
      pos = p;
    }
    if (!attrs.has(name)) attrs.set(name, value);
  }
  return { attrs, end: Math.min(pos + 1, n) };
}

function countImage(attrs: Map<string, string>, found: RemoteContent): void {
  const src = attrs.get('src');
  const url = isRemote(src) ? src : firstSrcset(attrs.get('srcset'));
  if (isRemote(url)) {
    if (isTrackingPixel(attrs, decodeEntities(url!))) found.trackingPixels++;
    else found.remoteImages++;
  }
  if (isRemote(attrs.get('background'))) found.remoteOther++;
}

/** Invisible images (1×1, zero-sized, hidden by style), or known open-tracking URLs. */
function isTrackingPixel(attrs: Map<string, string>, url: string): boolean {
  const style = (attrs.get('style') ?? '').toLowerCase().replace(/\s+/g, '');
  const width = attributeSize(attrs.get('width')) ?? cssSize(CSS_WIDTH.exec(style)?.[1]);
  const height = attributeSize(attrs.get('height')) ?? cssSize(CSS_HEIGHT.exec(style)?.[1]);
  if (width === 0 || height === 0) return true;
  // a 1-pixel spacer stretched on the other side (width=30 height=1) is layout, not a pixel
  if ((width !== undefined || height !== undefined) && (width ?? 1) <= 1 && (height ?? 1) <= 1) return true;
  if (attrs.has('hidden')) return true;
  if (/(?:^|;)(?:display:none|visibility:hidden|opacity:0(?:\.0+)?(?:;|$)|max-(?:width|height):0)/.test(style)) return true;
  const head = url.slice(0, 2048); // tracker markers sit early; bounds the regex work
  return TRACKER_URLS.some((re) => re.test(head));
}

/** HTML reads a dimension from its leading digits ("1/", "1px" are 1); a percentage is not pixels. */
function attributeSize(value: string | undefined): number | undefined {
  const m = value === undefined ? null : /^\s*(\d+(?:\.\d+)?)\s*(%?)/.exec(value);
  return m && !m[2] ? Number.parseFloat(m[1]!) : undefined;
}

/** A CSS length in pixels (whitespace already removed); other units are left undecided. */
function cssSize(value: string | undefined): number | undefined {
  const m = value === undefined ? null : /^(\d+(?:\.\d+)?)(?:px)?(?:!important)?$/.exec(value);
  return m ? Number.parseFloat(m[1]!) : undefined;
}

function countCssUrls(css: string): number {
  let n = 0;
  for (const m of decodeEntities(css).matchAll(CSS_URL_RE)) {
    if (isRemote(m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5])) n++;
  }
  return n;
}

function firstSrcset(srcset: string | undefined): string | undefined {
  return srcset?.trim().split(/[\s,]+/)[0];
}

/** http(s) or protocol-relative; cid:, data: and relative references load nothing from the network. */
function isRemote(url: string | undefined): boolean {
  if (!url) return false;
  // browsers drop tabs/newlines and leading spaces inside URLs, a common filter evasion
  const u = (/[&\s\u0000-\u001f]/.test(url) ? decodeEntities(url).replace(/[\s\u0000-\u001f]+/g, '') : url).slice(0, 8).toLowerCase();
  return u.startsWith('http:') || u.startsWith('https:') || u.startsWith('//') || u.startsWith('\\\\');
}

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s
    .replace(/&#x([0-9a-f]{1,6});?/gi, (_, h: string) => codePoint(Number.parseInt(h, 16)))
    .replace(/&#(\d{1,7});?/g, (_, d: string) => codePoint(Number.parseInt(d, 10)))
    .replace(/&colon;/gi, ':')
    .replace(/&sol;/gi, '/')
    .replace(/&quot;/gi, '"')
    .replace(/&apos;/gi, "'")
    .replace(/&amp;/gi, '&');
}

function codePoint(n: number): string {
  return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : ' ';
}
