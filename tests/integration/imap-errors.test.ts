/**
 * What goes wrong with an external IMAP server, against a real Dovecot: a wrong password (the
 * account needs attention and is not polled until fixed), a self-signed certificate (refused with
 * its fingerprint, then trusted), a host not found, a server that never answers, the connection
 * cut mid-fetch (resumed without loss or duplicate), a server down (retries with a growing delay,
 * paused after 72 h).
 */
import net from 'node:net';
import t from 'tap';
import { cuttingProxy, dovecotMissing } from '../helpers/dovecot.js';
import { imapHarness, mail } from '../helpers/imap-harness.js';
import { addAccount, editAccount, testConnection } from '../../server/imap-import/accounts.js';
import { dueAccounts, getAccount, listFolders, updateAccount } from '../../server/imap-import/account-store.js';
import type { AppError } from '../../server/errors.js';

const skip = dovecotMissing();
if (skip) t.comment(skip);

const settings = (port: number, extra: Record<string, unknown> = {}) => ({ host: '127.0.0.1', port, tls: 'implicit' as const, username: 'alice', password: 'alicepass', ...extra });

t.test('a wrong password: imap_auth_failed, the account needs attention until the password is fixed', { skip }, async (t) => {
  const h = await imapHarness(t);
  h.dovecot.add('alice', 'INBOX', mail('after the fix'));
  await t.rejects(testConnection(h.deps, settings(h.dovecot.imapsPort, { password: 'nope', trustedFingerprint: h.dovecot.fingerprint, trustedCertPem: h.dovecot.certPem })), { code: 'imap_auth_failed' });
  const account = await h.account({ password: 'wrong' });
  await t.rejects(h.sync(account.id), { code: 'imap_auth_failed' });
  const marked = await getAccount(h.deps.db, null, account.id);
  t.match(marked, { status: 'needs_attention', needsAttention: true, lastErrorCode: 'imap_auth_failed', lastError: /refused the user name or password/ });
  h.deps.clock.advance(3600_000);
  t.same(await dueAccounts(h.deps.db, h.deps.clock.now().getTime()), [], 'not polled while it needs attention');
  await t.rejects(editAccount(h.deps, h.aliceId, account.id, { password: 'still wrong' }), { code: 'imap_auth_failed' }, 'a new password is checked before it is kept');
  const fixed = await editAccount(h.deps, h.aliceId, account.id, { password: 'alicepass' });
  t.match(fixed, { needsAttention: false, status: 'idle' });
  t.same(await dueAccounts(h.deps.db, h.deps.clock.now().getTime()), [account.id], 'polled again');
  t.equal((await h.sync(account.id)).imported, 1);
});

t.test('a self-signed certificate is refused with its fingerprint, then trusted (implicit TLS and STARTTLS)', { skip }, async (t) => {
  const h = await imapHarness(t);
  h.dovecot.add('alice', 'INBOX', mail('over pinned TLS'));
  for (const [tls, port] of [['implicit', h.dovecot.imapsPort], ['starttls', h.dovecot.imapPort]] as const) {
    const err = (await testConnection(h.deps, settings(port, { tls })).catch((e: AppError) => e)) as AppError;
    t.equal(err.code, 'imap_tls_failed', `${tls}: refused`);
    t.match(err.details, { certificate: { fingerprint: h.dovecot.fingerprint, subject: /CN=localhost/ } }, `${tls}: the fingerprint to compare is given`);
    t.match(err.message, h.dovecot.fingerprint);
  }
  const bad = h.dovecot.fingerprint.replace(/^../, h.dovecot.fingerprint.startsWith('00') ? '11' : '00');
  await t.rejects(addAccount(h.deps, h.aliceId, { address: 'a@remote.test', ...settings(h.dovecot.imapsPort), trustedFingerprint: bad }), { code: 'imap_tls_failed' }, 'another fingerprint is not trusted');
  const account = await addAccount(h.deps, h.aliceId, { address: 'a@remote.test', ...settings(h.dovecot.imapPort, { tls: 'starttls' }), trustedFingerprint: h.dovecot.fingerprint.toLowerCase().replace(/:/g, '') });
  t.equal(account.trustedFingerprint, h.dovecot.fingerprint);
  t.ok((await listFolders(h.deps.db, account.id)).some((f) => f.path === 'INBOX'), 'folders listed when added');
  t.equal((await h.sync(account.id)).imported, 1);
  const m = await h.deps.db('messages').where({ subject: 'over pinned TLS' }).first('transport_json');
  t.match(JSON.parse(m.transport_json), { tls: { protocol: /^TLSv1\.[23]$/ } }, 'the STARTTLS link is recorded');
});

t.test('host not found, a server that never answers, plain IMAP off loopback', { skip }, async (t) => {
  const h = await imapHarness(t, { config: { connectTimeoutMs: 700 } });
  const dns = h.deps.dns as typeof h.deps.dns & { zones: Record<string, Record<string, unknown[]>>; queries: string[] };
  await t.rejects(testConnection(h.deps, settings(993, { host: 'no-such-host.invalid' })), { code: 'imap_host_not_found' });
  t.ok(dns.queries.includes('A no-such-host.invalid'), 'names are resolved through the injected resolver, not the system one');
  dns.zones['imap.remote.test'] = { A: ['127.0.0.1'] };
  const byName = await testConnection(h.deps, settings(h.dovecot.imapsPort, { host: 'imap.remote.test', trustedFingerprint: h.dovecot.fingerprint, trustedCertPem: h.dovecot.certPem }));
  t.ok(byName.folders.length > 0, 'a host name the resolver knows connects (the pinned certificate is accepted whatever its name)');
  const silent = net.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => silent.close());
  const started = Date.now();
  await t.rejects(testConnection(h.deps, settings((silent.address() as net.AddressInfo).port, { tls: 'plain' })), { code: 'imap_timeout' });
  t.ok(Date.now() - started < 5000, 'gives up in about the configured time');
  await t.rejects(testConnection(h.deps, settings(143, { host: 'imap.example.org', tls: 'plain' })), { code: 'plain_imap_not_loopback' });
});

t.test('the server closing the connection mid-fetch: the committed batches stay, the next run resumes exactly', { skip }, async (t) => {
  const h = await imapHarness(t);
  const N = 240;
  const filler = 'x'.repeat(4000);
  for (let i = 0; i < N; i++) h.dovecot.add('alice', 'INBOX', mail(`bulk ${i}`, { body: `message ${i}\r\n${filler}` }));
  const proxy = await cuttingProxy(t, h.dovecot.imapPort, 400_000);
  const account = await h.account({ port: proxy.port, tls: 'plain', trustedFingerprint: null, trustedCertPem: null });
  await t.rejects(h.sync(account.id, { limits: { batchMessages: 30 } }), 'the cut fails the run');
  t.ok(proxy.cuts >= 1, 'the proxy cut the connection');
  const partial = await h.count();
  const inbox = (await listFolders(h.deps.db, account.id)).find((f) => f.path === 'INBOX')!;
  t.ok(partial > 0 && partial < N, `some messages stored before the cut (${partial})`);
  t.ok(inbox.lastUid > 0 && inbox.lastUid <= partial, `the cursor (${inbox.lastUid}) covers only stored messages`);
  t.match(await getAccount(h.deps.db, null, account.id), { status: 'error', failures: 1, needsAttention: false });
  proxy.cutAfter = Infinity;
  const resumed = await h.sync(account.id, { limits: { batchMessages: 30 } });
  t.equal(await h.count(), N, 'every message, once');
  t.equal(resumed.imported, N - partial);
  t.equal(resumed.duplicates, partial - inbox.lastUid, 'only the messages after the cursor were read again');
});

t.test('a server down: retried later and later, paused after 72 hours of failures', { skip }, async (t) => {
  const h = await imapHarness(t);
  const account = await h.account();
  await h.dovecot.stop();
  const at = () => h.deps.clock.now().getTime();
  await t.rejects(h.sync(account.id), { code: 'imap_unreachable' });
  let a = await getAccount(h.deps.db, null, account.id);
  t.match(a, { status: 'error', failures: 1, failingSince: at(), nextSyncAt: at() + 60_000 });
  h.deps.clock.advance(60_000);
  await t.rejects(h.sync(account.id), { code: 'imap_unreachable' });
  a = await getAccount(h.deps.db, null, account.id);
  t.match(a, { failures: 2, nextSyncAt: at() + 120_000 }, 'the delay grows');
  h.deps.clock.advance(72 * 3600_000);
  await t.rejects(h.sync(account.id));
  a = await getAccount(h.deps.db, null, account.id);
  t.match(a, { status: 'paused', paused: true, lastError: /polling paused/ });
  t.same(await dueAccounts(h.deps.db, at() + 365 * 86400_000), [], 'never polled while paused');
  await h.dovecot.start();
  await updateAccount(h.deps.db, h.deps.secrets, h.aliceId, account.id, { paused: false }, at());
  await h.sync(account.id);
  t.match(await getAccount(h.deps.db, null, account.id), { status: 'idle', failures: 0, failingSince: null, paused: false });
});
