/**
 * A small, forgiving MIME walk over raw bytes for the bounce parser. mailparser gives one merged
 * text and loses the part boundaries that matter here (it folds message/delivery-status into the
 * text, empties truncated message/rfc822 parts, and reads CR-only files as one header line), so
 * bounce recognition reads the structure itself: any line ending, broken boundaries, base64 and
 * quoted-printable in any charset TextDecoder knows. Embedded messages are read for their headers
 * only: a returned original is never decoded.
 */

export interface MimeHeader {
  name: string; // lower-case
  value: string; // unfolded, encoded words decoded
}

export interface MimePart {
  headers: MimeHeader[];
  type: string; // lower-case, e.g. "message/delivery-status"
  params: Record<string, string>;
  /** decoded text of a leaf part (empty for multiparts); for message/rfc822 the embedded message's header block */
  text: string;
  parts: MimePart[];
}

const MAX_PARTS = 64;
const MAX_DEPTH = 5;
/** A DSN's parts come before the returned original; nothing after this is needed to recognise it. */
export const MAX_BOUNCE_BYTES = 2 * 1024 * 1024;

export function normalizeNewlines(s: string): string {
  return s.replace(/\r\n?/g, '\n');
}

/** Header block and body; a text that does not start with a header line has no headers. */
export function splitHead(s: string): { head: string; body: string } {
  if (!/^[!-9;-~]+[ \t]*:/.test(s)) return { head: '', body: s };
  const i = s.indexOf('\n\n');
  return i < 0 ? { head: s, body: '' } : { head: s.slice(0, i), body: s.slice(i + 2) };
}

export function parseHeaders(head: string): MimeHeader[] {
  const out: MimeHeader[] = [];
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line) && out.length) {
      out[out.length - 1]!.value += ' ' + line.trim();
      continue;
    }
    const m = line.match(/^([!-9;-~]+)[ \t]*:[ \t]*(.*)$/);
    if (m) out.push({ name: m[1]!.toLowerCase(), value: m[2]!.trim() });
  }
  for (const h of out) h.value = decodeWords(rawUtf8(h.value));
  return out;
}

/** Raw 8-bit header bytes (read as latin1) are UTF-8 when they decode as such (RFC 6532). */
function rawUtf8(value: string): string {
  if (!/[\x80-\xff]/.test(value)) return value;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}

export function headerOf(headers: MimeHeader[], name: string): string | null {
  return headers.find((h) => h.name === name)?.value ?? null;
}

export function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  const label = (charset ?? 'utf-8').trim().toLowerCase().replace(/^"|"$/g, '');
  try {
    return new TextDecoder(label === 'us-ascii' || label === 'ascii' ? 'utf-8' : label).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** RFC 2047 encoded words in a header value. */
export function decodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  return value
    .replace(/(=\?[^?\s]+\?[bq]\?[^?\s]*\?=)\s+(?==\?)/gi, '$1')
    .replace(/=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bq])\?([^?\s]*)\?=/gi, (_, cs: string, enc: string, data: string) => {
      const bytes = enc.toLowerCase() === 'b' ? Buffer.from(data, 'base64') : qpBytes(data.replace(/_/g, ' '));
      return decodeCharset(bytes, cs);
    });
}

function qpBytes(s: string): Buffer {
  const body = s.replace(/=\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0x3d && /^[0-9a-f]{2}$/i.test(body.slice(i + 1, i + 3))) {
      out.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(c & 0xff);
  }
  return Buffer.from(out);
}

export function parseContentType(value: string | null): { type: string; params: Record<string, string> } {
  if (!value) return { type: 'text/plain', params: {} };
  const [first, ...rest] = splitParams(value);
  const params: Record<string, string> = {};
  for (const p of rest) {
    const m = p.match(/^\s*([^=\s]+)\s*=\s*(.*)$/s);
    if (m) params[m[1]!.toLowerCase().replace(/\*$/, '')] = m[2]!.trim().replace(/^"(.*)"$/s, '$1');
  }
  return { type: (first ?? '').trim().toLowerCase() || 'text/plain', params };
}

/** Splits on ';' outside double quotes. */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function decodeBody(body: string, headers: MimeHeader[], charset: string | undefined): string {
  const cte = (headerOf(headers, 'content-transfer-encoding') ?? '').toLowerCase();
  let bytes: Buffer;
  if (cte.includes('base64')) bytes = Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  else if (cte.includes('quoted-printable')) bytes = qpBytes(body);
  else bytes = Buffer.from(body, 'latin1');
  return decodeCharset(bytes, charset);
}

/** Parts of a multipart body, or null when the boundary never appears (treated as text). */
function splitMultipart(body: string, boundary: string): string[] | null {
  const lines = body.split('\n');
  const open = '--' + boundary;
  const parts: string[] = [];
  let cur: string[] | null = null;
  for (const line of lines) {
    const t = line.trimEnd();
    if (t === open || t === open + '--') {
      if (cur) parts.push(cur.join('\n'));
      cur = t === open ? [] : null;
      if (t !== open) break;
      continue;
    }
    cur?.push(line);
  }
  if (cur) parts.push(cur.join('\n'));
  return parts.length ? parts : null;
}

/**
 * A multipart body whose Content-Type header was lost on the way (list software strips it), or whose
 * boundary parameter was (a continuation line without its indentation): the boundary shows.
 */
function guessLostMultipart(headers: MimeHeader[], body: string): { type: string; params: Record<string, string> } | null {
  const declared = headerOf(headers, 'content-type');
  const ct = declared === null ? null : parseContentType(declared);
  if (ct && !(ct.type.startsWith('multipart/') && !ct.params.boundary)) return null;
  const m = body.match(/^--([^\s]{6,70})\n(?:content-[\w-]+:[^\n]*\n(?:[ \t][^\n]*\n)*)*content-type:/im);
  // only a short preamble may come before the first part, else the boundary belongs to a quoted original
  return m && m.index! < 400 && body.includes(`\n--${m[1]}--`) ? { type: ct?.type ?? 'multipart/mixed', params: { ...ct?.params, boundary: m[1]! } } : null;
}

const DSN_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status', 'text/delivery-status']);

/** Walks a normalized (LF-only, latin1-decoded) message. */
export function walkMime(s: string): MimePart {
  let count = 0;
  const walk = (text: string, depth: number): MimePart => {
    count++;
    // a part that starts with an empty line has no headers (RFC 2046 §5.1.1: text/plain us-ascii)
    const { head, body } = text.startsWith('\n') ? { head: '', body: text.slice(1) } : splitHead(text);
    const headers = parseHeaders(head);
    const { type, params } = guessLostMultipart(headers, body) ?? parseContentType(headerOf(headers, 'content-type'));
    const part: MimePart = { headers, type, params, text: '', parts: [] };
    if (type.startsWith('multipart/') && params.boundary && depth < MAX_DEPTH) {
      const chunks = splitMultipart(body, params.boundary);
      if (chunks) {
        for (const c of chunks) if (count < MAX_PARTS) part.parts.push(walk(c, depth + 1));
        return part;
      }
      part.type = 'text/plain'; // its boundary never shows: read it as text
    }
    if (type === 'message/rfc822' || type === 'message/global' || type === 'text/rfc822-headers' || type === 'message/global-headers') {
      const inner = decodeBody(body.slice(0, 256 * 1024), headers, 'utf-8').replace(/^\n+/, '');
      // A report forwarded as an attachment (some gateways wrap the MTA's DSN): read the report.
      const innerType = parseContentType(headerOf(parseHeaders(splitHead(inner).head), 'content-type'));
      if (type === 'message/rfc822' && innerType.type === 'multipart/report' && depth < MAX_DEPTH) {
        part.parts.push(walk(inner, depth + 1));
        return part;
      }
      part.text = splitHead(inner).head || inner.slice(0, 16 * 1024);
      return part;
    }
    part.text = decodeBody(body, headers, params.charset);
    if (DSN_TYPES.has(type)) {
      // Some MTAs omit the empty line after the part's own headers: the report's first fields
      // were read as part headers; give them back.
      const fields = headers.filter((h) => !/^(content-|mime-version$)/.test(h.name));
      if (fields.length) part.text = fields.map((h) => `${h.name}: ${h.value}`).join('\n') + '\n\n' + part.text;
    }
    return part;
  };
  return walk(s.replace(/^From [^\n]*\n/, ''), 0);
}

export function leaves(p: MimePart): MimePart[] {
  return p.parts.length ? p.parts.flatMap(leaves) : [p];
}
