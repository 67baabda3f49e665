import t from 'tap';
import type { Knex } from 'knex';
import { createCommitQueue } from '../../../server/mail/commit-queue.js';
import { testDeps } from '../../helpers/deps.js';

/** Writes each key as one row; a key named "bad" fails after writing, like a message with a bug. */
async function writeKeys(trx: Knex.Transaction, keys: string[]): Promise<string[]> {
  await trx('settings').insert(keys.map((key) => ({ key, value: 'v' })));
  if (keys.includes('bad')) throw new Error('boom after a write');
  return keys.map((k) => k.toUpperCase());
}

t.test('items share commits, and a failing item is rejected alone with nothing half-written', async (t) => {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  let batches = 0;
  const q = createCommitQueue(deps.db, (trx, items: string[]) => {
    batches++;
    return writeKeys(trx, items);
  });
  const results = await Promise.allSettled(['a', 'bad', 'b', 'c'].map((k) => q.submit(k)));
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  t.same(results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<string>).value), ['A', 'B', 'C']);
  const keys = (await deps.db('settings').pluck('key')).sort();
  t.same(keys, ['a', 'b', 'c'], 'the failed item left nothing behind');
  t.equal(batches, 5, 'one shared attempt, then each item alone');
  await q.drain();
});

t.test('a constraint error rejects that item only', async (t) => {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  const q = createCommitQueue(deps.db, writeKeys);
  const r = await Promise.allSettled([q.submit('x'), q.submit('x'), q.submit('y')]);
  t.same(r.map((x) => x.status), ['fulfilled', 'rejected', 'fulfilled']);
  t.equal((await deps.db('settings').count({ n: '*' }))[0]!.n, 2);
});

t.test('concurrent submissions are grouped', async (t) => {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  const sizes: number[] = [];
  const q = createCommitQueue(deps.db, (trx, items: string[]) => {
    sizes.push(items.length);
    return writeKeys(trx, items);
  });
  await Promise.all(Array.from({ length: 50 }, (_, i) => q.submit(`k${i}`)));
  t.ok(sizes.length < 50, `50 items in ${sizes.length} commits`);
  t.equal(sizes.reduce((a, b) => a + b, 0), 50);
});
