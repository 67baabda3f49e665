/**
 * Tags management and saved search tabs over HTTP: create, rename, recolour, delete (system tags
 * refuse), a discussion tagged at once (SPAM trains the filter, the user's own Sent copy is left
 * out), searching a tag whose name has spaces and accents; saved tabs belong to one device.
 */
import t, { type Test } from 'tap';
import { makeMessage } from '../helpers/deps.js';
import { ALICE, BOB, startApi, type ApiHarness } from '../helpers/api-app.js';
import type { ApiClient } from '../helpers/api-client.js';

interface World {
  h: ApiHarness;
  alice: ApiClient;
  bob: ApiClient;
  /** carol's discussion with alice: two received messages and alice's Sent reply */
  carol: { discussion: number; first: number; second: number; sent: number };
}

async function world(t: Test): Promise<World> {
  const h = await startApi(t);
  const { ingestor } = h.app.services;
  const first = await h.ingest(makeMessage({ subject: 'Watches', body: 'Here is the new watch catalogue for the spring season.', messageId: 'w1@remote.test', date: 'Wed, 25 Feb 2026 12:00:00 +0000' }), [h.users.alice]);
  const second = await h.ingest(makeMessage({ subject: 'More watches', body: 'And a second catalogue with the autumn models.', messageId: 'w2@remote.test', date: 'Thu, 26 Feb 2026 12:00:00 +0000' }), [h.users.alice]);
  const [sentOutcome] = await ingestor.ingest({
    source: 'sent', userIds: [h.users.alice],
    raw: makeMessage({ from: 'Alice <alice@example.test>', to: 'Carol <carol@remote.test>', subject: 'Re: More watches', body: 'Please stop writing to me.', messageId: 's1@example.test', date: 'Fri, 27 Feb 2026 12:00:00 +0000' }),
  });
  const discussion = (await h.app.services.deps.db('messages').where({ id: first }).first('discussion_id')).discussion_id as number;
  t.equal(sentOutcome!.discussionId, discussion, 'the Sent reply joined the discussion');
  const alice = h.client();
  await alice.login(ALICE.username, ALICE.password);
  const bob = h.client();
  await bob.login(BOB.username, BOB.password);
  return { h, alice, bob, carol: { discussion, first, second, sent: sentOutcome!.messageId } };
}

const patch = (c: ApiClient, path: string, json: unknown) => c.request('PATCH', path, { json });
const del = (c: ApiClient, path: string) => c.request('DELETE', path);

t.test('tags: create, rename, recolour, delete; names unique per user; system tags stay', async (t) => {
  const { h, alice, bob, carol } = await world(t);
  const created = await alice.post('/api/v1/tags', { name: '  Famille Été ', color: '#AA33cc' });
  t.equal(created.status, 201);
  t.match(created.body, { name: 'Famille Été', color: '#aa33cc', is_system: false }, 'trimmed, colour lower-cased');
  const id = created.body.id as number;

  for (const name of ['famille été', 'FAMILLE ETE']) {
    const dup = await alice.post('/api/v1/tags', { name, color: '#000000' });
    t.equal(dup.status, 409, `"${name}" is the same tag`);
    t.equal(dup.body.error.code, 'tag_exists');
  }
  t.equal((await alice.post('/api/v1/tags', { name: 'inbox' })).body.error.code, 'tag_exists', 'a system name is taken');
  t.equal((await bob.post('/api/v1/tags', { name: 'Famille Été', color: '#112233' })).status, 201, 'another user may have the same name');
  for (const [body, what] of [[{ name: '   ' }, 'blank'], [{ name: 'x'.repeat(65) }, '65 characters'], [{ name: 'ok', color: 'red' }, 'a colour name'], [{ name: 'ok', color: '#12345' }, 'short hex'], [{ name: 'ok', extra: 1 }, 'unknown key']] as const) {
    const r = await alice.post('/api/v1/tags', body);
    t.equal(r.status, 400, `refused: ${what}`);
    t.equal(r.body.error.code, 'validation_failed');
  }
  t.equal((await alice.post('/api/v1/tags', { name: 'x'.repeat(64) })).status, 201, '64 characters are fine');

  t.equal((await alice.post(`/api/v1/messages/${carol.first}/tags`, { add: ['famille été'] })).body.tags.includes('Famille Été'), true, 'tagging by any spelling finds the tag');
  const renamed = await patch(alice, `/api/v1/tags/${id}`, { name: 'Family', color: '#00ff00' });
  t.equal(renamed.status, 200);
  t.same(renamed.body, { id, name: 'Family', color: '#00ff00', is_system: false });
  t.same((await alice.get(`/api/v1/messages/${carol.first}`)).body.tags, ['Family', 'INBOX'], 'messages carry the new name');
  t.equal((await patch(alice, `/api/v1/tags/${id}`, { name: 'family' })).status, 200, 'changing only the case of its own name');
  t.equal((await patch(alice, `/api/v1/tags/${id}`, { color: null })).body.color, null, 'colour cleared');
  t.equal((await alice.post('/api/v1/tags', { name: 'Work' })).status, 201);
  t.equal((await patch(alice, `/api/v1/tags/${id}`, { name: 'work' })).body.error.code, 'tag_exists', 'renaming onto another tag');

  const tags = (await alice.get('/api/v1/tags')).body.items as Array<{ id: number; name: string; is_system: boolean }>;
  const spam = tags.find((x) => x.name === 'SPAM')!;
  const renameSystem = await patch(alice, `/api/v1/tags/${spam.id}`, { name: 'Junk' });
  t.equal(renameSystem.status, 403);
  t.equal(renameSystem.body.error.code, 'system_tag');
  t.equal((await patch(alice, `/api/v1/tags/${spam.id}`, { name: 'spam', color: '#ff0000' })).body.color, '#ff0000', 'a system tag takes a colour (its name given in any case)');
  t.equal((await del(alice, `/api/v1/tags/${spam.id}`)).body.error.code, 'system_tag');

  const bobsTag = (await bob.get('/api/v1/tags')).body.items.find((x: { name: string }) => x.name === 'Famille Été');
  t.equal((await patch(alice, `/api/v1/tags/${bobsTag.id}`, { name: 'Mine' })).body.error.code, 'tag_not_found', "another user's tag does not exist");
  t.equal((await del(alice, `/api/v1/tags/${bobsTag.id}`)).status, 404);

  t.equal((await del(alice, `/api/v1/tags/${id}`)).status, 204);
  t.same((await alice.get(`/api/v1/messages/${carol.first}`)).body.tags, ['INBOX'], 'removed from its messages');
  t.equal(Number((await h.app.services.deps.db('tags').where({ id }).count({ n: '*' }))[0]!.n), 0);
  t.equal((await del(alice, `/api/v1/tags/${id}`)).body.error.code, 'tag_not_found');
  t.equal((await alice.request('DELETE', `/api/v1/tags/${id}`, { csrf: false })).status, 403, 'CSRF header required');
});

t.test('a discussion tagged at once: every message; SPAM hides it all, trains on received mail only', async (t) => {
  const { h, alice, bob, carol } = await world(t);
  const db = h.app.services.deps.db;
  const tagged = await alice.post(`/api/v1/discussions/${carol.discussion}/tags`, { add: ['Watches'] });
  t.equal(tagged.status, 200);
  t.equal(tagged.body.message_count, 3);
  t.same(tagged.body.messages.map((m: { id: number; tags: string[] }) => [m.id, m.tags]), [
    [carol.first, ['INBOX', 'Watches']], [carol.second, ['INBOX', 'Watches']], [carol.sent, ['SENT', 'Watches']],
  ], 'all three, in date order');

  const spam = await alice.post(`/api/v1/discussions/${carol.discussion}/tags`, { add: ['SPAM'] });
  t.same(spam.body.messages.map((m: { tags: string[]; is_spam: boolean }) => [m.tags, m.is_spam]), [
    [['SPAM', 'Watches'], true], [['SPAM', 'Watches'], true], [['SENT', 'SPAM', 'Watches'], true],
  ], 'every message moved to SPAM, the Sent reply too');
  const trained = await db('messages').whereIn('id', [carol.first, carol.second, carol.sent]).orderBy('id').select('spam_trained');
  t.same(trained.map((r: { spam_trained: string | null }) => r.spam_trained), ['spam', 'spam', null], 'the filter learnt from the two received messages, not from the reply');
  const stats = await db('spam_stats').where({ user_id: h.users.alice }).first();
  t.match(stats, { spam_messages: 2 }, 'two spam lessons');
  t.same((await alice.get('/api/v1/discussions')).body.items, [], 'hidden from the timeline');

  const again = await alice.post(`/api/v1/discussions/${carol.discussion}/tags`, { add: ['SPAM'] });
  t.equal(again.status, 200);
  t.match(await db('spam_stats').where({ user_id: h.users.alice }).first(), { spam_messages: 2 }, 'no message counts twice');

  const back = await alice.post(`/api/v1/discussions/${carol.discussion}/tags`, { remove: ['SPAM'] });
  t.same(back.body.messages.map((m: { tags: string[]; is_spam: boolean }) => [m.tags, m.is_spam]), [
    [['INBOX', 'Watches'], false], [['INBOX', 'Watches'], false], [['SENT', 'Watches'], false],
  ], 'not spam: received mail back in INBOX, the reply back to SENT only');
  t.match(await db('spam_stats').where({ user_id: h.users.alice }).first(), { spam_messages: 0, ham_messages: 2 }, 'the lesson moved to ham');
  t.equal((await alice.get('/api/v1/discussions')).body.items.length, 1, 'back in the timeline');

  const rm = await alice.post(`/api/v1/discussions/${carol.discussion}/tags`, { remove: ['watches'] });
  t.same(rm.body.messages.map((m: { tags: string[] }) => m.tags), [['INBOX'], ['INBOX'], ['SENT']]);
  t.equal((await alice.post(`/api/v1/discussions/${carol.discussion}/tags`, { add: ['SPAM', 'INBOX'] })).status, 400, 'contradictory');
  t.equal((await alice.post(`/api/v1/discussions/${carol.discussion}/tags`, { add: ['x'], remove: ['X'] })).status, 400);
  t.equal((await alice.post(`/api/v1/discussions/${carol.discussion}/tags`, { add: ['ok'], extra: true })).status, 400, 'unknown keys refused');
  const other = await bob.post(`/api/v1/discussions/${carol.discussion}/tags`, { add: ['Mine'] });
  t.equal(other.status, 404);
  t.equal(other.body.error.code, 'discussion_not_found');
});

t.test('search: tag:NAME for user tags with spaces, accents and quotes', async (t) => {
  const { alice, carol } = await world(t);
  const search = async (q: string) => {
    const r = await alice.post('/api/v1/search', { q });
    t.equal(r.status, 200, q);
    return (r.body.items as Array<{ id: number }>).map((i) => i.id).sort((a, b) => a - b);
  };
  await alice.post(`/api/v1/messages/${carol.first}/tags`, { add: ['Voyage été 2026'] });
  await alice.post(`/api/v1/messages/${carol.second}/tags`, { add: ['Ünïcødé'] });
  await alice.post(`/api/v1/messages/${carol.sent}/tags`, { add: ['Famille'] });
  t.same(await search('tag:"Voyage été 2026"'), [carol.first], 'quoted name with spaces');
  t.same(await search('tag:"voyage ete 2026"'), [carol.first], 'case and accents folded, as names are unique');
  t.same(await search('tag:Ünïcødé'), [carol.second], 'unquoted unicode');
  t.same(await search('tag:unicøde'), [carol.second], 'folded (ø is a letter of its own, é is e)');
  t.same(await search('tag:"Voyage été 2026" OR tag:famille'), [carol.first, carol.sent]);
  t.same(await search('-tag:"Voyage été 2026" tag:INBOX'), [carol.second], 'negated');
  t.same(await search('tag:Voyage'), [], 'a quoted name is one name, not its first word');
  t.same(await search('tag:"Voyage été 2026'), [carol.first], 'an unclosed quote closes at the end');
  t.same(await search('tag:"Voyage été'), [], 'a name cut short is another name');
});

/** A browser that logged in and named itself (the devices API): its session is bound to that device. */
async function onDevice(h: ApiHarness, who: { username: string; password: string }, name: string): Promise<{ client: ApiClient; deviceId: number }> {
  const client = h.client();
  await client.login(who.username, who.password);
  const res = await client.post('/api/v1/devices/current', { name, type: 'laptop' });
  if (res.status !== 201) throw new Error(`device not registered: ${res.status} ${JSON.stringify(res.body)}`);
  return { client, deviceId: res.body.device.id };
}

t.test('saved tabs belong to the device: each lists its own, in its own order', async (t) => {
  const { h, alice, bob } = await world(t);
  const laptop = await onDevice(h, ALICE, 'Laptop');
  const phone = await onDevice(h, ALICE, 'Phone');
  const tabs = async (c: ApiClient) => ((await c.get('/api/v1/tabs')).body.items as Array<{ title: string; query: string; position: number }>).map((x) => [x.title, x.query, x.position]);

  const noDevice = await alice.get('/api/v1/tabs');
  t.equal(noDevice.status, 409, 'a session bound to no device keeps no tabs');
  t.equal(noDevice.body.error.code, 'no_device');
  t.equal((await alice.post('/api/v1/tabs', { title: 'X', query: 'x' })).body.error.code, 'no_device');
  t.same(await tabs(laptop.client), [], 'a new device starts with none');

  const family = await laptop.client.post('/api/v1/tabs', { title: ' Family ', query: 'tag:"Famille été"' });
  t.equal(family.status, 201);
  t.match(family.body, { title: 'Family', query: 'tag:"Famille été"', position: 0 });
  const bills = (await laptop.client.post('/api/v1/tabs', { title: 'Bills', query: 'has:attachment from:bank' })).body;
  const assoc = (await laptop.client.post('/api/v1/tabs', { title: 'Association', query: 'tag:Association is:unread' })).body;
  t.same(await tabs(laptop.client), [['Family', 'tag:"Famille été"', 0], ['Bills', 'has:attachment from:bank', 1], ['Association', 'tag:Association is:unread', 2]]);
  t.same(await tabs(phone.client), [], 'the phone has its own (none)');
  t.equal((await phone.client.post('/api/v1/tabs', { title: 'Family', query: 'tag:Family' })).status, 201);
  t.same(await tabs(phone.client), [['Family', 'tag:Family', 0]]);

  const moved = await laptop.client.request('PATCH', `/api/v1/tabs/${assoc.id}`, { json: { position: 0, title: 'Asso' } });
  t.equal(moved.status, 200);
  t.match(moved.body, { id: assoc.id, title: 'Asso', position: 0 });
  t.same((await tabs(laptop.client)).map((x) => x[0]), ['Asso', 'Family', 'Bills'], 'moved first, the others shift');
  await laptop.client.request('PATCH', `/api/v1/tabs/${assoc.id}`, { json: { position: 99 } });
  t.same((await tabs(laptop.client)).map((x) => [x[0], x[2]]), [['Family', 0], ['Bills', 1], ['Asso', 2]], 'past the end: last');
  t.equal((await laptop.client.request('DELETE', `/api/v1/tabs/${family.body.id}`)).status, 204);
  t.same((await tabs(laptop.client)).map((x) => [x[0], x[2]]), [['Bills', 0], ['Asso', 1]], 'positions stay dense');

  for (const [c, who] of [[phone.client, "alice's phone"], [bob, 'bob']] as const) {
    const patch = await c.request('PATCH', `/api/v1/tabs/${bills.id}`, { json: { title: 'Mine' } });
    t.ok(patch.status === 404 || patch.status === 409, `${who} cannot rename the laptop's tab`);
  }
  const phonePatch = await phone.client.request('PATCH', `/api/v1/tabs/${bills.id}`, { json: { title: 'Mine' } });
  t.equal(phonePatch.body.error.code, 'tab_not_found', "another device's tab does not exist");
  t.equal((await phone.client.request('DELETE', `/api/v1/tabs/${bills.id}`)).body.error.code, 'tab_not_found');
  t.equal((await laptop.client.get('/api/v1/tabs')).body.items.length, 2, 'untouched');

  for (const [body, code] of [[{ title: '', query: 'x' }, 'validation_failed'], [{ title: 'x'.repeat(101), query: 'x' }, 'validation_failed'], [{ title: 'Bad', query: 'pi:abc' }, 'invalid_search'], [{ title: 'Bad', query: 'x', color: 'red' }, 'validation_failed']] as const) {
    const r = await laptop.client.post('/api/v1/tabs', body);
    t.equal(r.status, 400, JSON.stringify(body));
    t.equal(r.body.error.code, code);
  }
  t.equal((await laptop.client.request('PATCH', `/api/v1/tabs/${bills.id}`, { json: { position: -1 } })).status, 400);

  const removed = await laptop.client.request('DELETE', `/api/v1/devices/${phone.deviceId}`);
  t.equal(removed.status, 200);
  t.equal(Number((await h.app.services.deps.db('saved_tabs').where({ device_id: phone.deviceId }).count({ n: '*' }))[0]!.n), 0, "a removed device's tabs go with it");
  t.equal((await phone.client.get('/api/v1/tabs')).status, 401, 'and its session ended');
});
