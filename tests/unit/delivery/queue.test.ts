import t, { type Test } from 'tap';
import { testDeps } from '../../helpers/deps.js';
import { addDomain } from '../../../server/accounts/domains.js';
import { addUser } from '../../../server/accounts/users.js';
import { claimDue, dropQueueItem, enqueueOutbound, listQueue, recordAttempt, recoverInFlight, retryQueueItem } from '../../../server/delivery/queue.js';
import { checkSendRate } from '../../../server/delivery/rate-limit.js';

async function setup(t: Test) {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  await addDomain(deps.db, deps.clock, 'example.test');
  const user = await addUser(deps.db, deps.clock, { username: 'alice', domain: 'example.test', password: 'correct horse battery' });
  const now = deps.clock.now().getTime();
  const outboundId = await enqueueOutbound(deps.db, {
    userId: user.id, blobHash: 'ab'.repeat(32), headerMessageId: 'm1@example.test', mailFrom: 'alice@example.test', source: 'api', now,
    expiresAt: now + 5 * 86_400_000,
    domains: [
      { domain: 'remote.test', addresses: ['bob@remote.test', 'carl@remote.test'], local: false },
      { domain: 'other.test', addresses: ['dan@other.test'], local: false },
    ],
  });
  return { deps, user, now, outboundId };
}

t.test('one queue row per recipient domain, claimed once', async (t) => {
  const { deps, now, outboundId } = await setup(t);
  t.ok(outboundId > 0);
  const claimed = await claimDue(deps.db, now, 10);
  t.same(claimed.map((c) => [c.domain, c.recipients]), [['remote.test', ['bob@remote.test', 'carl@remote.test']], ['other.test', ['dan@other.test']]]);
  t.same(await claimDue(deps.db, now, 10), [], 'claimed rows are not handed out twice');
  t.equal(await recoverInFlight(deps.db, now), 2, 'after a crash, in-flight rows are due again');
  t.equal((await claimDue(deps.db, now, 10)).length, 2);
});

t.test('an attempt records each recipient; temp failures wait, the rest is final', async (t) => {
  const { deps, now } = await setup(t);
  const [item] = await claimDue(deps.db, now, 1);
  const status = await recordAttempt(deps.db, {
    item: item!, now, nextAttemptAt: now + 300_000, travelJson: null, delayNotified: false,
    results: [
      { address: 'bob@remote.test', status: 'delivered', code: '250 2.0.0', response: 'ok' },
      { address: 'carl@remote.test', status: 'temp_fail', code: '450 4.2.0', response: 'try later' },
    ],
  });
  t.equal(status, 'queued');
  t.same(await claimDue(deps.db, now + 299_999, 10).then((x) => x.filter((c) => c.domain === 'remote.test')), [], 'not before its time');
  const [again] = (await claimDue(deps.db, now + 300_000, 10)).filter((c) => c.domain === 'remote.test');
  t.same(again!.recipients, ['carl@remote.test'], 'only the waiting recipient is tried again');
  t.equal(again!.attempts, 1);
  const final = await recordAttempt(deps.db, { item: again!, now, nextAttemptAt: null, travelJson: null, delayNotified: false, results: [{ address: 'carl@remote.test', status: 'temp_fail', code: '450 4.2.0', response: 'still later' }] });
  t.equal(final, 'delivered', 'expired: carl failed for good, bob got it');
  const [row] = (await listQueue(deps.db)).filter((r) => r.domain === 'remote.test');
  t.same(row!.recipients.map((r) => r.status), ['delivered', 'failed']);
});

t.test('retry and drop from the queue view', async (t) => {
  const { deps, now, user } = await setup(t);
  const rows = await listQueue(deps.db, { status: 'active' });
  t.equal(rows.length, 2);
  const other = rows.find((r) => r.domain === 'other.test')!;
  await dropQueueItem(deps.db, other.id, now);
  t.equal((await listQueue(deps.db, { status: 'dropped' }))[0]!.recipients[0]!.status, 'failed');
  await t.rejects(dropQueueItem(deps.db, other.id, now), { code: 'bad_request' });
  await t.rejects(retryQueueItem(deps.db, 99_999, now), { code: 'queue_item_not_found' });
  await t.rejects(retryQueueItem(deps.db, other.id, now, user.id + 1), { code: 'queue_item_not_found' }, 'another user cannot touch it');
  const [item] = await claimDue(deps.db, now, 1);
  await recordAttempt(deps.db, { item: item!, now, nextAttemptAt: null, travelJson: null, delayNotified: false, results: item!.recipients.map((address) => ({ address, status: 'perm_fail' as const, code: '550 5.1.1', response: 'no such user' })) });
  await retryQueueItem(deps.db, item!.queueId, now + 1000);
  const [back] = await claimDue(deps.db, now + 1000, 10);
  t.same(back!.recipients, ['bob@remote.test', 'carl@remote.test'], 'a failed row retried gets its recipients back');
});

t.test('sending is rate limited per hour and per day', async (t) => {
  const { deps, now, user } = await setup(t);
  await checkSendRate(deps.db, user.id, now, { perHour: 2, perDay: 5 });
  await t.rejects(checkSendRate(deps.db, user.id, now, { perHour: 1, perDay: 5 }), { code: 'rate_limited', message: /per hour/ });
  await t.rejects(checkSendRate(deps.db, user.id, now + 2 * 3_600_000, { perHour: 1, perDay: 1 }), { code: 'rate_limited', message: /per day/ });
  await checkSendRate(deps.db, user.id, now + 2 * 3_600_000, { perHour: 1, perDay: 2 });
});
