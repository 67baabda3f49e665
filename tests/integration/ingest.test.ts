import t from 'tap';
import { testDeps, makeMessage } from '../helpers/deps.js';
import { runSetup } from '../../server/setup/first-run.js';
import { addUser } from '../../server/accounts/users.js';
import { createIngestor } from '../../server/mail/ingest.js';

async function setup() {
  const deps = await testDeps();
  const alice = await runSetup(deps.db, deps.clock, { domain: 'example.test', admin: 'alice', password: 'correct horse battery' });
  const bob = await addUser(deps.db, deps.clock, { username: 'bob', domain: 'example.test', password: 'another long password' });
  const ingestor = createIngestor(deps);
  return { deps, alice, bob, ingestor };
}

const tagsOf = async (db: import('knex').Knex, messageId: number) =>
  (await db('message_tags').join('tags', 'tags.id', 'message_tags.tag_id').where({ message_id: messageId }).select('name')).map((r: { name: string }) => r.name).sort();

t.test('a message is stored once, in a discussion, tagged INBOX, with a PI report', async (t) => {
  const { deps, alice, ingestor } = await setup();
  t.teardown(() => deps.close());
  const raw = makeMessage({ subject: 'First contact', body: 'Hello Alice' });
  const [o] = await ingestor.ingest({ source: 'smtp', raw, userIds: [alice.id], transport: { tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' }, clientIp: '127.0.0.1', helo: 'mx.remote.test' } });
  t.equal(o!.duplicate, false);
  const m = await deps.db('messages').where({ id: o!.messageId }).first();
  t.equal(m.subject, 'First contact');
  t.equal(m.from_address, 'carol@remote.test');
  t.equal(m.is_read, 0);
  t.match(JSON.parse(m.transport_json), { tls: { protocol: 'TLSv1.3' } });
  t.same(await tagsOf(deps.db, o!.messageId), ['INBOX']);
  const report = await deps.db('pi_reports').where({ object_type: 'message', object_id: o!.messageId }).first();
  t.ok(report, 'PI report stored');
  t.equal(report.score, m.pi_score);
  t.ok(JSON.parse(report.reasons_json).some((r: { signal: string }) => r.signal === 'TLS_1_3'), 'TLS 1.3 is a reason');
  const d = await deps.db('discussions').where({ id: o!.discussionId }).first();
  t.equal(d.message_count, 1);
  t.equal(d.unread_count, 1);
  t.equal(d.subject, 'First contact');
  t.ok(await deps.blobs.get(m.blob_hash), 'raw bytes readable');
});

t.test('the same mail twice is stored once; a second import adds its tags', async (t) => {
  const { deps, alice, ingestor } = await setup();
  t.teardown(() => deps.close());
  const raw = makeMessage({ messageId: 'dup@remote.test' });
  const [a] = await ingestor.ingest({ source: 'smtp', raw, userIds: [alice.id] });
  const traced = Buffer.concat([Buffer.from('Received: from relay.test by mx; Sun, 1 Mar 2026 10:00:00 +0000\r\n'), raw]);
  const [b] = await ingestor.ingest({ source: 'maildir', raw: traced, userIds: [alice.id], tags: ['Archive'] });
  t.equal(b!.duplicate, true);
  t.equal(b!.messageId, a!.messageId);
  t.equal((await deps.db('messages').count({ n: '*' }))[0]!.n, 1);
  t.same(await tagsOf(deps.db, a!.messageId), ['Archive', 'INBOX']);
});

t.test('discussions group by participant set, not by subject', async (t) => {
  const { deps, alice, ingestor } = await setup();
  t.teardown(() => deps.close());
  const ids = async (raw: Buffer) => (await ingestor.ingest({ source: 'smtp', raw, userIds: [alice.id] }))[0]!.discussionId;
  const d1 = await ids(makeMessage({ subject: 'Lunch?' }));
  const d2 = await ids(makeMessage({ subject: 'Another topic entirely' }));
  const d3 = await ids(makeMessage({ subject: 'Lunch?', cc: 'dave@remote.test' }));
  const d4 = await ids(makeMessage({ from: 'Dave <dave@remote.test>', to: 'alice@example.test, carol@remote.test', subject: 'x' }));
  t.equal(d2, d1, 'same people, other subject: same discussion');
  t.not(d3, d1, 'one more participant: another discussion');
  t.equal(d4, d3, 'same set in other roles: same discussion');
  const l1 = await ids(makeMessage({ from: 'x@lists.test', headers: ['List-Id: Friends <friends.lists.test>'] }));
  const l2 = await ids(makeMessage({ from: 'y@elsewhere.test', headers: ['List-Id: <friends.lists.test>'] }));
  t.equal(l2, l1, 'list mail groups by List-ID');
  t.not(l1, d1);
});

t.test('addresses the user writes to become contacts; one contact merges its addresses', async (t) => {
  const { deps, alice, ingestor } = await setup();
  t.teardown(() => deps.close());
  const sent = makeMessage({ from: 'Alice <alice@example.test>', to: 'Carol <carol@remote.test>', subject: 'Hi Carol' });
  const [s] = await ingestor.ingest({ source: 'sent', raw: sent, userIds: [alice.id] });
  const contact = await deps.db('contact_emails').join('contacts', 'contacts.id', 'contact_emails.contact_id').where({ address: 'carol@remote.test' }).first();
  t.ok(contact, 'carol is a contact suggestion');
  t.equal(contact.sent_count, 1);
  t.same(await tagsOf(deps.db, s!.messageId), ['SENT']);
  await deps.db('contact_emails').insert({ contact_id: contact.contact_id, user_id: alice.id, address: 'carol@work.test' });
  const [r1] = await ingestor.ingest({ source: 'smtp', raw: makeMessage({ subject: 'Re: Hi Carol' }), userIds: [alice.id] });
  const [r2] = await ingestor.ingest({ source: 'smtp', raw: makeMessage({ from: 'Carol <carol@work.test>', subject: 'from work' }), userIds: [alice.id] });
  t.equal(r1!.discussionId, s!.discussionId, 'reply lands in the discussion of the sent mail');
  t.equal(r2!.discussionId, s!.discussionId, 'her other address is the same contact');
  const m = await deps.db('messages').where({ id: r1!.messageId }).first();
  const reasons = JSON.parse(m.signals_json).privacy.map((x: { id: string }) => x.id);
  t.ok(reasons.includes('KNOWN_CONTACT'), 'known contact signal once the user wrote to her');
});

t.test('several local recipients each get their own copy', async (t) => {
  const { deps, alice, bob, ingestor } = await setup();
  t.teardown(() => deps.close());
  const out = await ingestor.ingest({ source: 'smtp', raw: makeMessage({ to: 'alice@example.test, bob@example.test' }), userIds: [alice.id, bob.id, alice.id] });
  t.equal(out.length, 2);
  t.same(out.map((o) => o.userId).sort(), [alice.id, bob.id].sort());
  t.equal((await deps.db('messages').count({ n: '*' }))[0]!.n, 2);
  const hashes = await deps.db('messages').distinct('blob_hash');
  t.equal(hashes.length, 1, 'one raw file for both copies');
});

t.test('an unparseable-looking message is still stored', async (t) => {
  const { deps, alice, ingestor } = await setup();
  t.teardown(() => deps.close());
  const raw = Buffer.from('this is not\r\nreally: a message\r\n\r\n--broken--\r\n\u0000\u0001binary');
  const [o] = await ingestor.ingest({ source: 'mbox', raw, userIds: [alice.id] });
  t.ok(o!.messageId > 0);
});

t.test('a reply to someone who wrote first stays in their discussion once they become a contact', async (t) => {
  const { deps, alice, ingestor } = await setup();
  t.teardown(() => deps.close());
  const [first] = await ingestor.ingest({ source: 'smtp', raw: makeMessage({ subject: 'Hello from Erin', from: 'Erin <erin@remote.test>' }), userIds: [alice.id] });
  const [reply] = await ingestor.ingest({ source: 'sent', raw: makeMessage({ from: 'alice@example.test', to: 'Erin <erin@remote.test>', subject: 'Re: Hello from Erin' }), userIds: [alice.id] });
  const [again] = await ingestor.ingest({ source: 'smtp', raw: makeMessage({ subject: 'Re: Re: Hello', from: 'Erin <erin@remote.test>' }), userIds: [alice.id] });
  t.equal(reply!.discussionId, first!.discussionId, 'the reply is in the discussion Erin started');
  t.equal(again!.discussionId, first!.discussionId, 'and so is her answer, now that she is a contact');
  const d = await deps.db('discussions').where({ id: first!.discussionId }).first();
  t.equal(d.message_count, 3);
  t.equal(d.unread_count, 2, 'own message is read; the two from Erin are not');
});

t.test('concurrent copies of one message are stored once', async (t) => {
  const { deps, alice, ingestor } = await setup();
  t.teardown(() => deps.close());
  const raw = makeMessage({ messageId: 'same@remote.test' });
  const outs = await Promise.all(Array.from({ length: 5 }, () => ingestor.ingest({ source: 'smtp', raw, userIds: [alice.id] })));
  t.equal(outs.flat().filter((o) => !o.duplicate).length, 1);
  t.equal(new Set(outs.flat().map((o) => o.messageId)).size, 1);
  t.equal((await deps.db('messages').count({ n: '*' }))[0]!.n, 1);
  t.equal((await deps.db('discussions').first('message_count')).message_count, 1);
});
