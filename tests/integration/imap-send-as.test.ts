/**
 * Sending "as" an external address, against real peers: the provider's submission server is a
 * Node smtp-server with AUTH and a self-signed certificate (implicit TLS, and STARTTLS for the
 * certificate probe), its mailbox a real Dovecot. Settings are checked before they are kept (TLS
 * error with the certificate to trust, wrong password), the password is sealed and never shown,
 * the address becomes a From choice, the message leaves through the provider (logged in, every
 * recipient, no DKIM signature of ours) and lands once in the account's Sent folder; the next
 * import finds it there as a duplicate. A mail program on the box's submission port may use the
 * address as well. A dead IMAP server fails the copy, not the delivery.
 */
import t from 'tap';
import nodemailer from 'nodemailer';
import { startApi, BOB } from '../helpers/api-app.js';
import { dovecotMissing, startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { startProviderSubmission } from '../helpers/submission-peer.js';
import { unfinishedSentAppends } from '../../server/delivery/queue.js';

const skip = dovecotMissing();
if (skip) t.comment(skip);

const ADDRESS = 'alice@remote.test';
const SMTP_PASSWORD = 'smtp secret 42';

async function eventually<T>(fn: () => Promise<T | undefined | null | false>, what: string, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Message-IDs in a Dovecot folder, with their flags. */
function folderMessages(dovecot: Dovecot, folder: string): Array<{ messageId: string; flags: string }> {
  const out = dovecot.doveadm(['fetch', '-u', 'alice', 'flags hdr.message-id', 'mailbox', folder, 'ALL']);
  return out.split(/\f\n?/).filter((b) => b.trim()).map((b) => ({
    messageId: /hdr\.message-id:\s*<?([^>\s]+)>?/i.exec(b)?.[1] ?? '',
    flags: /flags:\s*(.*)/.exec(b)?.[1] ?? '',
  }));
}

t.test('send as an external address through its own server', { skip, timeout: 120_000 }, async (t) => {
  const dovecot = await startDovecot(t);
  const provider = await startProviderSubmission(t, { tls: 'implicit', users: { alice: SMTP_PASSWORD } });
  const starttlsProvider = await startProviderSubmission(t, { tls: 'starttls', users: { alice: SMTP_PASSWORD } });
  const h = await startApi(t, { config: { imports: { enabled: false } } });
  const alice = h.client();
  await alice.login('alice', 'alice password 1');
  const imap = { host: '127.0.0.1', port: dovecot.imapsPort, tls: 'implicit', username: 'alice', password: 'alicepass', trusted_fingerprint: dovecot.fingerprint };
  const smtp = { host: '127.0.0.1', port: provider.port, tls: 'implicit', username: 'alice', password: SMTP_PASSWORD };

  // the settings are checked against the server before anything is kept
  const untrusted = await alice.post('/api/v1/external-accounts/test-smtp', smtp);
  t.equal(untrusted.status, 422);
  t.match(untrusted.body.error, { code: 'smtp_tls_failed', details: { certificate: { fingerprint: provider.fingerprint } } }, 'implicit TLS: the certificate to trust is shown');
  const viaStarttls = await alice.post('/api/v1/external-accounts/test-smtp', { ...smtp, port: starttlsProvider.port, tls: 'starttls' });
  t.match(viaStarttls.body.error, { code: 'smtp_tls_failed', details: { certificate: { fingerprint: starttlsProvider.fingerprint } } }, 'STARTTLS: read after EHLO and STARTTLS');
  t.equal((await alice.post('/api/v1/external-accounts/test-smtp', { ...smtp, port: starttlsProvider.port, tls: 'starttls', trusted_fingerprint: starttlsProvider.fingerprint })).status, 200);
  const wrong = await alice.post('/api/v1/external-accounts/test-smtp', { ...smtp, password: 'nope', trusted_fingerprint: provider.fingerprint });
  t.match(wrong, { status: 422, body: { error: { code: 'smtp_auth_failed' } } });
  const plainRemote = await alice.post('/api/v1/external-accounts/test-smtp', { ...smtp, host: 'smtp.remote.test', tls: 'plain' });
  t.match(plainRemote, { status: 400, body: { error: { code: 'plain_smtp_not_loopback' } } });

  const refused = await alice.post('/api/v1/external-accounts', { ...imap, address: ADDRESS, smtp: { ...smtp, password: 'nope', trusted_fingerprint: provider.fingerprint } });
  t.match(refused, { status: 422, body: { error: { code: 'smtp_auth_failed' } } }, 'an account whose sending server refuses the login is not added');
  t.same((await alice.get('/api/v1/external-accounts')).body.items, []);

  const added = await alice.post('/api/v1/external-accounts', { ...imap, address: ADDRESS, smtp: { ...smtp, trusted_fingerprint: provider.fingerprint } });
  t.equal(added.status, 201);
  const id = added.body.account.id;
  t.same(added.body.account.smtp, { host: '127.0.0.1', port: provider.port, tls: 'implicit', username: 'alice', trusted_fingerprint: provider.fingerprint }, 'listed without its password');
  const row = await h.app.services.deps.db('external_accounts').where({ id }).first('smtp_password_sealed');
  t.notMatch(row.smtp_password_sealed, SMTP_PASSWORD, 'sealed at rest');
  t.same((await alice.get('/api/v1/me')).body.user.send_as, [ADDRESS], 'a From choice');

  // written from the external address: out through the provider, every recipient, logged in
  const draft = await alice.post('/api/v1/drafts', { from: ADDRESS, to: ['carol@far.test', BOB.address], subject: 'From my old address', body: 'Sent through my provider.' });
  t.equal(draft.status, 201);
  const sent = await alice.post(`/api/v1/drafts/${draft.body.id}/send`);
  t.equal(sent.status, 202);
  t.same(sent.body.local, [], 'a local recipient too goes through the provider');
  const got = await eventually(async () => provider.received[0], 'the provider to get the message');
  t.match(got, { user: 'alice', mailFrom: ADDRESS, secure: true });
  t.same([...got.rcpt].sort(), [BOB.address, 'carol@far.test']);
  t.match(got.raw, /^From: .*alice@remote\.test/m);
  t.notMatch(got.raw, /^DKIM-Signature:/m, 'the provider signs its own domain, not us');
  const messageId = /^Message-ID:\s*<([^>]+)>/im.exec(got.raw)![1]!;

  // and once in the account's Sent folder, marked read
  const outbound = await eventually(async () => {
    const o = await h.app.services.deps.db('outbound_messages').where({ header_message_id: messageId }).first();
    return o?.sent_append === 'done' ? o : null;
  }, 'the Sent-folder copy');
  t.equal(outbound.via_account_id, id);
  const inSent = folderMessages(dovecot, 'Sent');
  t.same(inSent.map((m) => m.messageId), [messageId]);
  t.match(inSent[0]!.flags, /\\Seen/);

  // the Sent copy is in the box already: importing the folder finds a duplicate, not a second message
  await alice.post(`/api/v1/external-accounts/${id}/sync`);
  await h.app.services.imports.settled(id);
  const copies = await h.app.services.deps.db('messages').where({ user_id: h.users.alice, message_id: messageId }).count({ n: '*' }).first();
  t.equal(Number(copies!.n), 1, 'one message, imported from Sent or sent from here');

  // a mail program on the box's submission port may use the address too
  const client = nodemailer.createTransport({
    host: '127.0.0.1', port: h.app.ports.submission, secure: false, requireTLS: true, tls: { rejectUnauthorized: false },
    auth: { user: 'alice', pass: 'alice password 1' }, connectionTimeout: 5000,
  });
  t.teardown(() => client.close());
  await client.sendMail({ from: ADDRESS, to: 'dave@far.test', subject: 'From my mail program', text: 'Submitted to the box.' });
  const submitted = await eventually(async () => provider.received.find((m) => m.rcpt.includes('dave@far.test')), 'the submitted message at the provider');
  t.match(submitted, { user: 'alice', mailFrom: ADDRESS });
  await eventually(async () => (await h.app.services.deps.db('outbound_messages').where({ sent_append: 'done' }).count({ n: '*' }).first())!.n === 2, 'its Sent copy');

  // someone else's address, or an account without a sending server, is not a From
  const foreign = await alice.post('/api/v1/drafts', { from: 'eve@remote.test', to: ['carol@far.test'] });
  t.match(foreign, { status: 403, body: { error: { code: 'sender_not_allowed' } } });

  // the mailbox down: the message still leaves; the copy fails with its reason, once
  await dovecot.stop();
  const second = await alice.post('/api/v1/drafts', { from: ADDRESS, to: ['carol@far.test'], subject: 'Second', body: 'While IMAP is down.' });
  await alice.post(`/api/v1/drafts/${second.body.id}/send`);
  await eventually(async () => provider.received.length === 3, 'the second message');
  const failed = await eventually(async () => {
    const o = await h.app.services.deps.db('outbound_messages').orderBy('id', 'desc').first();
    return o?.sent_append === 'failed' ? o : null;
  }, 'the failed copy');
  t.ok(failed.sent_append_error, `the reason is kept: ${failed.sent_append_error}`);

  // a copy a crash left half-made is taken up again at the next start
  await h.app.services.deps.db('outbound_messages').where({ id: failed.id }).update({ sent_append: 'appending' });
  const resumed = await unfinishedSentAppends(h.app.services.deps.db);
  t.same(resumed.map((r) => r.outboundId), [failed.id]);
  t.equal((await h.app.services.deps.db('outbound_messages').where({ id: failed.id }).first()).sent_append, 'pending');

  // no sending server any more: the address is no longer offered
  const stopped = await alice.request('PATCH', `/api/v1/external-accounts/${id}`, { json: { smtp: null } });
  t.equal(stopped.status, 200);
  t.equal(stopped.body.account.smtp, null);
  t.same((await alice.get('/api/v1/me')).body.user.send_as, []);
});
