/**
 * A bounce arriving for a message the user sent: filed in that message's discussion, never SPAM,
 * and the recipients it names marked bounced in the outbound queue. Messages go through the real
 * ingest pipeline, as the MX hands them over (source smtp, null reverse-path).
 */
import t from 'tap';
import { testDeps } from '../helpers/deps.js';
import { runSetup } from '../../server/setup/first-run.js';
import { createIngestor } from '../../server/mail/ingest.js';
import { linkBounce } from '../../server/delivery/bounce-link.js';
import { parseBounce } from '../../server/delivery/bounce-parse.js';
import { parseMessage } from '../../server/mail/parse.js';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n') + '\r\n');

const sent = (messageId: string) => crlf([
  'From: Alice <alice@example.test>',
  'To: Bob <bob@remote.test>, Carol <carol@remote.test>',
  'Subject: Minutes of the meeting',
  'Date: Sun, 01 Mar 2026 09:00:00 +0000',
  `Message-ID: <${messageId}>`,
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Here are the minutes.',
]);

/** A Postfix report from the recipients' MX, as it would reach us. */
const postfixReport = (messageId: string, action: 'failed' | 'delayed', status: string, diagnostic: string) => crlf([
  'Return-Path: <>',
  'Received: from mx.remote.test (mx.remote.test [192.0.2.25]) by mx.example.test with ESMTPS; Sun, 01 Mar 2026 09:10:00 +0000',
  'From: MAILER-DAEMON@mx.remote.test (Mail Delivery System)',
  'To: alice@example.test',
  `Subject: ${action === 'failed' ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)'}`,
  'Date: Sun, 01 Mar 2026 09:10:00 +0000',
  `Message-ID: <report-${Math.random().toString(36).slice(2)}@mx.remote.test>`,
  'Auto-Submitted: auto-replied',
  'MIME-Version: 1.0',
  'Content-Type: multipart/report; report-type=delivery-status; boundary="R"',
  '',
  '--R',
  'Content-Type: text/plain',
  '',
  'This is the mail system at host mx.remote.test.',
  '',
  `<bob@remote.test>: ${diagnostic}`,
  '',
  '--R',
  'Content-Type: message/delivery-status',
  '',
  'Reporting-MTA: dns; mx.remote.test',
  '',
  'Final-Recipient: rfc822; bob@remote.test',
  `Action: ${action}`,
  `Status: ${status}`,
  `Diagnostic-Code: smtp; ${diagnostic}`,
  '',
  '--R',
  'Content-Type: text/rfc822-headers',
  '',
  'From: Alice <alice@example.test>',
  'To: Bob <bob@remote.test>, Carol <carol@remote.test>',
  'Subject: Minutes of the meeting',
  `Message-ID: <${messageId}>`,
  '',
  '--R--',
]);

async function setup() {
  const deps = await testDeps();
  const alice = await runSetup(deps.db, deps.clock, { domain: 'example.test', admin: 'alice', password: 'correct horse battery' });
  const ingestor = createIngestor(deps);
  return { deps, alice, ingestor };
}

/** What the send path leaves behind: the Sent copy, and the outbound rows after delivery to remote.test. */
async function sendAndDeliver(s: Awaited<ReturnType<typeof setup>>, messageId: string) {
  const { deps, alice, ingestor } = s;
  const raw = sent(messageId);
  const [copy] = await ingestor.ingest({ source: 'sent', raw, userIds: [alice.id], envelope: { mailFrom: 'alice@example.test', rcptTo: ['bob@remote.test', 'carol@remote.test'] } });
  const now = deps.clock.now().getTime();
  const { blob_hash } = await deps.db('messages').where({ id: copy!.messageId }).first('blob_hash');
  const [outboundId] = await deps.db('outbound_messages').insert({ user_id: alice.id, message_id: copy!.messageId, blob_hash, header_message_id: messageId, mail_from: 'alice@example.test', source: 'api', created_at: now });
  const [queueId] = await deps.db('outbound_queue').insert({ outbound_id: outboundId, domain: 'remote.test', status: 'delivered', attempts: 1, next_attempt_at: now, expires_at: now + 5 * 86_400_000, last_attempt_at: now, created_at: now });
  await deps.db('outbound_recipients').insert(['bob@remote.test', 'carol@remote.test'].map((address) => ({ queue_id: queueId, address, status: 'delivered', code: '250 2.0.0', response: '250 2.0.0 Ok: queued', updated_at: now })));
  return { copy: copy!, outboundId: outboundId as number };
}

const recipients = async (db: import('knex').Knex) =>
  (await db('outbound_recipients').orderBy('address').select('address', 'status', 'code', 'response')) as Array<{ address: string; status: string; code: string | null; response: string | null }>;
const tagsOf = async (db: import('knex').Knex, messageId: number) =>
  (await db('message_tags').join('tags', 'tags.id', 'message_tags.tag_id').where({ message_id: messageId }).select('name')).map((r: { name: string }) => r.name).sort();

t.test('a bounce joins the discussion of the message it bounces, marks the recipient bounced, and is not spam', async (t) => {
  const s = await setup();
  t.teardown(() => s.deps.close());
  const { copy } = await sendAndDeliver(s, 'minutes-1@example.test');
  s.deps.clock.advance(10 * 60_000);
  const report = postfixReport('minutes-1@example.test', 'failed', '5.1.1', '550 5.1.1 <bob@remote.test>: Recipient address rejected: User unknown in virtual mailbox table');
  const [o] = await s.ingestor.ingest({
    source: 'smtp', raw: report, userIds: [s.alice.id],
    envelope: { mailFrom: '', rcptTo: ['alice@example.test'] }, transport: { tls: null, clientIp: '192.0.2.25', helo: 'mx.remote.test' },
  });
  t.equal(o!.discussionId, copy.discussionId, 'same discussion as the Sent copy');
  t.equal(o!.isSpam, false);
  const row = await s.deps.db('messages').where({ id: o!.messageId }).first('is_spam', 'discussion_id');
  t.equal(row.is_spam, 0);
  t.same(await tagsOf(s.deps.db, o!.messageId), ['INBOX'], 'INBOX, not SPAM');
  const d = await s.deps.db('discussions').where({ id: copy.discussionId }).first('message_count');
  t.equal(d.message_count, 2);
  t.match(await recipients(s.deps.db), [
    { address: 'bob@remote.test', status: 'bounced', code: '550 5.1.1', response: /User unknown/ },
    { address: 'carol@remote.test', status: 'delivered', code: '250 2.0.0' },
  ]);

  // The same report delivered twice is a duplicate: nothing changes a second time.
  const [again] = await s.ingestor.ingest({ source: 'smtp', raw: report, userIds: [s.alice.id] });
  t.equal(again!.duplicate, true);
});

t.test('a delay report joins the discussion but changes no recipient', async (t) => {
  const s = await setup();
  t.teardown(() => s.deps.close());
  const { copy } = await sendAndDeliver(s, 'minutes-2@example.test');
  const [o] = await s.ingestor.ingest({ source: 'smtp', raw: postfixReport('minutes-2@example.test', 'delayed', '4.2.2', '452 4.2.2 Mailbox full, try later'), userIds: [s.alice.id] });
  t.equal(o!.discussionId, copy.discussionId);
  t.equal(o!.isSpam, false);
  t.same((await recipients(s.deps.db)).map((r) => r.status), ['delivered', 'delivered']);
});

t.test('a bounce about a message the user never sent is filed like any other mail', async (t) => {
  const s = await setup();
  t.teardown(() => s.deps.close());
  const { copy } = await sendAndDeliver(s, 'minutes-3@example.test');
  const [o] = await s.ingestor.ingest({ source: 'smtp', raw: postfixReport('forged-9@elsewhere.test', 'failed', '5.1.1', '550 5.1.1 User unknown'), userIds: [s.alice.id] });
  t.not(o!.discussionId, copy.discussionId, 'backscatter is not threaded into the user\'s discussions');
  t.same((await recipients(s.deps.db)).map((r) => r.status), ['delivered', 'delivered']);
});

t.test('linkBounce on its own: finds by the Sent copy when there is no outbound row', async (t) => {
  const s = await setup();
  t.teardown(() => s.deps.close());
  const raw = sent('imported-4@example.test');
  const [copy] = await s.ingestor.ingest({ source: 'sent', raw, userIds: [s.alice.id] });
  const dsn = postfixReport('imported-4@example.test', 'failed', '5.1.1', '550 5.1.1 User unknown');
  const report = parseBounce(await parseMessage(dsn), dsn);
  t.ok(report);
  t.same(await linkBounce(s.deps, s.alice.id, report!), { discussionId: copy!.discussionId });
  t.equal(await linkBounce(s.deps, s.alice.id, { ...report!, originalMessageId: 'nobody@nowhere.test' }), null);
  t.equal(await linkBounce(s.deps, s.alice.id + 1, report!), null, 'another user\'s message is not found');
});
