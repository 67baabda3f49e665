/**
 * Contacts as seen by the ingest pipeline: the linking of participants to contacts (the
 * sender's history is read with the other ingest facts, mail/ingest-facts.ts). An address the user
 * writes to becomes a contact suggestion (SPEC §4); one address belongs to one contact.
 */
import type { Knex } from 'knex';
import type { AddressEntry } from '../mail/parse.js';
import { foldedKeys } from './names.js';

export interface ContactRef {
  contactId: number;
  /** the contact's first address: what stands for the contact in discussion keys */
  canonical: string;
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
    ...foldedKeys({ display_name: p.name || null }, [p.address], []),
    created_at: at,
    updated_at: at,
  });
  await trx('contact_emails').insert({ contact_id: id, user_id: userId, address: p.address });
  return Number(id);
}
