/**
 * What ingest must know from the database before it commits a message for a user, read in ONE
 * statement: each statement costs a round trip through the sqlite3 driver, and at hundreds of
 * messages a second those round trips, not SQLite, are the limit. Counts are bounded (only
 * "none, a few, many" matters; a sender with 50,000 messages must not cost 50,000 index steps).
 */
import type { Knex } from 'knex';
import type { SenderHistory } from './types.js';
import type { ContactRef } from '../contacts/linkage.js';
import type { DuplicateRow } from './message-writer.js';

export interface IngestFacts {
  history: SenderHistory;
  dup: DuplicateRow | undefined;
  contacts: Map<string, ContactRef>;
}

interface Row {
  status: string | null;
  sent_count: number | null;
  n: number;
  spam: number;
  dup: string | null;
  contacts: string | null;
  has_key: number;
}

export async function loadIngestFacts(db: Knex, userId: number, fromAddress: string | null, hash: string, addresses: string[]): Promise<IngestFacts> {
  const from = fromAddress ?? '';
  const list = [...new Set(addresses)];
  const inList = list.length ? list.map(() => '?').join(', ') : "''";
  const rows = (await db.raw(
    `SELECT
       (SELECT c.status FROM contact_emails ce JOIN contacts c ON c.id = ce.contact_id WHERE ce.user_id = ? AND ce.address = ?) AS status,
       (SELECT c.sent_count FROM contact_emails ce JOIN contacts c ON c.id = ce.contact_id WHERE ce.user_id = ? AND ce.address = ?) AS sent_count,
       (SELECT count(*) FROM (SELECT 1 FROM messages WHERE user_id = ? AND from_address = ? LIMIT 100)) AS n,
       (SELECT count(*) FROM (SELECT 1 FROM messages WHERE user_id = ? AND from_address = ? AND spam_trained = 'spam' LIMIT 100)) AS spam,
       (SELECT json_object('id', id, 'discussion_id', discussion_id, 'is_spam', is_spam, 'pi_score', pi_score)
          FROM messages WHERE user_id = ? AND content_hash = ?) AS dup,
       (SELECT json_group_array(json_object('address', ce.address, 'contactId', ce.contact_id,
               'canonical', (SELECT c0.address FROM contact_emails c0 WHERE c0.contact_id = ce.contact_id ORDER BY c0.id LIMIT 1)))
          FROM contact_emails ce WHERE ce.user_id = ? AND ce.address IN (${inList})) AS contacts,
       EXISTS (SELECT 1 FROM contact_keys WHERE user_id = ? AND address = ? AND revoked = 0) AS has_key`,
    [userId, from, userId, from, userId, from, userId, from, userId, hash, userId, ...list, userId, from],
  )) as Row[];
  const r = rows[0]!;
  const contacts = new Map<string, ContactRef>();
  for (const c of JSON.parse(r.contacts ?? '[]') as Array<{ address: string; contactId: number; canonical: string | null }>) {
    contacts.set(c.address, { contactId: c.contactId, canonical: c.canonical ?? c.address });
  }
  return {
    history: {
      isKnownContact: r.status === 'known' || (r.sent_count ?? 0) > 0,
      contactHasKey: Number(r.has_key) > 0,
      userWroteTo: r.sent_count ?? 0,
      receivedBefore: fromAddress ? Number(r.n) : 0,
      markedSpamBefore: fromAddress ? Number(r.spam) : 0,
    },
    dup: r.dup ? (JSON.parse(r.dup) as DuplicateRow) : undefined,
    contacts,
  };
}
