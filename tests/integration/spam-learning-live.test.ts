/**
 * The ingest pipeline remembers for a few seconds that a user's filter is not trained (and then
 * skips looking up every token); the user's own sorting must still count from the very next
 * message, not seconds later.
 */
import t from 'tap';
import { startApi } from '../helpers/api-app.js';
import { makeMessage } from '../helpers/deps.js';
import { changeTags } from '../../server/mail/message-tags.js';

const spamIdsOf = async (h: Awaited<ReturnType<typeof startApi>>, id: number): Promise<string[]> => {
  const row = await h.app.services.deps.db('messages').where({ id }).first('signals_json');
  return (JSON.parse(row.signals_json).spam as Array<{ id: string }>).map((s) => s.id);
};

t.test('sorting trains the filter for the next message at once', async (t) => {
  const h = await startApi(t);
  const alice = h.users.alice;
  const mail = (i: number, spammy: boolean) => makeMessage({
    subject: spammy ? `Cheap pills offer ${i}` : `Meeting notes ${i}`,
    body: spammy ? 'cheap pills viagra casino winner claim prize now unsubscribe' : 'agenda minutes project review schedule colleagues',
    messageId: `m${i}-${spammy ? 's' : 'h'}@remote.test`,
  });
  const first = await h.ingest(mail(0, false), [alice]);
  t.ok((await spamIdsOf(h, first)).includes('BAYES_UNTRAINED'), 'a new user: the filter has not learnt yet');

  const deps = h.app.services.deps;
  for (let i = 1; i <= 5; i++) await changeTags(deps, alice, await h.ingest(mail(i, true), [alice]), { add: ['SPAM'] });
  for (let i = 1; i <= 5; i++) {
    const id = await h.ingest(mail(i, false), [alice]);
    await changeTags(deps, alice, id, { add: ['SPAM'] });
    await changeTags(deps, alice, id, { add: ['INBOX'] });
  }
  const next = await h.ingest(mail(99, true), [alice]);
  const ids = await spamIdsOf(h, next);
  t.notOk(ids.includes('BAYES_UNTRAINED'), `trained now: ${ids.join(', ')}`);
  t.ok(ids.some((id) => id.startsWith('SPAM_BAYES')), 'and it recognises what it was taught');
});
