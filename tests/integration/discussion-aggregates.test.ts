/**
 * A discussion's counters (messages, unread, spam, attachments, importance, first/last date,
 * newest excerpt and sender, PI) are kept up to date by the group commit: new discussions made and
 * every discussion of a batch updated in one statement each. Whatever the batches, they must equal
 * what a recomputation from the messages gives (refreshDiscussion).
 */
import t from 'tap';
import { startApi } from '../helpers/api-app.js';
import { makeMessage } from '../helpers/deps.js';
import { refreshDiscussion } from '../../server/mail/discussions.js';

const FIELDS = ['message_count', 'unread_count', 'spam_count', 'attachment_count', 'importance', 'first_message_at', 'last_message_at', 'excerpt', 'last_from', 'pi_score', 'pi_letter'];

t.test('batched discussion counters equal a recomputation', async (t) => {
  const h = await startApi(t);
  const alice = h.users.alice;
  const people = ['Carol <carol@remote.test>', 'Dan <dan@far.test>', 'Eve <eve@other.test>', 'Fay <fay@remote.test>', 'Gus <gus@far.test>'];
  // 80 messages in 5 discussions, out of date order, some read, some with a file, some with a DKIM-less spammy look
  const raws = Array.from({ length: 80 }, (_, i) => {
    const from = people[i % people.length]!;
    const day = String(1 + ((i * 7) % 28)).padStart(2, '0');
    const withFile = i % 6 === 0;
    const body = withFile
      ? ['This is a multi-part message.', '--b1', 'Content-Type: text/plain', '', `Note ${i} with a file`, '--b1', 'Content-Type: application/pdf; name="f.pdf"', 'Content-Disposition: attachment; filename="f.pdf"', 'Content-Transfer-Encoding: base64', '', 'JVBERi0xLjQK', '--b1--'].join('\r\n')
      : `Message ${i} from ${from}`;
    const raw = makeMessage({ from, subject: `Topic ${i % 5}`, body, date: `${['Sun', 'Mon'][i % 2]}, ${day} Feb 2026 1${i % 10}:00:00 +0000`, messageId: `agg-${i}@remote.test`, headers: withFile ? ['Content-Type: multipart/mixed; boundary="b1"'] : [] });
    return withFile ? Buffer.from(raw.toString().replace('Content-Type: text/plain; charset=utf-8\r\n', '')) : raw;
  });
  // all at once, so that the commit queue groups them in batches of several messages and discussions
  await Promise.all(raws.map((raw, i) => h.app.services.ingestor.ingest({ source: 'mbox', raw, userIds: [alice], read: i % 3 === 0 })));
  const db = h.app.services.deps.db;
  const ids = (await db('discussions').where({ user_id: alice }).select('id')).map((r: { id: number }) => r.id);
  t.equal(ids.length, people.length, 'one discussion per correspondent');
  for (const id of ids) {
    const kept = await db('discussions').where({ id }).first(...FIELDS);
    const trx = await db.transaction();
    await refreshDiscussion(trx, id);
    const recomputed = await trx('discussions').where({ id }).first(...FIELDS);
    await trx.rollback();
    t.same(kept, recomputed, `discussion ${id}: ${kept.message_count} messages`);
  }
});
