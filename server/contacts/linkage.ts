/**
 * Contacts as seen by the ingest pipeline: the sender's history with the user (for spam,
 * importance and the PI) and the linking of participants to contacts. An address the user
 * writes to becomes a contact suggestion (SPEC §4); one address belongs to one contact.
 */
import type { Knex } from 'knex';
import type { SenderHistory } from '../mail/types.js';
import type { AddressEntry } from '../mail/parse.js';

export async function senderHistory(db: Knex, userId: number, fromAddress: string | null): Promise<SenderHistory> {
  const empty: SenderHistory = { isKnownContact: false, contactHasKey: false, userWroteTo: 0, receivedBefore: 0, markedSpamBefore: 0 };
  if (!fromAddress) return empty;
  const contact = await db('contact_emails')
    .join('contacts', 'contacts.id', 'contact_emails.contact_id')
    .where({ 'contact_emails.user_id': userId, 'contact_emails.address': fromAddress })
    .first('contacts.status', 'contacts.sent_count');
  const counts = await db('messages')
    .where({ user_id: userId, from_address: fromAddress })
    .first(db.raw('count(*) as n'), db.raw("sum(case when spam_trained = 'spam' then 1 else 0 end) as spam"));
  return {
    isKnownContact: !!contact && (contact.status === 'known' || contact.sent_count > 0),
    contactHasKey: false, // contact keys arrive with the OpenPGP slice
    userWroteTo: contact?.sent_count ?? 0,
    receivedBefore: Number(counts?.n ?? 0),
    markedSpamBefore: Number(counts?.spam ?? 0),
  };
}

/**
 * Resolves each participant to a contact id (or null). When the user wrote the message,
 * its recipients become contact suggestions; when someone wrote to the user, their contact
 * (if any) records the exchange.
 */
export async function linkParticipants(
  trx: Knex.Transaction,
  userId: number,
  participants: AddressEntry[],
  ownAddresses: Set<string>,
  fromUser: boolean,
  at: number,
): Promise<Map<string, number | null>> {
  const others = [...new Set(participants.filter((p) => !ownAddresses.has(p.address)).map((p) => p.address))];
  const ids = new Map<string, number | null>();
  if (!others.length) return ids;
  const rows = await trx('contact_emails').where({ user_id: userId }).whereIn('address', others).select('address', 'contact_id');
  for (const r of rows) ids.set(r.address, r.contact_id);
  for (const p of participants) {
    if (ownAddresses.has(p.address)) continue;
    const isRecipient = p.role === 'to' || p.role === 'cc' || p.role === 'bcc';
    if (fromUser && isRecipient) {
      let id = ids.get(p.address) ?? null;
      if (id === null) id = await createSuggestion(trx, userId, p, at);
      ids.set(p.address, id);
      await trx('contacts').where({ id }).update({ sent_count: trx.raw('sent_count + 1'), last_exchange_at: at, updated_at: at });
    } else if (!fromUser && p.role === 'from') {
      const id = ids.get(p.address);
      if (id) await trx('contacts').where({ id }).update({ received_count: trx.raw('received_count + 1'), last_exchange_at: at });
    }
    if (!ids.has(p.address)) ids.set(p.address, null);
  }
  return ids;
}

async function createSuggestion(trx: Knex.Transaction, userId: number, p: AddressEntry, at: number): Promise<number> {
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
