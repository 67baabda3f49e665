/**
 * The content-line layer of vCard 2.1, 3.0 (RFC 2425/2426) and 4.0 (RFC 6350): bytes to unfolded
 * lines, `[group.]NAME;PARAM=…:value` split, values decoded (QUOTED-PRINTABLE, BASE64, CHARSET),
 * escapes and compound values. Lines are handled as byte strings (latin1, one char per byte) until a
 * value is decoded, so a UTF-8 character split by folding or a CHARSET=ISO-8859-1 value in an
 * otherwise UTF-8 file both come out right. Not in charge of what properties mean (vcard.ts).
 */

export type VCardVersion = '2.1' | '3.0' | '4.0';

export interface ContentLine {
  /** 1-based number of the line where this logical line starts */
  lineNo: number;
  group: string | null;
  /** upper case */
  name: string;
  /** upper-case names; values as written, without quotes, comma lists split */
  params: Map<string, string[]>;
  /** the value as a byte string, still encoded and escaped */
  raw: string;
}

/** A text file's bytes as a byte string; a UTF-16 file (with its BOM) is re-encoded to UTF-8 first. */
export function toByteString(input: Buffer | string): string {
  if (typeof input === 'string') return Buffer.from(input.replace(/^\uFEFF/, ''), 'utf8').toString('latin1');
  let buf = input;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
  else if (buf[0] === 0xff && buf[1] === 0xfe) buf = Buffer.from(new TextDecoder('utf-16le').decode(buf.subarray(2)), 'utf8');
  else if (buf[0] === 0xfe && buf[1] === 0xff) buf = Buffer.from(new TextDecoder('utf-16be').decode(buf.subarray(2)), 'utf8');
  return buf.toString('latin1');
}

/** Index of the ':' that ends the name and parameters (a quoted parameter value may hold one). */
function valueColon(line: string): number {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === ':' && !quoted) return i;
  }
  return -1;
}

const QP_PARAM = /(?:^|;)\s*(?:ENCODING\s*=\s*)?QUOTED-PRINTABLE\s*(?:;|$)/i;

function isQuotedPrintable(line: string): boolean {
  const colon = valueColon(line);
  return colon > 0 && QP_PARAM.test(line.slice(0, colon));
}

/**
 * Logical lines with the number of their first physical line. RFC 6350 §3.2 / RFC 2425 §5.8.1: a
 * line break followed by one space or tab continues the line. vCard 2.1 QUOTED-PRINTABLE values
 * continue instead after a soft line break (a trailing '='), on lines that need not be indented.
 */
export function unfold(text: string): Array<{ lineNo: number; text: string }> {
  const out: Array<{ lineNo: number; text: string }> = [];
  let qpOpen = false;
  // CRLF files may hold a bare CR inside a value (Thunderbird writes one); only CR-only files break on CR
  const lines = text.includes('\r\n') || text.includes('\n') ? text.split(/\r?\n/) : text.split('\r');
  lines.forEach((line, i) => {
    const last = out[out.length - 1];
    if (qpOpen && last) last.text = last.text.slice(0, -1) + line;
    else if ((line[0] === ' ' || line[0] === '\t') && last) last.text += line.slice(1);
    else if (line.trim() === '') return;
    else out.push({ lineNo: i + 1, text: line });
    const cur = out[out.length - 1]!;
    qpOpen = cur.text.endsWith('=') && isQuotedPrintable(cur.text);
  });
  return out;
}

/** Splits on `sep` outside double quotes. */
function splitUnquoted(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of s) {
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** RFC 6868: ^n newline, ^' double quote, ^^ caret, in 4.0 parameter values. */
function caretDecode(s: string): string {
  return s.replace(/\^([n'^])/g, (_, c: string) => (c === 'n' ? '\n' : c === "'" ? '"' : '^'));
}

const BARE_ENCODINGS = new Set(['QUOTED-PRINTABLE', 'BASE64', 'B', '8BIT', '7BIT']);

/** vCard 2.1 writes parameters bare (`TEL;WORK;VOICE:`, `;QUOTED-PRINTABLE`): they are TYPEs or the ENCODING. */
function addParam(params: Map<string, string[]>, p: string): void {
  const eq = p.indexOf('=');
  const key = (eq < 0 ? (BARE_ENCODINGS.has(p.trim().toUpperCase()) ? 'ENCODING' : 'TYPE') : p.slice(0, eq)).trim().toUpperCase();
  const value = eq < 0 ? p.trim() : p.slice(eq + 1);
  const values = splitUnquoted(value, ',').map((v) => caretDecode(v.trim().replace(/^"|"$/g, ''))).filter((v) => v !== '');
  params.set(key, [...(params.get(key) ?? []), ...values]);
}

const NAME_RE = /^(?:([A-Za-z0-9-]+)\.)?([A-Za-z0-9-]+)$/;

/** One logical line, or an error message. */
export function parseContentLine(lineNo: number, line: string): ContentLine | string {
  const colon = valueColon(line);
  if (colon < 0) return `line ${lineNo}: no ':' between the property and its value`;
  const [nameWithGroup, ...params] = splitUnquoted(line.slice(0, colon), ';');
  const m = NAME_RE.exec(nameWithGroup!.trim());
  if (!m) return `line ${lineNo}: "${nameWithGroup!.slice(0, 40)}" is not a property name`;
  const map = new Map<string, string[]>();
  for (const p of params) if (p.trim()) addParam(map, p);
  return { lineNo, group: m[1] ?? null, name: m[2]!.toUpperCase(), params: map, raw: line.slice(colon + 1) };
}

function qpDecode(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const hex = s[i] === '=' ? /^[0-9A-Fa-f]{2}$/.exec(s.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else if (s[i] !== '=') bytes.push(s.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes);
}

// Windows-1252 0x80–0x9F (WHATWG Encoding); Node's TextDecoder reads these bytes as C1 controls instead.
const CP1252_HIGH = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f'
  + '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const LATIN1_LABELS = new Set(['windows-1252', 'cp1252', 'iso-8859-1', 'iso8859-1', 'latin1', 'l1', 'us-ascii', 'ascii', 'x-cp1252']);

function decodeCp1252(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] : String.fromCharCode(b);
  return out;
}

/** Bytes in a charset; bytes that are not valid UTF-8 are read as Windows-1252 (what old exporters wrote). */
function decodeBytes(bytes: Buffer, charset: string): string {
  let label = charset.trim().toLowerCase() || 'utf-8';
  if (LATIN1_LABELS.has(label)) return decodeCp1252(bytes); // as browsers do: ISO-8859-1 labels mean Windows-1252
  try {
    new TextDecoder(label);
  } catch {
    label = 'utf-8';
  }
  try {
    return new TextDecoder(label, { fatal: true }).decode(bytes);
  } catch {
    return label === 'utf-8' ? decodeCp1252(bytes) : new TextDecoder(label).decode(bytes);
  }
}

/**
 * The value as text, still escaped. 2.1/3.0 values may carry ENCODING and CHARSET; 4.0 is always
 * UTF-8 (RFC 6350 §3.1) and has no ENCODING for text.
 */
export function decodeValue(line: ContentLine, version: VCardVersion, defaultCharset: string): string {
  const encoding = (line.params.get('ENCODING')?.[0] ?? '').toUpperCase();
  let bytes: Buffer;
  if (encoding === 'QUOTED-PRINTABLE') bytes = qpDecode(line.raw);
  else if ((encoding === 'B' || encoding === 'BASE64') && version !== '4.0') bytes = Buffer.from(line.raw, 'base64');
  else bytes = Buffer.from(line.raw, 'latin1');
  const charset = version === '4.0' ? 'utf-8' : line.params.get('CHARSET')?.[0] ?? defaultCharset;
  return decodeBytes(bytes, charset).replace(/\r\n?/g, '\n');
}

/** Splits an escaped value on unescaped `sep` (';' between components, ',' between list items). */
export function splitEscaped(s: string, sep: ';' | ','): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * RFC 6350 §3.4 / RFC 2426 §4: \n or \N newline, \\ \, \; themselves. vCard 2.1 only escapes ';'
 * (and its backslash): a 2.1 "C:\new" stays as written.
 */
export function unescapeText(s: string, version: VCardVersion): string {
  if (version === '2.1') return s.replace(/\\([;\\])/g, '$1');
  return s.replace(/\\([\s\S])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

/** Escapes text for 3.0 and 4.0 values and components. */
export function escapeText(s: string): string {
  return s.replace(/[\\,;]/g, (c) => '\\' + c).replace(/\r\n|\r|\n/g, '\\n');
}

const MAX_LINE_OCTETS = 75;

/** RFC 6350 §3.2: lines of at most 75 octets, continued after CRLF + space, never inside a UTF-8 character. */
export function foldLine(line: string): string {
  const bytes = Buffer.from(line, 'utf8');
  if (bytes.length <= MAX_LINE_OCTETS) return line;
  const parts: string[] = [];
  let start = 0;
  let room = MAX_LINE_OCTETS;
  while (start < bytes.length) {
    let end = Math.min(start + room, bytes.length);
    while (end < bytes.length && end > start && (bytes[end]! & 0xc0) === 0x80) end--;
    parts.push(bytes.subarray(start, end).toString('utf8'));
    start = end;
    room = MAX_LINE_OCTETS - 1;
  }
  return parts.join('\r\n ');
}
