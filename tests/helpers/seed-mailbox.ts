/**
 * A synthetic mailbox written straight into the tables the timeline reads: one user, N messages in
 * small discussions of 1–9 messages, plus one mailing list holding a fifth of them (the most
 * recent activity, so it is on the first page), 5% of discussions entirely spam, three participants
 * and one or two tags per message. Deterministic (seeded PRNG) so runs compare.
 */
import type { Knex } from 'knex';
import { ensureSystemTags } from '../../server/mail/tags.js';

const CHUNK = 400;
const T0 = Date.parse('2024-01-01T00:00:00Z');

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function insertChunked(trx: Knex.Transaction, table: string, rows: object[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await trx(table).insert(rows.slice(i, i + CHUNK));
}

interface Plan {
  discussions: Array<{ id: number; size: number; spam: boolean; list: boolean }>;
}

function plan(messages: number, rand: () => number): Plan {
  const listSize = Math.floor(messages / 5);
  const discussions: Plan['discussions'] = [{ id: 1, size: listSize, spam: false, list: true }];
  let left = messages - listSize;
  while (left > 0) {
    const size = Math.min(left, 1 + Math.floor(rand() * 9));
    discussions.push({ id: discussions.length + 1, size, spam: rand() < 0.05, list: false });
    left -= size;
  }
  return { discussions };
}

export async function seedMailbox(db: Knex, messages: number): Promise<{ userId: number; discussions: number }> {
  const rand = prng(42);
  const now = T0;
  await db('domains').insert({ name: 'example.test', created_at: now });
  const [userId] = await db('users').insert({ username: 'alice', password_hash: 'x', is_admin: true, created_at: now });
  await db('addresses').insert({ address: 'alice@example.test', user_id: userId, domain_id: 1, is_primary: true, created_at: now });
  await ensureSystemTags(db, userId!, now);
  await db('tags').insert({ user_id: userId, name: 'Family', created_at: now });
  const tagId = async (name: string) => (await db('tags').where({ user_id: userId, name }).first('id')).id as number;
  const [inbox, spamTag, family] = [await tagId('INBOX'), await tagId('SPAM'), await tagId('Family')];
  const { discussions } = plan(messages, rand);
  const span = 2 * 365 * 86_400_000;

  await db.transaction(async (trx) => {
    const dRows: object[] = [];
    const mRows: object[] = [];
    const pRows: object[] = [];
    const tRows: object[] = [];
    let messageId = 0;
    for (const d of discussions) {
      // The list is the most recently active; the others spread over two years.
      const last = d.list ? T0 + span : T0 + Math.floor(rand() * span);
      const familyTagged = rand() < 0.1;
      const pi = Math.floor(rand() * 100);
      for (let i = 0; i < d.size; i++) {
        messageId++;
        const date = last - (d.size - 1 - i) * 3_600_000;
        const from = d.list ? `member${Math.floor(rand() * 300)}@list.test` : `friend${d.id}@remote.test`;
        mRows.push({
          id: messageId, user_id: userId, discussion_id: d.id, blob_hash: 'h', size: 1000, source: 'mbox', content_hash: `c${messageId}`,
          subject: `Subject ${d.id}`, from_address: from, from_name: `Friend ${d.id}`, excerpt: `Excerpt of message ${messageId}`, date,
          received_at: date, is_read: rand() < 0.7, is_spam: d.spam, pi_score: pi, pi_letter: 'C', created_at: date, list_id: d.list ? 'list.test' : null,
        });
        pRows.push({ message_id: messageId, user_id: userId, role: 'from', address: from, name: `Friend ${d.id}` });
        pRows.push({ message_id: messageId, user_id: userId, role: 'to', address: 'alice@example.test', name: 'Alice' });
        pRows.push({ message_id: messageId, user_id: userId, role: 'cc', address: `cc${d.id % 50}@remote.test`, name: null });
        tRows.push({ message_id: messageId, tag_id: d.spam ? spamTag : inbox });
        if (familyTagged) tRows.push({ message_id: messageId, tag_id: family });
      }
      dRows.push({
        id: d.id, user_id: userId, key: `k${d.id}`, subject: `Subject ${d.id}`, excerpt: `Excerpt ${d.id}`, first_message_at: last - (d.size - 1) * 3_600_000,
        last_message_at: last, message_count: d.size, unread_count: Math.floor(d.size * 0.3), spam_count: d.spam ? d.size : 0,
        importance: Math.floor(rand() * 21) - 10, pi_score: pi, pi_letter: 'C', list_id: d.list ? 'list.test' : null,
      });
    }
    await insertChunked(trx, 'discussions', dRows);
    await insertChunked(trx, 'messages', mRows);
    await insertChunked(trx, 'participants', pRows);
    await insertChunked(trx, 'message_tags', tRows);
  });
  await db.raw('ANALYZE');
  return { userId: userId!, discussions: discussions.length };
}
