import t from 'tap';
import { createCommitQueue } from '../../../server/mail/commit-queue.js';
import { testDeps } from '../../helpers/deps.js';

t.test('jobs share commits, and a failing job rolls back alone', async (t) => {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  const q = createCommitQueue(deps.db);
  const insert = (name: string) => q.submit(async (trx) => {
    await trx('settings').insert({ key: name, value: 'v' });
    return name;
  });
  const failing = q.submit(async (trx) => {
    await trx('settings').insert({ key: 'half', value: 'written' });
    throw new Error('boom after a write');
  });
  const results = await Promise.allSettled([insert('a'), failing, insert('b'), insert('c')]);
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  const keys = (await deps.db('settings').select('key')).map((r: { key: string }) => r.key).sort();
  t.same(keys, ['a', 'b', 'c'], 'the failed job left nothing half-written');
  await q.drain();
});

t.test('a duplicate key error rejects that job only', async (t) => {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  const q = createCommitQueue(deps.db);
  const put = (k: string) => q.submit((trx) => trx('settings').insert({ key: k, value: '1' }));
  const r = await Promise.allSettled([put('x'), put('x'), put('y')]);
  t.same(r.map((x) => x.status), ['fulfilled', 'rejected', 'fulfilled']);
  t.equal((await deps.db('settings').count({ n: '*' }))[0]!.n, 2);
});
