/**
 * Drafts in the domain: what a reply takes from its parent (recipients, subject, quote, threading,
 * discussion, identity), autosave, attachments in the blob store, validation, and sending through
 * a Sender (a recording double here: the real one is tested with the delivery code).
 */
import t, { type Test } from 'tap';
import { simpleParser } from 'mailparser';
import { testDeps, makeMessage, type TestDeps } from '../../helpers/deps.js';
import { runSetup } from '../../../server/setup/first-run.js';
import { addAlias, addUser } from '../../../server/accounts/users.js';
import { createIngestor, type Ingestor } from '../../../server/mail/ingest.js';
import {
  addDraftAttachment, createDraft, discardDraft, getDraft, listDrafts, removeDraftAttachment, sendDraft, updateDraft,
} from '../../../server/mail/drafts.js';
import { AppError } from '../../../server/errors.js';
import type { OutgoingMessage, SendOutcome, Sender } from '../../../server/delivery/types.js';

interface World {
  deps: TestDeps;
  ingestor: Ingestor;
  alice: number;
  bob: number;
  /** stores a message for a user through the real ingest path; returns its id */
  receive(raw: Buffer, userId?: number): Promise<number>;
}

async function world(t: Test): Promise<World> {
  const deps = await testDeps();
  const alice = (await runSetup(deps.db, deps.clock, { domain: 'example.test', admin: 'alice', password: 'correct horse battery' })).id;
  const bob = (await addUser(deps.db, deps.clock, { username: 'bob', domain: 'example.test', password: 'another long password' })).id;
  await addAlias(deps.db, deps.clock, alice, 'contact@example.test');
  const ingestor = createIngestor(deps);
  t.teardown(async () => {
    await ingestor.drain();
    await deps.close();
  });
  const receive = async (raw: Buffer, userId = alice) => (await ingestor.ingest({ source: 'mbox', raw, userIds: [userId] }))[0]!.messageId;
  return { deps, ingestor, alice, bob, receive };
}

const LUNCH = {
  from: 'Carol <carol@remote.test>',
  to: 'Alice <alice@example.test>, Dave <dave@remote.test>',
  cc: 'Erin <erin@remote.test>, contact@example.test',
  subject: 'RE: Fwd: Lunch plans',
  body: 'Shall we meet at noon?\r\nAt the bistro.',
  messageId: 'p1@remote.test',
  date: 'Sat, 28 Feb 2026 12:00:00 +0000',
  headers: ['References: <root@remote.test>', 'In-Reply-To: <root@remote.test>'],
};

function codeOf(err: unknown): string | undefined {
  return err instanceof AppError ? err.code : undefined;
}

t.test('a reply takes recipients, subject, quote, threading and discussion from its parent', async (t) => {
  const w = await world(t);
  const parentId = await w.receive(makeMessage(LUNCH));
  const parent = await w.deps.db('messages').where({ id: parentId }).first();
  const d = await createDraft(w.deps, w.alice, { replyTo: parentId });
  t.same(d.to, [{ name: 'Carol', address: 'carol@remote.test' }]);
  t.same(d.cc, []);
  t.equal(d.subject, 'Re: Lunch plans');
  t.equal(d.in_reply_to, 'p1@remote.test');
  t.same(d.references, ['root@remote.test', 'p1@remote.test']);
  t.equal(d.discussion_id, parent.discussion_id);
  t.equal(d.parent_message_id, parentId);
  t.equal(d.from, 'alice@example.test');
  t.equal(d.body, 'On Saturday, 28 February 2026 at 12:00, Carol wrote:\n> Shall we meet at noon?\n> At the bistro.\n\n');
});

t.test('reply-all adds the parent\'s To and Cc, without the user\'s own addresses', async (t) => {
  const w = await world(t);
  const parentId = await w.receive(makeMessage(LUNCH));
  const d = await createDraft(w.deps, w.alice, { replyTo: parentId, replyAll: true });
  t.same(d.to.map((m) => m.address), ['carol@remote.test', 'dave@remote.test']);
  t.same(d.cc.map((m) => m.address), ['erin@remote.test']);
});

t.test('Reply-To wins over From; a reply to one\'s own message goes to its recipients', async (t) => {
  const w = await world(t);
  const listMail = await w.receive(makeMessage({ ...LUNCH, messageId: 'p2@remote.test', headers: ['Reply-To: Lunch list <lunch@lists.remote.test>'] }));
  t.same((await createDraft(w.deps, w.alice, { replyTo: listMail })).to, [{ name: 'Lunch list', address: 'lunch@lists.remote.test' }]);
  const own = await w.receive(makeMessage({ from: 'Alice <alice@example.test>', to: 'Dave <dave@remote.test>', cc: 'erin@remote.test', subject: 'Plan', messageId: 'own@example.test' }));
  t.same((await createDraft(w.deps, w.alice, { replyTo: own })).to.map((m) => m.address), ['dave@remote.test']);
  t.same((await createDraft(w.deps, w.alice, { replyTo: own, replyAll: true })).cc.map((m) => m.address), ['erin@remote.test']);
});

t.test('a reply is sent from the address the parent was written to', async (t) => {
  const w = await world(t);
  const id = await w.receive(makeMessage({ to: 'Contact <contact@example.test>', messageId: 'p3@remote.test' }));
  t.equal((await createDraft(w.deps, w.alice, { replyTo: id })).from, 'contact@example.test');
  t.equal((await createDraft(w.deps, w.alice, { replyTo: id, from: 'alice@example.test' })).from, 'alice@example.test', 'unless the user chose');
});

t.test('the quote is in the user\'s language and time zone; a given body replaces it', async (t) => {
  const w = await world(t);
  await w.deps.db('users').where({ id: w.bob }).update({ lang: 'fr', timezone: 'Europe/Paris' });
  const id = await w.receive(makeMessage({ ...LUNCH, to: 'bob@example.test', cc: undefined, messageId: 'p4@remote.test' }), w.bob);
  const d = await createDraft(w.deps, w.bob, { replyTo: id });
  t.equal(d.body, 'Le samedi 28 février 2026 à 13:00, Carol a écrit :\n> Shall we meet at noon?\n> At the bistro.\n\n');
  t.equal((await createDraft(w.deps, w.bob, { replyTo: id, body: 'Oui !' })).body, 'Oui !');
});

t.test('replying to another user\'s message is replying to nothing', async (t) => {
  const w = await world(t);
  const id = await w.receive(makeMessage(LUNCH), w.bob);
  await t.rejects(createDraft(w.deps, w.alice, { replyTo: id }), { code: 'message_not_found' });
});

t.test('a new draft: From defaults to the primary address and must be the user\'s own', async (t) => {
  const w = await world(t);
  const d = await createDraft(w.deps, w.alice, { to: ['Bob <bob@example.test>', { address: 'ana@jõgeva.ee', name: 'Ana' }], subject: 'Hi' });
  t.equal(d.from, 'alice@example.test');
  t.same(d.to, [{ name: 'Bob', address: 'bob@example.test' }, { name: 'Ana', address: 'ana@jõgeva.ee' }]);
  t.equal(d.discussion_id, null);
  t.equal((await createDraft(w.deps, w.alice, { from: 'Contact@Example.test' })).from, 'contact@example.test');
  await t.rejects(createDraft(w.deps, w.alice, { from: 'bob@example.test' }), { code: 'sender_not_allowed' });
  await t.rejects(createDraft(w.deps, w.alice, { to: ['carol@remote.test', 'bob@'] }), { code: 'invalid_recipient', message: 'not an email address: "bob@"' });
  t.equal((await listDrafts(w.deps, w.alice)).length, 2, 'nothing stored by a refused draft');
});

t.test('autosave changes only the fields given and moves updated_at', async (t) => {
  const w = await world(t);
  const d = await createDraft(w.deps, w.alice, { to: ['carol@remote.test'], subject: 'Draft', body: 'v1' });
  w.deps.clock.advance(5_000);
  const u = await updateDraft(w.deps, w.alice, d.id, { body: 'v2' });
  t.equal(u.body, 'v2');
  t.equal(u.subject, 'Draft');
  t.same(u.to, d.to);
  t.equal(u.updated_at, d.updated_at + 5_000);
  t.equal(u.created_at, d.created_at);
  await t.rejects(updateDraft(w.deps, w.alice, d.id, { cc: ['not an address'] }), { code: 'invalid_recipient' });
  await t.rejects(updateDraft(w.deps, w.alice, d.id, { from: 'bob@example.test' }), { code: 'sender_not_allowed' });
  t.same((await getDraft(w.deps, w.alice, d.id)).cc, [], 'a refused change changes nothing');
  await t.rejects(updateDraft(w.deps, w.bob, d.id, { body: 'x' }), { code: 'draft_not_found' });
  await t.rejects(getDraft(w.deps, w.bob, d.id), { code: 'draft_not_found' });
});

t.test('the list: newest first, with an excerpt and the attachment count, only the user\'s own', async (t) => {
  const w = await world(t);
  const a = await createDraft(w.deps, w.alice, { subject: 'A', body: 'first\n\nbody' });
  w.deps.clock.advance(1000);
  const b = await createDraft(w.deps, w.alice, { subject: 'B' });
  await createDraft(w.deps, w.bob, { subject: 'Bob\'s' });
  w.deps.clock.advance(1000);
  await addDraftAttachment(w.deps, w.alice, a.id, { filename: 'a.txt', contentType: 'text/plain', content: Buffer.from('a') });
  const list = await listDrafts(w.deps, w.alice);
  t.same(list.map((d) => d.id), [a.id, b.id], 'an attachment counts as an edit');
  t.equal(list[0]!.attachment_count, 1);
  t.equal(list[0]!.excerpt, 'first body');
  t.equal(list[1]!.attachment_count, 0);
});

t.test('attachments: bytes in the blob store, shared blobs kept until the last user goes', async (t) => {
  const w = await world(t);
  const d1 = await createDraft(w.deps, w.alice, {});
  const d2 = await createDraft(w.deps, w.alice, {});
  const content = Buffer.from('%PDF-1.4 same bytes');
  const a1 = await addDraftAttachment(w.deps, w.alice, d1.id, { filename: '../../etc/ré sumé.pdf', contentType: 'application/pdf', content });
  t.same(a1, { id: a1.id, filename: 'ré sumé.pdf', content_type: 'application/pdf', size: content.length });
  const a2 = await addDraftAttachment(w.deps, w.alice, d2.id, { filename: 'copy.pdf', contentType: 'not a type', content });
  t.equal(a2.content_type, 'application/octet-stream');
  const row = await w.deps.db('draft_attachments').where({ id: a1.id }).first();
  t.ok((await w.deps.blobs.get(row.blob_hash)).equals(content));
  t.same((await getDraft(w.deps, w.alice, d1.id)).attachments, [a1]);
  await removeDraftAttachment(w.deps, w.alice, d1.id, a1.id);
  t.ok(await w.deps.blobs.get(row.blob_hash), 'still used by the other draft');
  await t.rejects(removeDraftAttachment(w.deps, w.alice, d1.id, a2.id), { code: 'attachment_not_found' }, 'an attachment of another draft');
  await t.rejects(addDraftAttachment(w.deps, w.bob, d2.id, { filename: 'x', contentType: 'text/plain', content }), { code: 'draft_not_found' });
  await discardDraft(w.deps, w.alice, d2.id);
  await t.rejects(w.deps.blobs.get(row.blob_hash), { code: 'ENOENT' }, 'the last user gone, the file goes');
  await t.rejects(getDraft(w.deps, w.alice, d2.id), { code: 'draft_not_found' });
  await t.rejects(discardDraft(w.deps, w.alice, d2.id), { code: 'draft_not_found' });
});

t.test('attachments may total at most the message size limit', async (t) => {
  const w = await world(t);
  (w.deps.config.smtp as { maxMessageSize: number }).maxMessageSize = 1000;
  const d = await createDraft(w.deps, w.alice, {});
  await addDraftAttachment(w.deps, w.alice, d.id, { filename: 'a', contentType: 'text/plain', content: Buffer.alloc(600, 'a') });
  await t.rejects(addDraftAttachment(w.deps, w.alice, d.id, { filename: 'b', contentType: 'text/plain', content: Buffer.alloc(600, 'b') }), { code: 'message_too_big' });
  await t.rejects(addDraftAttachment(w.deps, w.alice, d.id, { filename: 'c', contentType: 'text/plain', content: Buffer.alloc(1001, 'c') }), { code: 'message_too_big' });
  t.equal((await getDraft(w.deps, w.alice, d.id)).attachments.length, 1);
});

/** Records what it is given; answers like the real Sender would for remote recipients. */
function recordingSender(fail?: AppError): Sender & { calls: OutgoingMessage[] } {
  const calls: OutgoingMessage[] = [];
  return {
    calls,
    async submit(msg): Promise<SendOutcome> {
      calls.push(msg);
      await new Promise((r) => setTimeout(r, 20));
      if (fail) throw fail;
      return { outboundId: 1, messageId: 99, discussionId: msg.discussionId ?? 7, headerMessageId: 'x@example.test', local: [], queued: msg.envelope.rcptTo };
    },
  };
}

t.test('sending composes the draft, hands it to the Sender, then deletes it', async (t) => {
  const w = await world(t);
  const parentId = await w.receive(makeMessage(LUNCH));
  const parent = await w.deps.db('messages').where({ id: parentId }).first();
  const d = await createDraft(w.deps, w.alice, { replyTo: parentId, replyAll: true, bcc: ['sam@hidden.test'] });
  await updateDraft(w.deps, w.alice, d.id, { body: 'Noon is fine.\n\n' + d.body });
  await addDraftAttachment(w.deps, w.alice, d.id, { filename: 'map.png', contentType: 'image/png', content: Buffer.from([0x89, 0x50, 0x4e, 0x47]) });
  const sender = recordingSender();
  const out = await sendDraft(w.deps, sender, w.alice, d.id);
  t.same(out, { messageId: 99, discussionId: parent.discussion_id, headerMessageId: 'x@example.test', queued: ['carol@remote.test', 'dave@remote.test', 'erin@remote.test', 'sam@hidden.test'], local: [] });
  const [msg] = sender.calls;
  t.match(msg, { userId: w.alice, source: 'api', discussionId: parent.discussion_id, envelope: { mailFrom: 'alice@example.test' } });
  const parsed = await simpleParser(msg!.raw);
  t.equal(parsed.subject, 'Re: Lunch plans');
  t.equal(parsed.inReplyTo, '<p1@remote.test>');
  t.match(parsed.text, /^Noon is fine\.\n\nOn Saturday/);
  t.equal(parsed.attachments[0]?.filename, 'map.png');
  t.notOk(parsed.headers.has('bcc'));
  t.match(parsed.messageId, /@example\.test>$/);
  await t.rejects(getDraft(w.deps, w.alice, d.id), { code: 'draft_not_found' }, 'the draft is gone');
  t.equal(await w.deps.db('draft_attachments').count({ n: '*' }).first().then((r) => Number(r?.n)), 0);
});

t.test('a draft that cannot be sent stays', async (t) => {
  const w = await world(t);
  const empty = await createDraft(w.deps, w.alice, { subject: 'to nobody' });
  const sender = recordingSender();
  await t.rejects(sendDraft(w.deps, sender, w.alice, empty.id), { code: 'no_recipients' });
  t.equal(sender.calls.length, 0);
  const limited = await createDraft(w.deps, w.alice, { to: ['carol@remote.test'] });
  await t.rejects(sendDraft(w.deps, recordingSender(new AppError('rate_limited', 'slow down')), w.alice, limited.id), { code: 'rate_limited' });
  t.ok(await getDraft(w.deps, w.alice, limited.id), 'kept after a refusal');
  await w.deps.db('addresses').where({ address: 'contact@example.test' }).delete();
  const gone = await createDraft(w.deps, w.alice, { to: ['carol@remote.test'] });
  await w.deps.db('drafts').where({ id: gone.id }).update({ from_address: 'contact@example.test' });
  await t.rejects(sendDraft(w.deps, sender, w.alice, gone.id), { code: 'sender_not_allowed' }, 'an identity removed since');
  await t.rejects(sendDraft(w.deps, sender, w.bob, limited.id), { code: 'draft_not_found' });
});

t.test('two sends of one draft send once', async (t) => {
  const w = await world(t);
  const d = await createDraft(w.deps, w.alice, { to: ['carol@remote.test'] });
  const sender = recordingSender();
  const results = await Promise.allSettled([sendDraft(w.deps, sender, w.alice, d.id), sendDraft(w.deps, sender, w.alice, d.id)]);
  t.same(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  t.equal(codeOf(results.find((r) => r.status === 'rejected')?.reason), 'draft_not_found');
  t.equal(sender.calls.length, 1);
});
