/**
 * Contacts over HTTP, end to end: add by hand, edit, delete, suggestions collected from the user's
 * sent mail and accepted, the discussions with a contact (shaped like the timeline), tags as
 * groups, the list with search and a cursor over 10,000 contacts, vCard import and export round
 * trips, and stable error codes. Another user's contacts must look exactly like missing ones.
 */
import t, { type Test } from 'tap';
import { makeMessage } from '../helpers/deps.js';
import { ALICE, aliceAndBob, type ApiHarness } from '../helpers/api-app.js';
import type { ApiClient } from '../helpers/api-client.js';
import { foldedKeys } from '../../server/contacts/names.js';
import { encodeContactCursor } from '../../server/contacts/contact-list.js';

interface World { h: ApiHarness; alice: ApiClient; bob: ApiClient }

const world = (t: Test): Promise<World> => aliceAndBob(t);

const vcard = (text: string) => ({ body: text, contentType: 'text/vcard; charset=utf-8' });

async function sent(h: ApiHarness, to: string, subject: string, date: string): Promise<void> {
  await h.app.services.ingestor.ingest({
    source: 'sent', userIds: [h.users.alice],
    raw: makeMessage({ from: `Alice <${ALICE.address}>`, to, subject, date, messageId: `${subject.replace(/\W/g, '')}@example.test` }),
  });
}

t.test('add by hand, read the card with its PI; duplicates and bad input have stable codes', async (t) => {
  const { alice, bob } = await world(t);
  const res = await alice.post('/api/v1/contacts', {
    given_name: ' Carol ', family_name: 'Danvers',
    emails: [{ address: 'Carol@Remote.TEST', type: 'work', preferred: true }, 'carol.home@remote.test'],
    phones: [{ number: '+33 6 12 34 56 78', type: 'mobile' }],
    addresses: [{ type: 'home', street: '1 rue de la Paix', city: 'Paris', postcode: '75002', country: 'France' }],
    organisations: [{ name: 'Starforce', title: 'Pilot' }],
    notes: 'Met at the air show.\n',
  });
  t.equal(res.status, 201);
  const card = res.body;
  t.match(card, {
    id: Number, uid: /^urn:uuid:/, status: 'known', name: 'Carol Danvers', display_name: null, given_name: 'Carol', family_name: 'Danvers',
    emails: [{ address: 'carol@remote.test', type: 'work', preferred: true }, { address: 'carol.home@remote.test', type: null, preferred: false }],
    phones: [{ number: '+33 6 12 34 56 78', type: 'cell' }],
    addresses: [{ type: 'home', street: '1 rue de la Paix', city: 'Paris', region: null, postcode: '75002', country: 'France' }],
    organisations: [{ name: 'Starforce', department: null, title: 'Pilot' }],
    notes: 'Met at the air show.', tags: [], keys: [],
    counts: { messages: 0, encrypted: 0, discussions: 0, sent: 0, received: 0 },
  });
  t.match(card.pi, { score: 0, letter: 'E', colour: 'red', axes: { keys: 0, exchanges: 0, travel: 0 } });
  t.match(card.pi.reasons[0], { signal: 'NO_KEY', points: 0, help: /OpenPGP/ });
  t.same((await alice.get(`/api/v1/contacts/${card.id}`)).body.emails, card.emails);

  const dup = await alice.post('/api/v1/contacts', { emails: ['CAROL@remote.test'] });
  t.equal(dup.status, 409);
  t.same(dup.body.error.code, 'contact_exists');
  t.same(dup.body.error.details, { contact_id: card.id, address: 'carol@remote.test' }, 'names the contact that has the address');
  const bad = async (body: unknown) => {
    const r = await alice.post('/api/v1/contacts', body);
    return `${r.status} ${r.body.error.code}`;
  };
  t.equal(await bad({ emails: ['not an address'] }), '400 validation_failed');
  t.equal(await bad({ emails: [ALICE.address] }), '400 validation_failed', 'your own address is not a contact');
  t.equal(await bad({ display_name: 'Nobody' }), '400 validation_failed', 'added by hand: an email is needed');
  t.equal(await bad({ emails: ['x@y.test'], phones: [{ number: '1', type: 'carrier-pigeon' }] }), '400 validation_failed');
  t.equal(await bad({ emails: ['x@y.test'], favourite_colour: 'blue' }), '400 validation_failed');
  t.equal((await alice.get('/api/v1/contacts/999')).body.error.code, 'contact_not_found');
  t.equal((await alice.get('/api/v1/contacts/abc')).status, 400);
  const theirs = await bob.get(`/api/v1/contacts/${card.id}`);
  t.equal(theirs.status, 404, "another user's contact does not exist");
  t.equal(theirs.body.error.code, 'contact_not_found');
  t.equal((await bob.post('/api/v1/contacts', { emails: ['carol@remote.test'] })).status, 201, 'one address per contact, per user');
  t.equal((await alice.post('/api/v1/contacts', { emails: ['x@y.test'] }, { csrf: false })).status, 403, 'CSRF header required');
});

t.test('edit and delete', async (t) => {
  const { alice, bob } = await world(t);
  const a = (await alice.post('/api/v1/contacts', { display_name: 'Ann', emails: ['ann@a.test'] })).body;
  const b = (await alice.post('/api/v1/contacts', { emails: ['ben@b.test'] })).body;
  const patch = (id: number, body: unknown, c = alice) => c.request('PATCH', `/api/v1/contacts/${id}`, { json: body });
  const edited = await patch(a.id, { display_name: null, given_name: 'Ann', family_name: 'Bonny', emails: ['ann.b@a.test', { address: 'ann@a.test', preferred: true }], phones: [{ number: '0123' }] });
  t.equal(edited.status, 200);
  t.match(edited.body, { name: 'Ann Bonny', display_name: null, phones: [{ number: '0123', type: null }] });
  t.same(edited.body.emails.map((e: { address: string }) => e.address), ['ann@a.test', 'ann.b@a.test'], 'a kept address keeps its place (the contact stands for it in discussions)');
  t.match((await patch(a.id, { notes: 'pirate' })).body, { notes: 'pirate', family_name: 'Bonny', phones: [{ number: '0123' }] }, 'fields left out stay');
  const taken = await patch(a.id, { emails: ['ann@a.test', 'ben@b.test'] });
  t.equal(taken.status, 409);
  t.equal(taken.body.error.details.contact_id, b.id);
  t.equal((await patch(a.id, { emails: 'ann@a.test' })).status, 400);
  t.equal((await patch(a.id, { notes: 'x' }, bob)).status, 404);
  t.equal((await alice.request('DELETE', `/api/v1/contacts/${b.id}`, {})).status, 204);
  t.equal((await alice.get(`/api/v1/contacts/${b.id}`)).body.error.code, 'contact_not_found');
  t.equal((await alice.request('DELETE', `/api/v1/contacts/${b.id}`, {})).status, 404);
  t.equal((await alice.post('/api/v1/contacts', { emails: ['ben@b.test'] })).status, 201, 'its address is free again');
});

t.test('sent mail makes suggestions; accepting one makes it known; the discussions with a contact', async (t) => {
  const { h, alice } = await world(t);
  await sent(h, 'Dan <dan@else.test>', 'Plans', 'Tue, 24 Feb 2026 09:00:00 +0000');
  await sent(h, 'Dan <dan@else.test>, erin@else.test', 'Team lunch', 'Thu, 26 Feb 2026 09:00:00 +0000');
  await h.ingest(makeMessage({ from: 'Dan <dan@else.test>', subject: 'Re: Plans', date: 'Fri, 27 Feb 2026 09:00:00 +0000', headers: ['In-Reply-To: <Plans@example.test>'] }), [h.users.alice]);
  await h.ingest(makeMessage({ from: 'Frank <frank@else.test>', subject: 'Unrelated' }), [h.users.alice]);
  const suggested = (await alice.get('/api/v1/contacts?status=suggested')).body.items;
  t.same(suggested.map((c: { name: string; status: string }) => [c.name, c.status]), [['Dan', 'suggested'], ['erin@else.test', 'suggested']], 'people the user wrote to; not a stranger who wrote');
  const dan = suggested[0];
  t.match(dan, { emails: ['dan@else.test'], tags: [], pi: { score: Number, letter: /^[A-E]$/ }, last_exchange_at: Number });
  t.same((await alice.get('/api/v1/contacts?status=known')).body.items, []);
  const accepted = await alice.post(`/api/v1/contacts/${dan.id}/accept`, {});
  t.equal(accepted.status, 200);
  t.match(accepted.body, { status: 'known', counts: { messages: 3, discussions: 2, sent: 2 } });
  t.equal((await alice.post(`/api/v1/contacts/${dan.id}/accept`, {})).body.status, 'known', 'accepting twice is harmless');
  t.same((await alice.get('/api/v1/contacts?status=known')).body.items.map((c: { id: number }) => c.id), [dan.id]);

  const mine = (await alice.get(`/api/v1/contacts/${dan.id}/discussions`)).body;
  t.same(mine.items.map((d: { subject: string }) => d.subject), ['Plans', 'Team lunch'], 'newest first (the reply made Plans newest)');
  const timeline = (await alice.get('/api/v1/discussions')).body.items;
  t.same(mine.items[0], timeline.find((d: { id: number }) => d.id === mine.items[0].id), 'same shape as the timeline');
  const p1 = (await alice.get(`/api/v1/contacts/${dan.id}/discussions?limit=1`)).body;
  t.equal(p1.items.length, 1);
  const p2 = (await alice.get(`/api/v1/contacts/${dan.id}/discussions?limit=1&before=${encodeURIComponent(p1.next)}`)).body;
  t.same(p2.items.map((d: { subject: string }) => d.subject), ['Team lunch']);
  t.equal(p2.next, null);
  t.equal((await alice.get('/api/v1/contacts/999/discussions')).status, 404);
});

t.test('tags are the groups', async (t) => {
  const { alice } = await world(t);
  const a = (await alice.post('/api/v1/contacts', { display_name: 'Aunt May', emails: ['may@family.test'] })).body;
  const b = (await alice.post('/api/v1/contacts', { display_name: 'Boss', emails: ['boss@work.test'] })).body;
  const tag = (id: number, body: unknown) => alice.post(`/api/v1/contacts/${id}/tags`, body);
  const r = await tag(a.id, { add: ['Family', 'Christmas cards'] });
  t.equal(r.status, 200);
  t.same(r.body.tags.map((x: { name: string }) => x.name), ['Christmas cards', 'Family']);
  await tag(b.id, { add: ['family'] });
  t.same((await alice.get('/api/v1/contacts?tag=Family')).body.items.map((c: { name: string }) => c.name), ['Aunt May', 'Boss'], 'tag names match like search matches them');
  await tag(b.id, { remove: ['Family', 'Never existed'] });
  const family = (await alice.get('/api/v1/contacts?tag=Family')).body.items;
  t.same(family.map((c: { name: string; tags: string[] }) => [c.name, c.tags]), [['Aunt May', ['Christmas cards', 'Family']]]);
  t.same((await alice.get('/api/v1/contacts?tag=Nobody')).body, { items: [], next: null });
  const spam = await tag(a.id, { add: ['SPAM'] });
  t.equal(spam.status, 403);
  t.equal(spam.body.error.code, 'system_tag');
  t.equal((await tag(999, { add: ['Family'] })).body.error.code, 'contact_not_found');
  const tags = (await alice.get('/api/v1/tags')).body.items;
  const xmas = tags.find((x: { name: string }) => x.name === 'Christmas cards');
  t.equal((await alice.request('DELETE', `/api/v1/tags/${xmas.id}`, {})).status, 204);
  t.same((await alice.get(`/api/v1/contacts/${a.id}`)).body.tags.map((x: { name: string }) => x.name), ['Family'], 'a deleted tag leaves its contacts');
});

t.test('list: sorted by name, searched over names, emails and organisations, paged by cursor over 10,000 contacts', async (t) => {
  const { h, alice } = await world(t);
  const db = h.app.services.deps.db;
  const now = h.clock.now().getTime();
  await alice.post('/api/v1/contacts', { display_name: 'Zoë Ñúñez', emails: ['zoe@nunez.test'], organisations: [{ name: 'Universidad Abierta' }] });
  await alice.post('/api/v1/contacts', { display_name: '"Émile" Zola', emails: ['emile@zola.test'] });
  const rows = Array.from({ length: 10_000 }, (_, i) => {
    const name = `Person ${String(i).padStart(5, '0')}`;
    return { user_id: h.users.alice, status: i % 2 ? 'known' : 'suggested', display_name: name, created_at: now, updated_at: now, ...foldedKeys({ display_name: name }, [`p${i}@bulk.test`], []) };
  });
  await db.transaction(async (trx) => {
    for (let i = 0; i < rows.length; i += 500) {
      const ids: Array<{ id: number }> = await trx('contacts').insert(rows.slice(i, i + 500)).returning('id');
      await trx('contact_emails').insert(ids.map(({ id }, j) => ({ contact_id: id, user_id: h.users.alice, address: `p${i + j}@bulk.test` })));
    }
  });

  const first = await alice.get('/api/v1/contacts?limit=3');
  t.same(first.body.items.map((c: { name: string }) => c.name), ['"Émile" Zola', 'Person 00000', 'Person 00001'], 'folded name order; quotes do not count');
  let cursor = first.body.next;
  const seen: string[] = [];
  for (let page = 0; page < 5; page++) {
    const r = await alice.get(`/api/v1/contacts?limit=100&cursor=${encodeURIComponent(cursor)}`);
    seen.push(...r.body.items.map((c: { name: string }) => c.name));
    cursor = r.body.next;
  }
  t.equal(seen.length, 500);
  t.same(seen, [...seen].sort(), 'pages continue in order');
  t.equal(seen[0], 'Person 00002', 'no contact skipped or repeated between pages');

  const timed = async (path: string) => {
    const start = process.hrtime.bigint();
    const r = await alice.get(path);
    return { r, ms: Number(process.hrtime.bigint() - start) / 1e6 };
  };
  const middle = `/api/v1/contacts?limit=50&cursor=${encodeURIComponent(encodeContactCursor({ sort_name: 'person 05000', id: 0 }))}`;
  const cold = await timed(middle); // a page never seen: its 50 PIs are computed and stored
  const warm = await timed(middle);
  t.equal(warm.r.body.items[0].name, 'Person 05000');
  t.equal(warm.r.body.items[0].pi.letter, 'E');
  const search = await timed('/api/v1/contacts?q=person%2009999');
  t.same(search.r.body.items.map((c: { name: string }) => c.name), ['Person 09999']);
  t.comment(`10,000 contacts: a page in the middle ${cold.ms.toFixed(1)} ms the first time (50 PIs computed), then ${warm.ms.toFixed(1)} ms; a search that scans them all ${search.ms.toFixed(1)} ms`);
  t.ok(cold.ms < 1000 && warm.ms < 500 && search.ms < 500, 'pages stay fast (generous bound for a loaded 2-core box; the figures are in the comment)');
  const plan: Array<{ detail: string }> = await db.raw(
    "EXPLAIN QUERY PLAN SELECT id FROM contacts c WHERE c.user_id = ? AND (c.sort_name, c.id) > (?, ?) ORDER BY c.sort_name, c.id LIMIT 51", [h.users.alice, 'person 05000', 0]);
  t.match(plan.map((p) => p.detail).join('\n'), /USING (COVERING )?INDEX contacts_user_sort/, 'one range scan of the sort index');
  t.notMatch(plan.map((p) => p.detail).join('\n'), /TEMP B-TREE/, 'no sort step');

  const q = async (s: string) => (await alice.get(`/api/v1/contacts?q=${encodeURIComponent(s)}`)).body.items.map((c: { name: string }) => c.name);
  t.same(await q('zoe'), ['Zoë Ñúñez'], 'accents folded');
  t.same(await q('NUNEZ.test'), ['Zoë Ñúñez'], 'emails');
  t.same(await q('abierta univ'), ['Zoë Ñúñez'], 'organisations; every word must match');
  t.same(await q('100%'), [], 'LIKE wildcards are literal');
  t.equal((await alice.get('/api/v1/contacts?q=person&status=known&limit=2')).body.items.length, 2);
  t.equal((await alice.get('/api/v1/contacts?cursor=garbage')).status, 400);
  t.equal((await alice.get('/api/v1/contacts?limit=1000')).status, 400);
  t.equal((await alice.get('/api/v1/contacts?status=maybe')).status, 400);
});

const IMPORT = [
  'BEGIN:VCARD', 'VERSION:3.0', 'N:Lovelace;Ada;;;', 'FN:Ada Lovelace', 'EMAIL;TYPE=INTERNET,WORK,PREF:ada@engine.test',
  'TEL;TYPE=CELL:+44 20 7946 0000', 'ADR;TYPE=HOME:;;12 St James\\, Square;London;;SW1Y 4LB;UK', 'ORG:Analytical Engine;R&D', 'TITLE:Programmer',
  'NOTE:First line\\nSecond line, with a long tail that has to be folded somewhere after seventy-five oc', ' tets.', 'CATEGORIES:Science,Friends', 'END:VCARD',
  'BEGIN:VCARD', 'VERSION:4.0', 'UID:urn:uuid:11111111-2222-4333-8444-555555555555', 'FN:Phone Only', 'TEL;TYPE=work:+1 555 0100', 'END:VCARD',
  'BEGIN:VCARD', 'VERSION:2.1', 'N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen', 'EMAIL;INTERNET:juergen@beispiel.test', 'EMAIL:not-an-address', 'END:VCARD',
  'BEGIN:VCARD', 'VERSION:3.0', 'FN:Carol again', 'EMAIL:carol@remote.test', 'TEL:+33 1 00 00 00 00', 'CATEGORIES:INBOX,Friends', 'END:VCARD',
  'BEGIN:VCARD', 'VERSION:3.0', 'FN:Broken', 'no colon here', 'END:VCARD',
  'BEGIN:VCARD', 'VERSION:3.0', 'FN:', 'END:VCARD',
  'BEGIN:VCARD', 'VERSION:3.0', 'EMAIL:carol@remote.test', 'EMAIL:ada@engine.test', 'END:VCARD',
].join('\r\n') + '\r\n';

t.test('vCard import merges by email, reports per card; export → import changes nothing', async (t) => {
  const { alice, bob } = await world(t);
  const carol = (await alice.post('/api/v1/contacts', { display_name: 'Carol', emails: ['carol@remote.test'] })).body;
  const imported = await alice.request('POST', '/api/v1/contacts/import', vcard(IMPORT));
  t.equal(imported.status, 200);
  t.match(imported.body, { created: 3, updated: 1, skipped: 0 });
  t.match(imported.body.errors, [
    { index: 4, message: /line \d+: no ':'/ },
    { index: 5, message: /no name, email, phone/ },
    { index: 6, message: /belong to 2 different contacts/ },
  ]);
  t.match(imported.body.warnings, [
    { index: 2, message: /"not-an-address" is not an email address: left out/ },
    { index: 3, message: /category "INBOX" is a system tag/ },
  ]);
  const byName = async (q: string) => {
    const [item] = (await alice.get(`/api/v1/contacts?q=${encodeURIComponent(q)}`)).body.items;
    return (await alice.get(`/api/v1/contacts/${item.id}`)).body;
  };
  t.match(await byName('ada'), {
    status: 'known', name: 'Ada Lovelace', display_name: null, emails: [{ address: 'ada@engine.test', type: 'work', preferred: true }],
    phones: [{ number: '+44 20 7946 0000', type: 'cell' }], addresses: [{ street: '12 St James, Square', city: 'London', country: 'UK' }],
    organisations: [{ name: 'Analytical Engine', department: 'R&D', title: 'Programmer' }],
    notes: 'First line\nSecond line, with a long tail that has to be folded somewhere after seventy-five octets.',
  });
  t.same((await byName('ada')).tags.map((x: { name: string }) => x.name), ['Friends', 'Science'], 'CATEGORIES became tags');
  t.match(await byName('müller'), { name: 'Jürgen Müller', emails: [{ address: 'juergen@beispiel.test' }] });
  t.match(await byName('phone only'), { uid: 'urn:uuid:11111111-2222-4333-8444-555555555555', emails: [], phones: [{ number: '+1 555 0100', type: 'work' }] });
  const merged = (await alice.get(`/api/v1/contacts/${carol.id}`)).body;
  t.match(merged, { display_name: 'Carol again', phones: [{ number: '+33 1 00 00 00 00' }], tags: [{ name: 'Friends' }] }, 'merged into the contact that has the address');

  const exported = await alice.get('/api/v1/contacts/export.vcf');
  t.equal(exported.status, 200);
  t.match(exported.headers.get('content-type'), /^text\/vcard/);
  t.match(exported.headers.get('content-disposition'), /attachment; filename="contacts.vcf"/);
  const v4 = exported.raw.toString('utf8');
  t.equal(v4.match(/BEGIN:VCARD/g)!.length, 4);
  t.match(v4, /VERSION:4\.0\r\n/);
  const again = await alice.request('POST', '/api/v1/contacts/import', vcard(v4));
  t.same(again.body, { created: 0, updated: 0, skipped: 4, errors: [], warnings: [] }, 'import → export → import changes nothing');
  t.equal((await alice.get('/api/v1/contacts/export.vcf')).raw.toString('utf8'), v4, 'and the export is the same text');
  const v3 = (await alice.get('/api/v1/contacts/export.vcf?version=3.0')).raw.toString('utf8');
  t.match(v3, /VERSION:3\.0\r\n/);
  t.same((await alice.request('POST', '/api/v1/contacts/import', vcard(v3))).body, { created: 0, updated: 0, skipped: 4, errors: [], warnings: [] }, 'the 3.0 export too');

  t.same((await bob.request('POST', '/api/v1/contacts/import', vcard(v4))).body, { created: 4, updated: 0, skipped: 0, errors: [], warnings: [] });
  t.equal((await bob.get('/api/v1/contacts/export.vcf')).raw.toString('utf8'), v4, 'into another address book and out again: the same file');

  const one = await alice.get(`/api/v1/contacts/${carol.id}/vcard?version=3.0`);
  t.match(one.raw.toString('utf8'), /^BEGIN:VCARD\r\nVERSION:3\.0\r\n[\s\S]*FN:Carol again\r\n[\s\S]*END:VCARD\r\n$/);
  const theirs = await bob.get(`/api/v1/contacts/${carol.id}/vcard`);
  t.same([theirs.status, theirs.body.error.code], [404, 'contact_not_found']);
  t.equal((await alice.get('/api/v1/contacts/export.vcf?version=2.1')).status, 400);
  const notVcard = await alice.request('POST', '/api/v1/contacts/import', vcard('hello'));
  t.same([notVcard.status, notVcard.body.error.code], [400, 'invalid_vcard']);
  t.same((await alice.request('POST', '/api/v1/contacts/import', vcard(''))).body.error.code, 'invalid_vcard');
});
