import t from 'tap';
import { testDeps } from '../../helpers/deps.js';
import { runSetup } from '../../../server/setup/first-run.js';
import { addUser, removeUser } from '../../../server/accounts/users.js';
import { createRecipientDirectory } from '../../../server/accounts/recipient-directory.js';

t.test('positive answers are remembered briefly; a new mailbox is found at once', async (t) => {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  const alice = await runSetup(deps.db, deps.clock, { domain: 'example.test', admin: 'alice', password: 'a long password' });
  let now = 0;
  const dir = createRecipientDirectory(deps.db, 5_000, () => now);
  t.equal(await dir.classify('bob@example.test'), 'unknown');
  const bob = await addUser(deps.db, deps.clock, { username: 'bob', domain: 'example.test', password: 'bobs long password' });
  t.equal(await dir.classify('bob@example.test'), 'local', 'an unknown answer was not cached: no 550 for a mailbox made a second ago');
  t.same((await dir.resolve(['Bob@Example.test', 'alice@example.test'])).sort(), [alice.id, bob.id].sort());
  await removeUser(deps.db, 'bob');
  t.equal(await dir.classify('bob@example.test'), 'local', 'within the TTL the positive answer stands');
  now = 5_001;
  t.equal(await dir.classify('bob@example.test'), 'unknown', 'after the TTL the database is asked again');
  t.equal(await dir.classify('x@elsewhere.test'), 'foreign');
});
