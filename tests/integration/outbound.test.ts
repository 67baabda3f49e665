/**
 * Sending end to end, inside one appliance (createApp on loopback) with real peers: Postfix's
 * smtp-sink as the remote MX (accepting, 4xx, 5xx) and a Node smtp-server with STARTTLS. The zone
 * resolver points remote.test at them; backoff, delay notices and expiry run on the fake clock.
 */
import t, { type Test } from 'tap';
import { authenticate } from 'mailauth';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { startApi, ALICE, BOB, type ApiHarness } from '../helpers/api-app.js';
import { startSink, waitFor, type Sink } from '../helpers/smtp-sink.js';
import { testTlsMaterial } from '../helpers/inbound-harness.js';
import { zoneResolver, type Zones } from '../helpers/dns.js';
import { sendingRecords } from '../../server/delivery/dns-records.js';
import type { OutgoingMessage } from '../../server/delivery/types.js';

const T = { timeout: 60_000 };
const HOUR = 3_600_000;

const remoteZones = (): Zones => ({
  'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] },
  'mx.remote.test': { A: ['127.0.0.1'] },
});

function message(to: string[], subject = 'Hello from the box'): Buffer {
  return Buffer.from(
    [`From: Alice <${ALICE.address}>`, `To: ${to.join(', ')}`, `Subject: ${subject}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', 'Bonjour, ceci part de la boîte.', ''].join('\r\n'),
  );
}

function outgoing(h: ApiHarness, to: string[], subject?: string): OutgoingMessage {
  return { userId: h.users.alice, raw: message(to, subject), envelope: { mailFrom: ALICE.address, rcptTo: to }, source: 'api' };
}

async function boxWithSink(t: Test, flags: string[] = [], config: Record<string, unknown> = {}): Promise<{ h: ApiHarness; sink: Sink }> {
  const sink = await startSink(t, flags);
  const h = await startApi(t, { zones: remoteZones(), config: { delivery: { mxPort: sink.port }, ...config } });
  return { h, sink };
}

const queueRows = (h: ApiHarness) => h.app.services.deps.db('outbound_queue').orderBy('id');
const recipients = (h: ApiHarness) => h.app.services.deps.db('outbound_recipients').orderBy('id');

async function settle(h: ApiHarness, what: (rows: Array<{ status: string; attempts: number }>) => boolean, label: string): Promise<void> {
  await waitFor(async () => what(await queueRows(h)), 15_000, label);
  await h.app.services.ingestor.drain().catch(() => undefined);
}

t.test('a message to a remote MX and a local user: signed, delivered, Sent copy re-scored, local copy in the INBOX', T, async (t) => {
  const { h, sink } = await boxWithSink(t);
  const out = await h.app.services.sender.submit(outgoing(h, ['bob@remote.test', BOB.address]));
  t.same(out.queued, ['bob@remote.test']);
  t.same(out.local, [BOB.address]);
  await waitFor(async () => (await queueRows(h)).every((r) => r.status === 'delivered'), 15_000, 'both rows delivered');

  // what the remote MX got: the envelope, both DKIM signatures, no client IP or user agent
  const [dump] = sink.dumps();
  t.match(dump, { helo: 'mx.example.test', mailFrom: `<${ALICE.address}>`, rcpt: ['<bob@remote.test>'] });
  const body = dump!.text.slice(dump!.text.indexOf('DKIM-Signature'));
  t.equal(body.match(/^DKIM-Signature:/gm)?.length, 2, 'ed25519 and RSA signatures');
  t.notMatch(body, /X-Mailer|User-Agent|X-Originating-IP/);

  // it passes DKIM, SPF and DMARC against the records `caliopen doctor` tells the admin to publish
  const records = await sendingRecords(h.app.services.deps, 'example.test');
  const zones: Zones = { 'mx.example.test': { A: ['127.0.0.1'] } };
  for (const r of records.records) {
    if (r.type !== 'TXT' && r.type !== 'MX') continue;
    const name = r.name.replace(/\.$/, '');
    zones[name] ??= {};
    zones[name]![r.type] = r.type === 'MX' ? [{ exchange: 'mx.example.test', priority: 10 }] : [r.strings];
  }
  const verdict = await authenticate(Buffer.from(body), { ip: '127.0.0.1', helo: 'mx.example.test', sender: ALICE.address, mta: 'mx.remote.test', resolver: zoneResolver(zones) as never });
  t.equal(verdict.spf && verdict.spf.status.result, 'pass', 'SPF');
  t.same(verdict.dkim.results.map((r: { status: { result: string } }) => r.status.result), ['pass', 'pass'], 'DKIM');
  t.equal(verdict.dmarc && verdict.dmarc.status.result, 'pass', 'DMARC');

  // the Sent copy: tag SENT, its travel now the one we used (plain text to smtp-sink)
  const { db } = h.app.services.deps;
  const sent = await db('messages').where({ id: out.messageId }).first();
  t.equal(sent.source, 'sent');
  t.match(JSON.parse(sent.transport_json), { tls: null, clientHostname: 'mx.remote.test' });
  const travel = JSON.parse(sent.signals_json).privacy.map((s: { id: string }) => s.id);
  t.ok(travel.includes('NO_TLS') && !travel.includes('NOT_YET_DELIVERED'), travel.join(','));
  const tags = await db('message_tags').join('tags', 'tags.id', 'message_tags.tag_id').where({ message_id: out.messageId }).pluck('name');
  t.ok(tags.includes('SENT'));

  // bob, on the same box, got it through ingest: INBOX, travelled locally, sender verified
  const local = await db('messages').where({ user_id: h.users.bob }).first();
  t.equal(local.source, 'local');
  const reasons = JSON.parse(local.signals_json).privacy.map((s: { id: string }) => s.id);
  t.ok(reasons.includes('LOCAL_DELIVERY') && reasons.includes('LOCAL_SENDER'), reasons.join(','));
  const bobTags = await db('message_tags').join('tags', 'tags.id', 'message_tags.tag_id').where({ message_id: local.id }).pluck('name');
  t.same(bobTags, ['INBOX']);
});

t.test('delivery over STARTTLS raises the Sent copy PI with the TLS version used', T, async (t) => {
  const tls = await testTlsMaterial(t);
  const received: string[] = [];
  const peer = new SMTPServer({
    key: tls.key, cert: tls.cert, authOptional: true, disableReverseLookup: true, logger: false,
    onData(stream, _s, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => (received.push(Buffer.concat(chunks).toString()), cb()));
    },
  });
  await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => peer.close(() => r())));
  const h = await startApi(t, { zones: remoteZones(), config: { delivery: { mxPort: (peer.server.address() as AddressInfo).port } } });
  const out = await h.app.services.sender.submit(outgoing(h, ['carol@remote.test']));
  const before = await h.app.services.deps.db('messages').where({ id: out.messageId }).first();
  t.ok(JSON.parse(before.signals_json).privacy.some((s: { id: string }) => s.id === 'NOT_YET_DELIVERED'), 'before delivery: not known yet');
  await settle(h, (rows) => rows[0]?.status === 'delivered', 'delivered');
  t.equal(received.length, 1);
  const after = await h.app.services.deps.db('messages').where({ id: out.messageId }).first();
  t.match(JSON.parse(after.transport_json).tls, { protocol: 'TLSv1.3' });
  t.ok(after.pi_score > before.pi_score, `PI ${before.pi_score} → ${after.pi_score}`);
  const history = await h.app.services.deps.db('pi_reports').where({ object_type: 'message', object_id: out.messageId }).count({ n: '*' }).first();
  t.equal(Number(history!.n), 2, 'the PI history keeps both');
});

t.test('a hard refusal (5xx) fails at once and a DSN lands in the sender’s discussion, in her language', T, async (t) => {
  const { h } = await boxWithSink(t, ['-f', 'rcpt']);
  await h.app.services.deps.db('users').where({ id: h.users.alice }).update({ lang: 'fr' });
  const out = await h.app.services.sender.submit(outgoing(h, ['nobody@remote.test']));
  await settle(h, (rows) => rows[0]?.status === 'failed', 'failed');
  const { db } = h.app.services.deps;
  await waitFor(async () => (await db('messages').where({ discussion_id: out.discussionId }).count({ n: '*' }).first())!.n === 2, 5000, 'DSN stored');
  const dsn = await db('messages').where({ discussion_id: out.discussionId }).whereNot({ id: out.messageId }).first();
  t.match(dsn.subject, /non remis/i);
  t.equal(dsn.is_spam, 0);
  const raw = (await h.app.services.deps.blobs.get(dsn.blob_hash)).toString();
  t.match(raw, /multipart\/report; report-type=delivery-status/i);
  t.match(raw, /Final-Recipient: rfc822;\s*nobody@remote\.test/i);
  t.match(raw, /Action: failed/);
  t.notMatch(raw, /ceci part de la bo/, 'the DSN carries headers, never the body');
  t.match(await recipients(h), [{ address: 'nobody@remote.test', status: 'failed', code: /^5\d\d/ }]);
});

t.test('a temporary refusal retries with growing delays, tells the sender after 4 h, and bounces at expiry', T, async (t) => {
  const { h } = await boxWithSink(t, ['-r', 'rcpt']);
  const { db } = h.app.services.deps;
  const { delivery } = h.app.services;
  const start = h.clock.now().getTime();
  const out = await h.app.services.sender.submit(outgoing(h, ['later@remote.test']));
  await settle(h, (rows) => rows[0]?.status === 'queued' && rows[0]?.attempts === 1, 'first attempt');
  let [row] = await queueRows(h);
  t.equal(row.next_attempt_at, start + 5 * 60_000, 'second try in 5 minutes');
  t.match(row.last_error, /^4\d\d/);

  h.clock.advance(5 * 60_000);
  await delivery.runOnce();
  [row] = await queueRows(h);
  t.equal(row.attempts, 2);
  t.equal(row.next_attempt_at, start + 5 * 60_000 + 15 * 60_000, 'then 15 minutes');
  t.equal(await db('messages').where({ discussion_id: out.discussionId }).count({ n: '*' }).first().then((r) => Number(r!.n)), 1, 'no notice yet');

  h.clock.set(row.next_attempt_at + 4 * HOUR);
  await delivery.runOnce();
  await waitFor(async () => Number((await db('messages').where({ discussion_id: out.discussionId }).count({ n: '*' }).first())!.n) === 2, 5000, 'delay notice');
  const notice = await db('messages').where({ discussion_id: out.discussionId }).whereNot({ id: out.messageId }).first();
  t.match(notice.subject, /delayed/i);
  t.match((await h.app.services.deps.blobs.get(notice.blob_hash)).toString(), /Action: delayed/);
  [row] = await queueRows(h);
  t.equal(row.delay_notified, 1, 'told once');

  h.clock.set(row.expires_at);
  await delivery.runOnce();
  [row] = await queueRows(h);
  t.equal(row.status, 'failed', 'given up after 5 days');
  await waitFor(async () => Number((await db('messages').where({ discussion_id: out.discussionId }).count({ n: '*' }).first())!.n) === 3, 5000, 'final DSN');
  const final = await db('messages').where({ discussion_id: out.discussionId }).orderBy('id', 'desc').first();
  t.match(final.subject, /undelivered/i);
  t.match((await h.app.services.deps.blobs.get(final.blob_hash)).toString(), /Action: failed/);
});

t.test('a user cannot send more than the hourly limit, nor as someone else, nor to nobody', T, async (t) => {
  const { h } = await boxWithSink(t, [], {});
  h.app.services.deps.config.delivery.rateLimitPerHour = 2;
  await h.app.services.sender.submit(outgoing(h, ['a@remote.test']));
  await h.app.services.sender.submit(outgoing(h, ['b@remote.test']));
  await t.rejects(h.app.services.sender.submit(outgoing(h, ['c@remote.test'])), { code: 'rate_limited' });
  h.clock.advance(HOUR + 1);
  await h.app.services.sender.submit(outgoing(h, ['c@remote.test']));
  await t.rejects(h.app.services.sender.submit({ ...outgoing(h, ['d@remote.test']), envelope: { mailFrom: BOB.address, rcptTo: ['d@remote.test'] } }), { code: 'sender_not_allowed' });
  await t.rejects(h.app.services.sender.submit(outgoing(h, [])), { code: 'no_recipients' });
  await t.rejects(h.app.services.sender.submit(outgoing(h, ['bob@'])), { code: 'invalid_recipient' });
  await t.rejects(h.app.services.sender.submit(outgoing(h, ['ghost@example.test'])), { code: 'invalid_recipient', message: /no mailbox/ });
});
