/**
 * What received mail teaches about keys, for the ingest pipeline (two calls, kept out of
 * ingest.ts): before the commit, whether a signed (not encrypted) message's OpenPGP signature
 * verifies against the keys known for its sender (for the PI: SIGNATURE_VERIFIED); after the
 * commit, the sender's Autocrypt header (peer state, Level 1 §5.1) and keys attached as
 * application/pgp-keys that name the sender. Neither may fail an ingest: errors are logged.
 */
import type { Knex } from 'knex';
import type { ParsedMail } from 'mailparser';
import type { Deps } from '../deps.js';
import type { IngestSource } from '../mail/types.js';
import { hasPgpSignature, isPgpEncrypted } from '../privacy/index.js';
import { openMessage, keyHasAddress } from '../../web/js/pgp/index.js';
import { openpgp, readPublicKeys } from './pgp.js';
import { updatePeerFromMessage } from './autocrypt.js';
import { saveContactKey } from './contact-keys.js';
import { currentKeyOfAddress } from './user-keys.js';

/** Signed mail is rare: messages without a signature cost nothing here. */
export async function senderSignatureVerified(db: Knex, userId: number, raw: Buffer, parsed: ParsedMail, fromAddress: string | null): Promise<boolean> {
  if (!fromAddress || !hasPgpSignature(parsed) || isPgpEncrypted(parsed)) return false;
  try {
    const armored: string[] = (await db('contact_keys').where({ user_id: userId, address: fromAddress, revoked: false }).select('armored')).map((r: { armored: string }) => r.armored);
    const local = await currentKeyOfAddress(db, fromAddress);
    if (local) armored.push(local.public_armored);
    if (!armored.length) return false;
    const knownKeys = await Promise.all(armored.map(async (a) => ({ key: await openpgp.readKey({ armoredKey: a }) })));
    const opened = await openMessage(openpgp, raw, { knownKeys });
    return opened.signatures.length > 0 && opened.signatures.every((s) => s.status === 'valid' || s.status === 'valid_unverified_key');
  } catch {
    return false;
  }
}

function headerValues(parsed: ParsedMail, name: string): string[] {
  return (parsed.headerLines ?? []).filter((h) => h.key === name).map((h) => h.line.slice(h.line.indexOf(':') + 1).replace(/\r?\n[ \t]/g, ' ').trim());
}

const isReport = (parsed: ParsedMail) => /^multipart\/report/i.test(String((parsed.headers.get('content-type') as { value?: string } | undefined)?.value ?? ''));

/** After the commit: Autocrypt peer state and attached keys, for each user the message was stored for (not spam, not our own). */
export async function learnKeysFromMail(deps: Deps, parsed: ParsedMail, source: IngestSource, outcomes: Array<{ userId: number; duplicate: boolean; isSpam: boolean }>): Promise<void> {
  if (source === 'sent' || isReport(parsed)) return;
  const from = parsed.from?.value?.[0]?.address?.toLowerCase();
  // Level 1 §5.1 needs one sender: a message with several From addresses teaches nothing
  if (!from || (parsed.from?.value?.length ?? 0) !== 1) return;
  const headers = headerValues(parsed, 'autocrypt');
  const keyParts = parsed.attachments.filter((a) => a.contentType?.toLowerCase() === 'application/pgp-keys');
  if (!headers.length && !keyParts.length) return;
  for (const o of outcomes) {
    if (o.duplicate || o.isSpam) continue;
    try {
      await updatePeerFromMessage(deps, o.userId, { from, date: parsed.date ?? null, headers });
      for (const part of keyParts) await learnAttachedKeys(deps, o.userId, from, part.content);
    } catch (err) {
      deps.log.warn('keys from a received message not learnt', { err, userId: o.userId });
    }
  }
}

/** Only keys naming the sender: an attachment can carry anyone's key, and anyone can attach a key. */
async function learnAttachedKeys(deps: Deps, userId: number, from: string, content: Buffer): Promise<void> {
  const text = content.toString('latin1');
  const keys = await readPublicKeys(text.includes('-----BEGIN PGP') ? text : new Uint8Array(content), deps.clock.now()).catch(() => []);
  for (const k of keys) {
    if (keyHasAddress(k.key, from) && !k.facts.revoked) await saveContactKey(deps, userId, from, k, 'attachment');
  }
}
