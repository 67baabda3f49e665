/**
 * The key facts of the contact PI (SPEC §7: key known by strength, verified, Autocrypt mutual),
 * for a page of contacts in two queries; contacts/contact-pi-facts.ts merges them in.
 */
import type { Knex } from 'knex';
import type { ContactKey } from '../contacts/contact-pi.js';

export async function loadContactKeyFacts(db: Knex, userId: number, ids: number[], now: number): Promise<Map<number, { keys: ContactKey[]; autocryptMutual: boolean }>> {
  const out = new Map<number, { keys: ContactKey[]; autocryptMutual: boolean }>();
  if (!ids.length) return out;
  const list = JSON.stringify(ids);
  const keys: Array<{ contact_id: number; algorithm: string; bits: number | null; verified: number }> = await db.raw(
    `SELECT ce.contact_id, k.algorithm, k.bits, k.verified FROM contact_emails ce
     JOIN contact_keys k ON k.user_id = ce.user_id AND k.address = ce.address AND k.revoked = 0 AND (k.expires_at IS NULL OR k.expires_at > ?)
     WHERE ce.user_id = ? AND ce.contact_id IN (SELECT value FROM json_each(?))`,
    [now, userId, list],
  );
  // our side always asks for mutual (outgoing.ts): mutual as soon as the contact does too
  const mutual: Array<{ contact_id: number }> = await db.raw(
    `SELECT DISTINCT ce.contact_id FROM contact_emails ce
     JOIN pgp_peers p ON p.user_id = ce.user_id AND p.address = ce.address AND p.prefer_encrypt = 'mutual' AND p.autocrypt_key_id IS NOT NULL
     WHERE ce.user_id = ? AND ce.contact_id IN (SELECT value FROM json_each(?))`,
    [userId, list],
  );
  for (const id of ids) out.set(id, { keys: [], autocryptMutual: false });
  for (const k of keys) out.get(k.contact_id)?.keys.push({ algorithm: k.algorithm, bits: k.bits, verified: !!k.verified });
  for (const m of mutual) out.get(m.contact_id)!.autocryptMutual = true;
  return out;
}
