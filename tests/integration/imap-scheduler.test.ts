/**
 * Polling against a real Dovecot: a tick starts the due accounts (a new one at once, then every
 * interval), "sync now" refuses a second run of the same account, and the lease keeps another
 * process (here: another machine's holder) from syncing the same account at once.
 */
import t from 'tap';
import { dovecotMissing } from '../helpers/dovecot.js';
import { imapHarness, mail } from '../helpers/imap-harness.js';
import { createImportScheduler } from '../../server/imap-import/scheduler.js';
import { getAccount } from '../../server/imap-import/account-store.js';
import { acquireLease } from '../../server/imap-import/lease.js';

const skip = dovecotMissing();
if (skip) t.comment(skip);

t.test('ticks start due accounts on their interval; one sync per account', { skip }, async (t) => {
  const h = await imapHarness(t);
  for (let i = 0; i < 3; i++) h.dovecot.add('alice', 'INBOX', mail(`polled ${i}`));
  const account = await h.account({ intervalMinutes: 30 });
  const scheduler = createImportScheduler(h.deps, h.ingestor);
  t.teardown(() => scheduler.stop());
  await scheduler.tick();
  t.ok(scheduler.running(account.id), 'a new account is due at once');
  await t.rejects(scheduler.syncNow(h.aliceId, account.id), { code: 'sync_in_progress' }, 'sync now while it runs');
  await scheduler.settled(account.id);
  t.equal(await h.count(), 3);
  const now = h.deps.clock.now().getTime();
  t.match(await getAccount(h.deps.db, null, account.id), { status: 'idle', nextSyncAt: now + 30 * 60_000 });
  h.dovecot.add('alice', 'INBOX', mail('next poll'));
  await scheduler.tick();
  t.notOk(scheduler.running(account.id), 'not due before its interval');
  h.deps.clock.advance(30 * 60_000);
  await scheduler.tick();
  t.ok(scheduler.running(account.id), 'due after its interval');
  await scheduler.settled(account.id);
  t.equal(await h.count(), 4);
  await t.rejects(scheduler.syncNow(h.aliceId + 999, account.id), { code: 'external_account_not_found' }, "another user's sync now is refused");
  await scheduler.syncNow(h.aliceId, account.id);
  await scheduler.settled(account.id);

  await acquireLease(h.deps.db, account.id, 'elsewhere.example:4242:x', h.deps.clock.now().getTime());
  await t.rejects(h.sync(account.id), { code: 'sync_in_progress' }, 'a live lease held by another process');
  t.match(await getAccount(h.deps.db, null, account.id), { status: 'idle', failures: 0 }, 'and that is not a failure of the account');
  h.deps.clock.advance(3 * 60_000);
  await h.sync(account.id);
  t.pass('an expired lease is taken over');
});
