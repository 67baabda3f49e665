// Sending sealed mail from the browser: "sealed or postcard?" for a list of recipients (GET
// /keys/lookup: a box user's key, a contact's, or one found by WKD), and the sealed send itself:
// the inner MIME (text, attachments, protected headers) is built and encrypted here — to every
// recipient and to the sender, signed with the sender's unlocked key — and the box only wraps the
// armored result as PGP/MIME and sends it (POST /messages/sealed). The box never sees the text.
import { api } from '../api.js';
import { loadPgp } from './loader.js';
import * as keyring from './keyring.js';

/** "Ada <ada@x.test>" or "ada@x.test" → { name, address } */
export function mailboxOf(text) {
  if (typeof text !== 'string') return { name: text.name ?? null, address: text.address };
  const m = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(text);
  return m ? { name: m[1].trim() || null, address: m[2].trim() } : { name: null, address: text.trim() };
}

/** @returns {Promise<{ sealed: boolean, recipients: Array<{address, status, public_key, fingerprint_display, verified}>, missing: string[] }>} */
export async function lookupSeal(addresses) {
  const unique = [...new Set(addresses.map((a) => mailboxOf(a).address.toLowerCase()).filter(Boolean))];
  if (!unique.length) return { sealed: false, recipients: [], missing: [] };
  return api('GET', `/keys/lookup?${unique.map((a) => `address=${encodeURIComponent(a)}`).join('&')}`);
}

async function fileBytes(url) {
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Seals and sends a draft (its recipients, subject, threading, its attachments on the box) with
 * `text` and the `files` kept in this browser; the draft is discarded once the box took the message.
 * The caller checked lookup.sealed and that the key is unlocked.
 */
export async function sendSealedDraft(draft, { text, files = [], lookup }) {
  const signingKey = keyring.unlockedKey();
  const mine = await keyring.myKey();
  if (!signingKey || !mine) throw Object.assign(new Error('locked'), { code: 'key_locked' });
  const { openpgp, core } = await loadPgp();
  const armoredKeys = [...lookup.recipients.map((r) => r.public_key), mine.public_key];
  const encryptionKeys = await Promise.all(armoredKeys.map((k) => core.readAnyKey(openpgp, k)));
  const attachments = [];
  for (const a of draft.attachments ?? []) {
    attachments.push({ filename: a.filename, contentType: a.content_type, content: await fileBytes(`/api/v1/drafts/${draft.id}/attachments/${a.id}`) });
  }
  for (const f of files) attachments.push({ filename: f.name, contentType: f.type || 'application/octet-stream', content: new Uint8Array(await f.arrayBuffer()) });
  const [to, cc, bcc] = [draft.to, draft.cc ?? [], draft.bcc ?? []].map((list) => list.map(mailboxOf));
  const messageId = `${crypto.randomUUID()}@${draft.from.split('@')[1]}`;
  // Autocrypt Level 1 §2.7: with several recipients, each one's key travels inside (gossip), so
  // that any of them can answer everyone sealed. encryptionKeys[i] is lookup.recipients[i]'s key.
  const gossip = lookup.recipients.length < 2 ? [] : await Promise.all(lookup.recipients.map(async (r, i) =>
    core.buildAutocryptHeader({ addr: r.address, keydata: await core.minimalKeyBytes(openpgp, encryptionKeys[i], r.address), preferEncrypt: 'nopreference' })));
  const { armored } = await core.buildSealedMessage(openpgp, {
    from: { address: draft.from }, to, cc, subject: draft.subject ?? '', text, attachments,
    messageId, inReplyTo: draft.in_reply_to ?? null, references: draft.references ?? [], gossip,
  }, { encryptionKeys, signingKey });
  const sent = await api('POST', '/messages/sealed', {
    body: {
      from: draft.from, to, cc, bcc, armored, message_id: messageId,
      in_reply_to: draft.in_reply_to ?? null, references: draft.references ?? [], ...(draft.discussion_id ? { discussion_id: draft.discussion_id } : {}),
    },
  });
  if (draft.id) await api('DELETE', `/drafts/${draft.id}`).catch(() => {});
  return sent;
}
