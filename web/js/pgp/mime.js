// A small MIME reader and writer for OpenPGP mail, shared by the browser and the server (no
// dependency, no build). Messages are handled as "binary strings" (one char per byte), so a part's
// exact bytes stay available for signature checks (RFC 3156 §5 signs the part as sent); text is
// decoded to Unicode only at the end, with its charset.

/** @typedef {{ type: string, params: Record<string, string> }} ContentType */
/**
 * @typedef {Object} MimePart
 * @property {Array<[string, string]>} headers  lower-case name and unfolded raw value, in order
 * @property {ContentType} contentType
 * @property {string} raw     the whole part, headers and body, as a binary string
 * @property {string} body    the encoded body, as a binary string
 * @property {MimePart[]} parts
 */

/** @param {Uint8Array | string} input @returns {string} */
export function toBinaryString(input) {
  if (typeof input === 'string') return input;
  let out = '';
  for (let i = 0; i < input.length; i += 0x8000) out += String.fromCharCode.apply(null, /** @type {any} */ (input.subarray(i, i + 0x8000)));
  return out;
}

/** @param {string} s @returns {Uint8Array} */
export function fromBinaryString(s) {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** UTF-8 text → binary string. @param {string} text */
export function utf8Binary(text) {
  return toBinaryString(new TextEncoder().encode(text));
}

/** @param {string} binary @param {string} [charset] */
export function decodeText(binary, charset = 'utf-8') {
  const bytes = fromBinaryString(binary);
  try {
    return new TextDecoder(charset.toLowerCase() === 'us-ascii' ? 'utf-8' : charset).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** Parameter values: quoted strings, and RFC 2231 continuations/charsets (name*0*=…). @param {string} value @returns {ContentType} */
export function parseContentType(value) {
  const [first = '', ...rest] = splitParams(value);
  /** @type {Record<string, string>} */
  const params = {};
  /** @type {Record<string, Array<[number, string, boolean]>>} */
  const pieces = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    let val = p.slice(eq + 1).trim();
    if (val.startsWith('"')) val = val.slice(1, val.endsWith('"') ? -1 : undefined).replace(/\\(.)/g, '$1');
    const m = /^([^*]+)\*(\d+)?(\*)?$/.exec(key);
    if (m) (pieces[m[1]] ??= []).push([Number(m[2] ?? 0), val, !!m[3] || (!m[2] && key.endsWith('*'))]);
    else params[key] = decodeWords(val);
  }
  for (const [key, list] of Object.entries(pieces)) {
    list.sort((a, b) => a[0] - b[0]);
    let joined = list.map(([, v]) => v).join('');
    if (list[0]?.[2]) {
      const m = /^([^']*)'[^']*'(.*)$/.exec(joined);
      if (m) joined = decodeText(m[2].replace(/%([0-9a-f]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))), m[1] || 'utf-8');
    }
    params[key] = joined;
  }
  return { type: first.trim().toLowerCase() || 'text/plain', params };
}

/** @param {string} value */
function splitParams(value) {
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && quoted) {
      cur += c + (value[++i] ?? '');
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** RFC 2047 encoded words in a header value (binary string in, Unicode out). @param {string} value */
export function decodeWords(value) {
  const joined = value.replace(/(=\?[^?]+\?[bq]\?[^?]*\?=)\s+(?==\?)/gi, '$1');
  const decoded = joined.replace(/=\?([^?*]+)(?:\*[^?]*)?\?([bq])\?([^?]*)\?=/gi, (_, charset, enc, text) => {
    const bin = enc.toLowerCase() === 'b' ? safeAtob(text) : decodeQuotedPrintable(text.replace(/_/g, ' '));
    return decodeText(bin, charset);
  });
  // raw 8-bit headers (RFC 6532) are UTF-8
  return /[\x80-\xff]/.test(decoded) && decoded === joined ? decodeText(decoded, 'utf-8') : decoded;
}

/** @param {string} s */
function safeAtob(s) {
  try {
    return atob(s.replace(/[^A-Za-z0-9+/]/g, '').replace(/^(.*?)(=*)$/, (_, b) => b + '='.repeat((4 - (b.length % 4)) % 4)));
  } catch {
    return '';
  }
}

/** @param {string} s */
export function decodeQuotedPrintable(s) {
  return s.replace(/=\r?\n/g, '').replace(/=([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

/** Where the header block ends: [index of the body, length of the separator]. @param {string} s */
function headerEnd(s) {
  if (s.startsWith('\r\n')) return [2, 0];
  if (s.startsWith('\n')) return [1, 0];
  const m = /\r?\n\r?\n/.exec(s);
  return m ? [m.index + m[0].length, m.index] : [s.length, s.length];
}

/** @param {string} block @returns {Array<[string, string]>} */
function parseHeaders(block) {
  /** @type {Array<[string, string]>} */
  const out = [];
  for (const line of block.split(/\r?\n(?![ \t])/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).replace(/\r?\n[ \t]/g, ' ').trim()]);
  }
  return out;
}

const MAX_DEPTH = 20;

/** Parses a message or part. @param {Uint8Array | string} input @returns {MimePart} */
export function parseMime(input, depth = 0) {
  const raw = toBinaryString(input);
  // text that does not start with a header field (a bare armored block, a pasted body) is all body
  const [bodyAt, headEndAt] = /^[\x21-\x39\x3b-\x7e]+:/.test(raw) ? headerEnd(raw) : [0, 0];
  const headers = parseHeaders(raw.slice(0, headEndAt));
  const ctHeader = headers.find(([k]) => k === 'content-type');
  const contentType = parseContentType(ctHeader ? ctHeader[1] : 'text/plain');
  const body = raw.slice(bodyAt);
  /** @type {MimePart[]} */
  let parts = [];
  if (contentType.type.startsWith('multipart/') && contentType.params.boundary && depth < MAX_DEPTH) {
    parts = splitMultipart(body, contentType.params.boundary).map((p) => parseMime(p, depth + 1));
  } else if (contentType.type === 'message/rfc822' && depth < MAX_DEPTH) {
    parts = [parseMime(decodeBody({ headers, body }), depth + 1)];
  }
  return { headers, contentType, raw, body, parts };
}

/** The parts between boundaries, each without the line break that belongs to the delimiter (RFC 2046 §5.1.1). @param {string} body @param {string} boundary */
export function splitMultipart(body, boundary) {
  const delim = '--' + boundary;
  const out = [];
  let pos = 0;
  let start = -1;
  while (pos <= body.length) {
    const at = body.indexOf(delim, pos);
    if (at < 0) break;
    const lineStart = at === 0 || body[at - 1] === '\n';
    if (!lineStart) {
      pos = at + delim.length;
      continue;
    }
    if (start >= 0) {
      let end = at;
      if (body[end - 1] === '\n') end--;
      if (body[end - 1] === '\r') end--;
      out.push(body.slice(start, Math.max(start, end)));
    }
    const after = at + delim.length;
    if (body.startsWith('--', after)) return out;
    const eol = body.indexOf('\n', after);
    if (eol < 0) break;
    start = eol + 1;
    pos = start;
  }
  if (start >= 0 && start < body.length) out.push(body.slice(start));
  return out;
}

/** @param {{ headers: Array<[string, string]> }} part @param {string} name */
export function headerOf(part, name) {
  const h = part.headers.find(([k]) => k === name);
  return h ? h[1] : null;
}

/** The body with its transfer encoding undone, as a binary string. @param {{ headers: Array<[string, string]>, body: string }} part */
export function decodeBody(part) {
  const cte = (headerOf(part, 'content-transfer-encoding') ?? '').toLowerCase();
  if (cte === 'base64') return safeAtob(part.body);
  if (cte === 'quoted-printable') return decodeQuotedPrintable(part.body);
  return part.body;
}

/** A text part as Unicode. @param {MimePart} part */
export function partText(part) {
  return decodeText(decodeBody(part), part.contentType.params.charset || 'utf-8');
}

/** The file name of a part, if it has one. @param {MimePart} part */
export function fileNameOf(part) {
  const disp = headerOf(part, 'content-disposition');
  const d = disp ? parseContentType(disp) : null;
  return d?.params.filename || part.contentType.params.name || null;
}

/** @param {MimePart} part */
export function isAttachmentPart(part) {
  const disp = (headerOf(part, 'content-disposition') ?? '').toLowerCase();
  if (disp.startsWith('attachment')) return true;
  return !part.contentType.type.startsWith('text/') && !part.contentType.type.startsWith('multipart/') && part.contentType.type !== 'message/rfc822';
}

// ---- writing

/** A random MIME boundary. */
export function newBoundary() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return '=_cal-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** base64 in 76-char lines (RFC 2045 §6.8). @param {string} binary */
export function base64Lines(binary) {
  return (btoa(binary).match(/.{1,76}/g) ?? ['']).join('\r\n');
}

/** A header value as RFC 2047 words when it is not plain ASCII. @param {string} text */
export function encodeWords(text) {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  // whole characters per word: a word may not end inside a UTF-8 sequence (RFC 2047 §5)
  const words = [];
  let cur = '';
  for (const ch of text) {
    if (cur && utf8Binary(cur + ch).length > 45) {
      words.push(cur);
      cur = '';
    }
    cur += ch;
  }
  words.push(cur);
  return words.map((w) => `=?UTF-8?B?${btoa(utf8Binary(w))}?=`).join(' ');
}

/** A parameter value, quoted (RFC 2231 encoding when not ASCII). @param {string} name @param {string} value */
export function paramOf(name, value) {
  if (/^[\x20-\x7e]*$/.test(value)) return `${name}="${value.replace(/(["\\])/g, '\\$1')}"`;
  return `${name}*=UTF-8''${encodeURIComponent(value).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())}`;
}

/** @param {{ name?: string | null, address: string }} m */
export function formatMailbox(m) {
  if (!m.name) return m.address;
  const name = /^[\w !#$%&'*+\-/=?^`{|}~.]*$/.test(m.name) && /^[\x20-\x7e]*$/.test(m.name) ? `"${m.name.replace(/"/g, '')}"` : encodeWords(m.name);
  return `${name} <${m.address}>`;
}
