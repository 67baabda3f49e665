/**
 * Contacts as seen by the ingest pipeline: the sender's history with the user (for spam,
 * importance and the PI) and the linking of participants to contacts. An address the user
 * writes to becomes a contact suggestion (SPEC §4); one address belongs to one contact.
 */
import type { Knex } from 'knex';
import type { SenderHistory } from '../mail/types.js';
import type { AddressEntry } from '../mail/parse.js';

/**
 * The sender's history with the user, in one statement. Counts are bounded: only "none, a few,
 * many" matters, and a sender with 50,000 messages must not cost 50,000 index steps per new
 * message (the SPAM count reads a partial index).
 */
export async function senderHistory(db: Knex, userId: number, fromAddress: string | null): Promise<SenderHistory> {
  const empty: SenderHistory = { isKnownContact: false, contactHasKey: false, userWroteTo: 0, receivedBefore: 0, markedSpamBefore: 0 };
  if (!fromAddress) return empty;
  const rows = await db.raw(
    `SELECT
       (SELECT c.status FROM contact_emails ce JOIN contacts c ON c.id = ce.contact_id WHERE ce.user_id = ? AND ce.address = ?) AS status,
       (SELECT c.sent_count FROM contact_emails ce JOIN contacts c ON c.id = ce.contact_id WHERE ce.user_id = ? AND ce.address = ?) AS sent_count,
       (SELECT count(*) FROM (SELECT 1 FROM messages WHERE user_id = ? AND from_address = ? LIMIT 100)) AS n,
       (SELECT count(*) FROM (SELECT 1 FROM messages WHERE user_id = ? AND from_address = ? AND spam_trained = 'spam' LIMIT 100)) AS spam`,
    [userId, fromAddress, userId, fromAddress, userId, fromAddress, userId, fromAddress],
  );
  const r = (rows as Array<{ status: string | null; sent_count: number | null; n: number; spam: number }>)[0]!;
  return {
    isKnownContact: r.status === 'known' || (r.sent_count ?? 0) > 0,
    contactHasKey: false, // contact keys arrive with the OpenPGP slice
    userWroteTo: r.sent_count ?? 0,
    receivedBefore: Number(r.n),
    markedSpamBefore: Number(r.spam),
  };
}

export interface ContactRef {
  contactId: number;
  /** the contact's first address: what stands for the contact in discussion keys */
  canonical: string;
}

/** The contacts behind these addresses (one indexed query), for discussion keys and participant rows. */
export async function lookupContacts(db: Knex, userId: number, addresses: string[]): Promise<Map<string, ContactRef>> {
  const found = new Map<string, ContactRef>();
  const unique = [...new Set(addresses)];
  if (!unique.length) return found;
  const rows = await db('contact_emails as ce')
    .where('ce.user_id', userId)
    .whereIn('ce.address', unique)
    .select('ce.address', 'ce.contact_id', db.raw('(select c0.address from contact_emails c0 where c0.contact_id = ce.contact_id order by c0.id limit 1) as canonical'));
  for (const r of rows) found.set(r.address, { contactId: r.contact_id, canonical: r.canonical ?? r.address });
  return found;
}

/**
 * Records the exchange on the contacts and returns each participant's contact id (or null).
 * When the user wrote the message, its recipients become contact suggestions; when someone
 * wrote to the user, their contact (if any) counts the message.
 */
export async function recordExchange(
  trx: Knex.Transaction,
  userId: number,
  participants: AddressEntry[],
  own: Set<string>,
  known: Map<string, ContactRef>,
  fromUser: boolean,
  at: number,
): Promise<Map<string, number | null>> {
  const ids = new Map<string, number | null>();
  for (const p of participants) {
    if (own.has(p.address)) continue;
    let id = known.get(p.address)?.contactId ?? ids.get(p.address) ?? null;
    const isRecipient = p.role === 'to' || p.role === 'cc' || p.role === 'bcc';
    if (fromUser && isRecipient) {
      if (id === null) id = await createSuggestion(trx, userId, p, at);
      await trx('contacts').where({ id }).update({ sent_count: trx.raw('sent_count + 1'), last_exchange_at: at, updated_at: at });
    } else if (!fromUser && p.role === 'from' && id !== null) {
      await trx('contacts').where({ id }).update({ received_count: trx.raw('received_count + 1'), last_exchange_at: at });
    }
    ids.set(p.address, id);
  }
  return ids;
}

async function createSuggestion(trx: Knex.Transaction, userId: number, p: AddressEntry, at: number): Promise<number> {
  const existing = await trx('contact_emails').where({ user_id: userId, address: p.address }).first('contact_id');
  if (existing) return existing.contact_id;
  const [id] = await trx('contacts').insert({
    user_id: userId,
    display_name: p.name || null,
    status: 'suggested',
    created_at: at,
    updated_at: at,
  });
  await trx('contact_emails').insert({ contact_id: id, user_id: userId, address: p.address });
  return Number(id);
}
