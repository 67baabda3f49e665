/**
 * Writing and sending mail over HTTP, end to end: drafts created, autosaved, listed, given
 * attachments (raw uploads), discarded; bad addresses and foreign identities refused with stable
 * codes; a reply sent through the real Sender lands as a SENT copy in its discussion and in the
 * INBOX of a local recipient. Remote recipients stay queued: remote.test has no address here.
 */
import t, { type Test } from 'tap';
import { makeMessage } from '../helpers/deps.js';
import { ALICE, BOB, aliceAndBob, type ApiHarness } from '../helpers/api-app.js';
import type { ApiClient } from '../helpers/api-client.js';

interface World {
  h: ApiHarness;
  alice: ApiClient;
  bob: ApiClient;
}

const world = (t: Test): Promise<World> => aliceAndBob(t);

const D = '/api/v1/drafts';

function upload(c: ApiClient, draftId: number, content: Buffer | string, opts: { filename?: string; header?: string; type?: string; csrf?: boolean } = {}) {
  const q = opts.filename === undefined ? '' : `?filename=${encodeURIComponent(opts.filename)}`;
  return c.request('POST', `${D}/${draftId}/attachments${q}`, {
    body: content, contentType: opts.type ?? 'application/octet-stream', csrf: opts.csrf,
    headers: opts.header ? { 'x-filename': opts.header } : {},
  });
}

/** Polls until check() returns a value: local delivery happens in the delivery worker, just after send. */
async function eventually<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test('create, autosave, list, attach, discard', async (t) => {
  const { h, alice, bob } = await world(t);
  const created = await alice.post(D, { to: ['Carol <carol@remote.test>'], subject: 'Picnic', body: 'Saturday?' });
  t.equal(created.status, 201);
  t.match(created.body, { from: ALICE.address, to: [{ name: 'Carol', address: 'carol@remote.test' }], cc: [], bcc: [], subject: 'Picnic', body: 'Saturday?', attachments: [], discussion_id: null });
  const id = created.body.id as number;

  h.clock.advance(10_000);
  const saved = await alice.request('PATCH', `${D}/${id}`, { json: { body: 'Saturday at noon?', cc: ['dave@remote.test'] } });
  t.equal(saved.status, 200);
  t.match(saved.body, { subject: 'Picnic', body: 'Saturday at noon?', cc: [{ name: null, address: 'dave@remote.test' }] });
  t.equal(saved.body.updated_at, created.body.updated_at + 10_000);

  const older = (await alice.post(D, { subject: 'Older' })).body.id;
  h.clock.advance(1000);
  await alice.request('PATCH', `${D}/${id}`, { json: { subject: 'Picnic!' } });
  const list = await alice.get(D);
  t.equal(list.status, 200);
  t.same(list.body.items.map((d: { id: number }) => d.id), [id, older], 'the last edited first');

  const pdf = Buffer.from('%PDF-1.4\n%\xe2\xe3\n%%EOF\n', 'latin1');
  const a1 = await upload(alice, id, pdf, { header: encodeURIComponent('plan du parc é.pdf'), type: 'application/pdf' });
  t.equal(a1.status, 201);
  t.same(a1.body, { id: a1.body.id, filename: 'plan du parc é.pdf', content_type: 'application/pdf', size: pdf.length });
  const a2 = await upload(alice, id, '{"not":"parsed"}', { filename: 'data.json', type: 'application/json' });
  t.equal(a2.status, 201, 'a JSON file is a file, not a request body');
  t.equal(a2.body.size, 16);
  t.equal((await alice.get(D)).body.items[0].attachment_count, 2);

  const noName = await upload(alice, id, 'x');
  t.equal(noName.status, 400);
  t.equal(noName.body.error.code, 'validation_failed');
  t.equal((await upload(alice, id, 'x', { filename: 'x.txt', csrf: false })).body.error.code, 'csrf_failed');
  const limits = h.app.services.deps.config.smtp as { maxMessageSize: number };
  const saved_limit = limits.maxMessageSize;
  limits.maxMessageSize = 1024;
  const big = await upload(alice, id, Buffer.alloc(2048, 1), { filename: 'big.bin' });
  limits.maxMessageSize = saved_limit;
  t.equal(big.status, 413);
  t.equal(big.body.error.code, 'message_too_big');
  t.equal((await upload(bob, id, 'x', { filename: 'x.txt' })).status, 404, 'not on someone else\'s draft');

  const back = await alice.get(`${D}/${id}/attachments/${a1.body.id}`);
  t.equal(back.status, 200);
  t.same(back.raw, pdf, 'a draft attachment reads back as uploaded (the composer seals it)');
  t.match(back.headers.get('content-disposition'), /^attachment;/);
  t.equal((await bob.get(`${D}/${id}/attachments/${a1.body.id}`)).status, 404, "not someone else's");
  t.equal((await alice.request('DELETE', `${D}/${id}/attachments/${a2.body.id}`)).status, 204);
  t.same((await alice.get(`${D}/${id}`)).body.attachments.map((a: { id: number }) => a.id), [a1.body.id]);
  t.equal((await alice.request('DELETE', `${D}/${id}/attachments/${a2.body.id}`)).body.error.code, 'attachment_not_found');

  t.equal((await bob.get(`${D}/${id}`)).status, 404, 'another user\'s draft looks missing');
  t.same((await bob.get(D)).body.items, []);
  t.equal((await bob.request('DELETE', `${D}/${id}`)).status, 404);

  t.equal((await alice.request('DELETE', `${D}/${id}`)).status, 204);
  const gone = await alice.get(`${D}/${id}`);
  t.equal(gone.status, 404);
  t.equal(gone.body.error.code, 'draft_not_found');
});

t.test('bad input is refused with stable codes', async (t) => {
  const { alice } = await world(t);
  const bad = await alice.post(D, { to: ['carol@remote.test', 'bob@'] });
  t.equal(bad.status, 400);
  t.same(bad.body, { error: { code: 'invalid_recipient', message: 'not an email address: "bob@"' } });
  const id = (await alice.post(D, {})).body.id;
  const badCc = await alice.request('PATCH', `${D}/${id}`, { json: { cc: ['Dave <dave@@remote.test>'] } });
  t.equal(badCc.status, 400);
  t.equal(badCc.body.error.code, 'invalid_recipient');
  t.match(badCc.body.error.message, /dave@@remote\.test/);
  t.equal((await alice.post(D, { to: 'carol@remote.test' })).body.error.code, 'validation_failed', 'a list, not a string');
  t.equal((await alice.post(D, { too: ['carol@remote.test'] })).body.error.code, 'validation_failed', 'unknown fields are refused');
  t.equal((await alice.post(D, { replyTo: 'abc' })).body.error.code, 'validation_failed');
  t.equal((await alice.post(D, { replyAll: true })).body.error.code, 'validation_failed', 'reply-all to nothing');
  t.equal((await alice.post(D, { replyTo: 999999 })).status, 404);
  const foreign = await alice.post(D, { from: BOB.address, to: ['carol@remote.test'] });
  t.equal(foreign.status, 403);
  t.equal(foreign.body.error.code, 'sender_not_allowed');
  t.equal((await alice.request('PATCH', `${D}/${id}`, { json: { from: BOB.address } })).status, 403);
  const nobody = await alice.post(`${D}/${id}/send`);
  t.equal(nobody.status, 400);
  t.equal(nobody.body.error.code, 'no_recipients');
  t.equal((await alice.post(`${D}/999999/send`)).status, 404);
  t.equal((await alice.post(D, {}, { csrf: false })).status, 403, 'CSRF header required');
});

t.test('a reply is sent: the SENT copy joins the discussion, a local recipient gets it in INBOX', async (t) => {
  const { h, alice, bob } = await world(t);
  const parentId = await h.ingest(makeMessage({ subject: 'Lunch plans', body: 'Noon at the bistro?', messageId: 'lunch@remote.test', date: 'Sat, 28 Feb 2026 12:00:00 +0000' }), [h.users.alice]);
  const parent = (await alice.get(`/api/v1/messages/${parentId}`)).body;

  const draft = await alice.post(D, { replyTo: parentId });
  t.equal(draft.status, 201);
  t.match(draft.body, { subject: 'Re: Lunch plans', to: [{ address: 'carol@remote.test' }], in_reply_to: 'lunch@remote.test', discussion_id: parent.discussion_id });
  t.match(draft.body.body, /^On Saturday, 28 February 2026 at 12:00, Carol wrote:\n> Noon at the bistro\?\n/);
  const id = draft.body.id;
  await alice.request('PATCH', `${D}/${id}`, { json: { body: 'Noon works, bringing Bob.\n\n' + draft.body.body, cc: [BOB.address] } });
  await upload(alice, id, 'menu', { filename: 'menu.txt', type: 'text/plain' });

  const sent = await alice.post(`${D}/${id}/send`);
  t.equal(sent.status, 202);
  t.match(sent.body, { messageId: Number, discussionId: parent.discussion_id, queued: ['carol@remote.test'], local: [BOB.address] });
  t.equal((await alice.get(`${D}/${id}`)).status, 404, 'the draft is gone');
  t.same((await alice.get(D)).body.items, []);

  const discussion = (await alice.get(`/api/v1/discussions/${parent.discussion_id}`)).body;
  const copy = discussion.messages.find((m: { id: number }) => m.id === sent.body.messageId);
  t.ok(copy, 'the Sent copy is in the parent\'s discussion');
  t.ok(copy.tags.includes('SENT'));
  t.equal(copy.subject, 'Re: Lunch plans');
  const view = (await alice.get(`/api/v1/messages/${sent.body.messageId}`)).body;
  t.match(view.headers, { from: [{ address: ALICE.address }], to: [{ address: 'carol@remote.test' }], cc: [{ address: BOB.address }] });
  t.match(view.text, /^Noon works, bringing Bob\./);
  t.same(view.attachments.map((a: { filename: string }) => a.filename), ['menu.txt']);

  const received = await eventually(async () => {
    const items = (await bob.get('/api/v1/discussions?tag=INBOX')).body.items as Array<{ id: number; excerpt: string }>;
    return items.find((d) => d.excerpt.startsWith('Noon works, bringing Bob.'));
  }, 'Bob\'s copy');
  const bobs = (await bob.get(`/api/v1/discussions/${received.id}`)).body.messages[0];
  t.ok(bobs.tags.includes('INBOX'));
  t.equal(bobs.subject, 'Re: Lunch plans');
  t.equal(bobs.from.address, ALICE.address);
  t.equal((await bob.get(`/api/v1/messages/${bobs.id}`)).body.headers.message_id, view.headers.message_id, 'the same message');
});
