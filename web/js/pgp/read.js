// Opens received mail: PGP/MIME (RFC 3156) encrypted and/or signed, inline PGP (armored blocks in
// text, *.pgp attachments), nested layers (signed inside encrypted and the reverse). Returns what
// to show — text, HTML, attachments, the protected subject — and one signature verdict:
//   valid                 good signature by a key the user verified
//   valid_unverified_key  good signature by a known key not verified by its fingerprint yet
//   bad                   the signature does not match the content (changed, or forged)
//   unknown_key           signed by a key we do not hold: nothing can be said
//   none                  not signed
import { decodeBody, decodeText, decodeWords, fileNameOf, fromBinaryString, headerOf, isAttachmentPart, parseMime, partText, toBinaryString } from './mime.js';

/**
 * @typedef {{ key: any, verified?: boolean }} KnownKey  a contact's (or our own) public key
 * @typedef {'valid' | 'valid_unverified_key' | 'bad' | 'unknown_key' | 'none'} SignatureStatus
 * @typedef {{ status: SignatureStatus, keyId: string | null, fingerprint: string | null, reason: string | null }} SignatureResult
 * @typedef {{ filename: string | null, contentType: string, content: Uint8Array }} OpenedAttachment
 * @typedef {Object} OpenedMessage
 * @property {'pgp-mime' | 'inline' | 'none'} encryption
 * @property {boolean} decrypted
 * @property {string | null} error           why it could not be decrypted
 * @property {SignatureResult} signature     the verdict shown to the user (the worst of `signatures`)
 * @property {SignatureResult[]} signatures
 * @property {string | null} subject         the protected subject, when the sealed part carries one
 * @property {string} text
 * @property {string | null} html
 * @property {OpenedAttachment[]} attachments
 * @property {string[]} gossip               Autocrypt-Gossip header values found inside
 * @property {OpenedMessage[]} forwarded     messages attached whole (message/rfc822), opened the same way
 */

const RANK = { bad: 0, unknown_key: 1, valid_unverified_key: 2, valid: 3, none: 4 };
const ARMORED_MESSAGE = /-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----/;
const CLEARSIGNED = /-----BEGIN PGP SIGNED MESSAGE-----[\s\S]*?-----END PGP SIGNATURE-----/;

/**
 * @param {any} openpgp
 * @param {Uint8Array | string} raw    the whole message (bytes, or a binary string)
 * @param {{ decryptionKeys?: any[], knownKeys?: KnownKey[], date?: Date, nesting?: number }} [opts]
 * @returns {Promise<OpenedMessage>}
 */
export async function openMessage(openpgp, raw, opts = {}) {
  const ctx = {
    openpgp, decryptionKeys: opts.decryptionKeys ?? [], knownKeys: opts.knownKeys ?? [], date: opts.date,
    /** @type {OpenedMessage} */
    out: { encryption: 'none', decrypted: false, error: null, signature: { status: 'none', keyId: null, fingerprint: null, reason: null }, signatures: [], subject: null, text: '', html: null, attachments: [], gossip: [], forwarded: [] },
    /** @type {Promise<SignatureResult>[]} */
    pending: [],
    depth: 0,
    nesting: opts.nesting ?? 0,
  };
  await walk(parseMime(raw), ctx, true);
  ctx.out.signatures = await Promise.all(ctx.pending);
  for (const s of ctx.out.signatures) if (RANK[s.status] < RANK[ctx.out.signature.status]) ctx.out.signature = s;
  return ctx.out;
}

/** @typedef {{ openpgp: any, decryptionKeys: any[], knownKeys: KnownKey[], date?: Date, out: OpenedMessage, pending: Promise<SignatureResult>[], depth: number, nesting: number }} Ctx */

/** @param {any} part @param {Ctx} ctx @param {boolean} [root] */
async function walk(part, ctx, root = false) {
  if (++ctx.depth > 50) return;
  const type = part.contentType.type;
  const protocol = (part.contentType.params.protocol ?? '').toLowerCase();
  if (type === 'multipart/encrypted' && protocol === 'application/pgp-encrypted') return openEncrypted(part, ctx);
  if (type === 'multipart/signed' && protocol === 'application/pgp-signature' && part.parts.length >= 2) {
    ctx.pending.push(verifyDetached(part.parts[0].raw, decodeBody(part.parts[1]), ctx));
    return walk(part.parts[0], ctx, root);
  }
  if (type === 'multipart/alternative') {
    const text = part.parts.find((/** @type {any} */ p) => p.contentType.type === 'text/plain');
    const html = part.parts.find((/** @type {any} */ p) => p.contentType.type === 'text/html');
    const other = part.parts.filter((/** @type {any} */ p) => p !== text && p !== html);
    if (text) await walk(text, ctx);
    if (html) await walk(html, ctx);
    for (const p of other) if (p.contentType.type.startsWith('multipart/')) await walk(p, ctx);
    return;
  }
  if (type.startsWith('multipart/')) {
    for (const p of part.parts) {
      // the "legacy display" part repeats the protected headers for old clients: not content
      if (p.contentType.params['protected-headers'] && p.contentType.type !== 'multipart/mixed' && !isAttachmentPart(p)) continue;
      await walk(p, ctx);
    }
    return;
  }
  if (type === 'application/pgp-encrypted' || type === 'application/pgp-signature') return;
  if (!isAttachmentPart(part) && (type === 'text/plain' || type === 'text/html')) return textBody(part, ctx);
  return attachment(part, ctx);
}

/** @param {any} part @param {Ctx} ctx */
async function openEncrypted(part, ctx) {
  ctx.out.encryption = ctx.out.encryption === 'none' ? 'pgp-mime' : ctx.out.encryption;
  const payload = part.parts.find((/** @type {any} */ p) => p.contentType.type !== 'application/pgp-encrypted') ?? part.parts[1];
  const armored = payload ? decodeBody(payload) : '';
  const data = await decrypt(armored, ctx);
  if (data === null) return;
  const inner = parseMime(data);
  readProtectedHeaders(inner, ctx);
  await walk(inner, ctx, true);
}

/** Decrypts one armored (or binary) OpenPGP message; records its embedded signatures. @param {string} armoredOrBinary @param {Ctx} ctx @returns {Promise<string | null>} */
async function decrypt(armoredOrBinary, ctx) {
  const { openpgp } = ctx;
  try {
    const block = ARMORED_MESSAGE.exec(armoredOrBinary);
    const message = block ? await openpgp.readMessage({ armoredMessage: block[0] }) : await openpgp.readMessage({ binaryMessage: fromBinaryString(armoredOrBinary) });
    if (!ctx.decryptionKeys.length) throw new Error('no private key to decrypt with');
    const { data, signatures } = await openpgp.decrypt({
      message, decryptionKeys: ctx.decryptionKeys, verificationKeys: ctx.knownKeys.map((k) => k.key), format: 'binary', date: ctx.date,
    });
    for (const s of signatures) ctx.pending.push(signatureResult(s, ctx));
    ctx.out.decrypted = true;
    return toBinaryString(data);
  } catch (err) {
    ctx.out.error = err instanceof Error ? err.message : String(err);
    return null;
  }
}

/** RFC 3156 §5: the signed part exactly as sent, with CRLF line endings. @param {string} signedRaw @param {string} armoredSig @param {Ctx} ctx */
async function verifyDetached(signedRaw, armoredSig, ctx) {
  const { openpgp } = ctx;
  try {
    const signature = await openpgp.readSignature({ armoredSignature: armoredSig });
    const message = await openpgp.createMessage({ binary: fromBinaryString(signedRaw.replace(/\r?\n/g, '\r\n')) });
    const { signatures } = await openpgp.verify({ message, signature, verificationKeys: ctx.knownKeys.map((k) => k.key), date: ctx.date });
    return signatures.length ? signatureResult(signatures[0], ctx) : badSignature('no signature in the signature part');
  } catch (err) {
    return badSignature(err);
  }
}

/** @param {any} sig one entry of openpgp's `signatures` @param {Ctx} ctx @returns {Promise<SignatureResult>} */
async function signatureResult(sig, ctx) {
  const keyId = sig.keyID.toHex().toUpperCase();
  const known = ctx.knownKeys.find((k) => k.key.getKeys(sig.keyID).length > 0);
  if (!known) {
    await sig.verified.catch(() => undefined);
    return { status: 'unknown_key', keyId, fingerprint: null, reason: null };
  }
  const fingerprint = known.key.getFingerprint().toUpperCase();
  try {
    await sig.verified;
    return { status: known.verified ? 'valid' : 'valid_unverified_key', keyId, fingerprint, reason: null };
  } catch (err) {
    return { ...badSignature(err), keyId, fingerprint };
  }
}

/** `reason` says why, e.g. "Insecure message hash algorithm: SHA1" (openpgp refuses SHA-1 signatures). @param {unknown} err @returns {SignatureResult} */
function badSignature(err) {
  return { status: 'bad', keyId: null, fingerprint: null, reason: err instanceof Error ? err.message : String(err) };
}

/** @param {any} inner @param {Ctx} ctx */
function readProtectedHeaders(inner, ctx) {
  const subject = headerOf(inner, 'subject');
  if (subject !== null && ctx.out.subject === null) ctx.out.subject = decodeWords(subject);
  for (const [name, value] of inner.headers) if (name === 'autocrypt-gossip') ctx.out.gossip.push(value);
}

/** @param {any} part @param {Ctx} ctx */
async function textBody(part, ctx) {
  let text = partText(part);
  const charset = part.contentType.params.charset || 'utf-8';
  const block = ARMORED_MESSAGE.exec(text);
  if (block) {
    if (ctx.out.encryption === 'none') ctx.out.encryption = 'inline';
    const data = await decrypt(block[0], ctx);
    if (data !== null) text = text.replace(block[0], () => decodeText(data, charset));
  }
  const signed = CLEARSIGNED.exec(text);
  if (signed) text = text.replace(signed[0], await verifyClearsigned(signed[0], ctx));
  if (part.contentType.type === 'text/html') {
    if (ctx.out.html === null) ctx.out.html = text;
  } else ctx.out.text += (ctx.out.text ? '\n' : '') + text;
}

/** @param {string} block @param {Ctx} ctx @returns {Promise<string>} the signed text */
async function verifyClearsigned(block, ctx) {
  const { openpgp } = ctx;
  try {
    const message = await openpgp.readCleartextMessage({ cleartextMessage: block });
    const { data, signatures } = await openpgp.verify({ message, verificationKeys: ctx.knownKeys.map((k) => k.key), date: ctx.date });
    for (const s of signatures) ctx.pending.push(signatureResult(s, ctx));
    return data;
  } catch (err) {
    ctx.pending.push(Promise.resolve(badSignature(err)));
    return block;
  }
}

/** An attachment; *.pgp / *.gpg / armored *.asc files are inline-PGP encrypted files: opened. @param {any} part @param {Ctx} ctx */
async function attachment(part, ctx) {
  let filename = fileNameOf(part);
  let content = decodeBody(part);
  let contentType = part.contentType.type;
  const encryptedFile = /\.(pgp|gpg)$/i.test(filename ?? '') || (/\.asc$/i.test(filename ?? '') && ARMORED_MESSAGE.test(content));
  if (encryptedFile && ctx.decryptionKeys.length) {
    const data = await decrypt(content, ctx);
    if (data !== null) {
      content = data;
      filename = (filename ?? '').replace(/\.(pgp|gpg|asc)$/i, '');
      contentType = 'application/octet-stream';
      if (ctx.out.encryption === 'none') ctx.out.encryption = 'inline';
    }
  }
  ctx.out.attachments.push({ filename, contentType, content: fromBinaryString(content) });
  if (contentType === 'message/rfc822' && ctx.nesting < 3) {
    ctx.out.forwarded.push(await openMessage(ctx.openpgp, content, { decryptionKeys: ctx.decryptionKeys, knownKeys: ctx.knownKeys, date: ctx.date, nesting: ctx.nesting + 1 }));
  }
}
