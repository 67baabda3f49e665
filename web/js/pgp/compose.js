// Builds a sealed message (RFC 3156 PGP/MIME): the whole inner MIME — text, HTML, attachments —
// with the real headers inside it ("protected headers", draft-autocrypt-lamps-protected-headers),
// signed and encrypted in one OpenPGP message to every recipient and to the sender. The server
// only wraps the armored result (multipart/encrypted, Subject "...") and sends it: it never sees
// the plaintext.
import { base64Lines, encodeWords, formatMailbox, newBoundary, paramOf, utf8Binary, fromBinaryString, toBinaryString } from './mime.js';

/** The Subject shown outside a sealed message (protected headers draft §4.1). */
export const HIDDEN_SUBJECT = '...';

/**
 * @typedef {{ name?: string | null, address: string }} Mailbox
 * @typedef {{ filename: string, contentType?: string, content: Uint8Array }} FileAttachment
 * @typedef {Object} SealedInput
 * @property {Mailbox} from
 * @property {Mailbox[]} to
 * @property {Mailbox[]} [cc]
 * @property {string} subject
 * @property {string} text
 * @property {string | null} [html]
 * @property {FileAttachment[]} [attachments]
 * @property {Date} [date]
 * @property {string} [messageId]   without <>
 * @property {string | null} [inReplyTo]
 * @property {string[]} [references]
 * @property {string[]} [gossip]    Autocrypt-Gossip header values (Level 1 §2.7)
 */

/** @param {string} text */
const crlf = (text) => text.replace(/\r?\n/g, '\r\n');

/** @param {string} type @param {string} text */
function textPart(type, text) {
  return `Content-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(utf8Binary(crlf(text)))}\r\n`;
}

/** @param {FileAttachment} a */
function attachmentPart(a) {
  const type = a.contentType && /^[\w.+-]+\/[\w.+-]+$/.test(a.contentType) ? a.contentType.toLowerCase() : 'application/octet-stream';
  return [
    `Content-Type: ${type}; ${paramOf('name', a.filename)}`,
    `Content-Disposition: attachment; ${paramOf('filename', a.filename)}`,
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(toBinaryString(a.content)),
    '',
  ].join('\r\n');
}

/** @param {string} type @param {string[]} parts @param {string[]} [headers] */
function multipart(type, parts, headers = [], extraParams = '') {
  const b = newBoundary();
  const head = [`Content-Type: ${type}; boundary="${b}"${extraParams}`, ...headers].join('\r\n');
  return `${head}\r\n\r\n${parts.map((p) => `--${b}\r\n${p}`).join('\r\n')}\r\n--${b}--\r\n`;
}

/** The inner MIME of a sealed message, as a binary string. @param {SealedInput} m */
export function buildInnerMime(m) {
  const date = m.date ?? new Date();
  const protectedHeaders = [
    `From: ${formatMailbox(m.from)}`,
    ...(m.to.length ? [`To: ${m.to.map(formatMailbox).join(', ')}`] : []),
    ...(m.cc?.length ? [`Cc: ${m.cc.map(formatMailbox).join(', ')}`] : []),
    `Subject: ${encodeWords(m.subject)}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    ...(m.messageId ? [`Message-ID: <${m.messageId}>`] : []),
    ...(m.inReplyTo ? [`In-Reply-To: <${m.inReplyTo}>`] : []),
    ...(m.references?.length ? [`References: ${m.references.map((r) => `<${r}>`).join(' ')}`] : []),
    ...(m.gossip ?? []).map((g) => `Autocrypt-Gossip: ${g}`),
  ];
  const body = m.html ? multipart('multipart/alternative', [textPart('text/plain', m.text), textPart('text/html', m.html)]) : textPart('text/plain', m.text);
  const files = (m.attachments ?? []).map(attachmentPart);
  return multipart('multipart/mixed', [body, ...files], protectedHeaders, '; protected-headers="v1"');
}

/**
 * Signs and encrypts the inner MIME. `encryptionKeys` are the public keys of every recipient
 * AND the sender's own (so the Sent copy stays readable); `signingKey` is the sender's
 * unlocked private key.
 * @param {any} openpgp @param {SealedInput} m
 * @param {{ encryptionKeys: any[], signingKey: any }} keys
 * @returns {Promise<{ armored: string, inner: string }>}
 */
export async function buildSealedMessage(openpgp, m, { encryptionKeys, signingKey }) {
  if (!encryptionKeys.length) throw new Error('no encryption key: the message cannot be sealed');
  const inner = buildInnerMime(m);
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: fromBinaryString(inner) }),
    encryptionKeys, signingKeys: signingKey, format: 'armored',
    // SEIPDv1, readable by GnuPG 2.2 (RFC 9580 AEAD packets are not)
    config: { aeadProtect: false },
  });
  return { armored, inner };
}
