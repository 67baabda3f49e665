import t, { type Test } from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import { closeDb, openDb, type Db } from '../../../server/store/db.js';
import { loadBayesInput, loadSpamStats, loadTokenCounts, trainSpam } from '../../../server/spam/repo.js';

async function setup(t: Test): Promise<{ db: Db; alice: number; bob: number }> {
  const dir = fs.mkdtempSync(os.tmpdir() + '/cal-');
  const db = await openDb(dir);
  t.teardown(async () => {
    await closeDb(db);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const [alice] = (await db('users').insert({ username: 'alice', password_hash: 'x', created_at: Date.now() })) as number[];
  const [bob] = (await db('users').insert({ username: 'bob', password_hash: 'x', created_at: Date.now() })) as number[];
  return { db, alice: alice!, bob: bob! };
}

t.test('training counts tokens and messages, per user', async (t) => {
  const { db, alice, bob } = await setup(t);
  t.ok(await trainSpam(db, alice, ['cheap', 'pills', 'cheap'], true, null));
  await trainSpam(db, alice, ['cheap', 'meeting'], false, null);
  const counts = await loadTokenCounts(db, alice, ['cheap', 'pills', 'meeting', 'never-seen']);
  t.same(counts.get('cheap'), { spam: 1, ham: 1 }, 'a duplicate token in one message counts once');
  t.same(counts.get('pills'), { spam: 1, ham: 0 });
  t.same(counts.get('meeting'), { spam: 0, ham: 1 });
  t.notOk(counts.has('never-seen'));
  t.same(await loadSpamStats(db, alice), { spamMessages: 1, hamMessages: 1 });
  t.equal((await loadTokenCounts(db, bob, ['cheap'])).size, 0, 'bob learns nothing from alice');
  t.same(await loadSpamStats(db, bob), { spamMessages: 0, hamMessages: 0 });
});

t.test('retraining: the same class is a no-op, the other class moves the counts', async (t) => {
  const { db, alice } = await setup(t);
  await trainSpam(db, alice, ['offer', 'free'], true, null);
  t.notOk(await trainSpam(db, alice, ['offer', 'free'], true, 'spam'), 'already spam: nothing to do');
  t.same((await loadTokenCounts(db, alice, ['offer'])).get('offer'), { spam: 1, ham: 0 });
  t.ok(await trainSpam(db, alice, ['offer', 'free'], false, 'spam'), 'user says: not spam after all');
  t.same((await loadTokenCounts(db, alice, ['offer'])).get('offer'), { spam: 0, ham: 1 });
  t.same(await loadSpamStats(db, alice), { spamMessages: 0, hamMessages: 1 });
  await trainSpam(db, alice, ['offer', 'free'], true, 'ham');
  t.same((await loadTokenCounts(db, alice, ['free'])).get('free'), { spam: 1, ham: 0 });
  t.same(await loadSpamStats(db, alice), { spamMessages: 1, hamMessages: 0 });
});

t.test('untraining never goes below zero', async (t) => {
  const { db, alice } = await setup(t);
  // a message claimed to have been spam, but its tokens (new tokenizer) were never counted
  await trainSpam(db, alice, ['brand-new'], false, 'spam');
  t.same((await loadTokenCounts(db, alice, ['brand-new'])).get('brand-new'), { spam: 0, ham: 1 });
  t.same(await loadSpamStats(db, alice), { spamMessages: 0, hamMessages: 1 });
});

t.test('training joins the caller transaction: a rollback undoes it', async (t) => {
  const { db, alice } = await setup(t);
  await t.rejects(
    db.transaction(async (trx) => {
      await trainSpam(trx, alice, ['rolled', 'back'], true, null);
      throw new Error('caller failed after training');
    }),
  );
  t.equal((await loadTokenCounts(db, alice, ['rolled'])).size, 0);
  t.same(await loadSpamStats(db, alice), { spamMessages: 0, hamMessages: 0 });
});

t.test('more than one chunk of tokens', async (t) => {
  const { db, alice } = await setup(t);
  const tokens = Array.from({ length: 1200 }, (_, i) => `tok${i}`);
  for (let i = 0; i < 5; i++) await trainSpam(db, alice, tokens, true, null);
  const counts = await loadTokenCounts(db, alice, tokens);
  t.equal(counts.size, 1200);
  t.same(counts.get('tok1199'), { spam: 5, ham: 0 });
  const untrained = await loadBayesInput(db, alice, tokens);
  t.ok(untrained.counts.size <= 500, 'an untrained filter reads only the first chunk');
  for (let i = 0; i < 5; i++) await trainSpam(db, alice, ['other'], false, null);
  const trained = await loadBayesInput(db, alice, tokens);
  t.equal(trained.counts.size, 1200, 'a trained filter reads every chunk');
  t.same(trained.stats, { spamMessages: 5, hamMessages: 5 });
});

t.test('scoring input is one query for a normal message', async (t) => {
  const { db, alice } = await setup(t);
  await trainSpam(db, alice, ['a1', 'a2'], true, null);
  const queries: string[] = [];
  const listen = (q: { sql: string }) => queries.push(q.sql);
  db.on('query', listen);
  const input = await loadBayesInput(db, alice, Array.from({ length: 300 }, (_, i) => (i < 2 ? `a${i + 1}` : `x${i}`)));
  db.off('query', listen);
  t.equal(queries.length, 1, queries.join('\n'));
  t.same(input.stats, { spamMessages: 1, hamMessages: 0 });
  t.same(input.counts.get('a1'), { spam: 1, ham: 0 });
  t.equal(input.counts.size, 1 + 1);
  const empty = await loadBayesInput(db, alice, []);
  t.same(empty.stats, { spamMessages: 1, hamMessages: 0 }, 'no tokens still gives the totals');
});
