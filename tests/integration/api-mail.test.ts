/**
 * Mail through the API, end to end: messages arrive by the real SMTP port (nodemailer) or the
 * ingest pipeline, then are listed, read, downloaded, tagged, marked spam, searched, over HTTP.
 * Other users' objects must look exactly like missing ones.
 */
import t, { type Test } from 'tap';
import nodemailer from 'nodemailer';
import { explainReason } from '../../server/privacy/index.js';
import { makeMessage } from '../helpers/deps.js';
import { ALICE, BOB, startApi, type ApiHarness } from '../helpers/api-app.js';
import type { ApiClient } from '../helpers/api-client.js';

const ZONES = { 'remote.test': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] } };

const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

/** HTML mail with everything a sanitizer must remove, a remote image, and two attachments. */
function hostileMessage(): Buffer {
  const html = [
    '<p>Hello <b>Alice</b></p>',
    '<script>alert("pwned")</script>',
    '<img src="x" onerror="alert(1)">',
    '<img src="https://tracker.remote.test/pixel.png" width="1" height="1">',
    '<a href="javascript:alert(2)">click</a>',
  ].join('\r\n');
  return Buffer.from([
    'From: Mallory <mallory@evil.test>',
    'To: Alice <alice@example.test>',
    'Subject: Your invoice',
    'Date: Fri, 27 Feb 2026 09:00:00 +0000',
    'Message-ID: <hostile@evil.test>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/html; charset=utf-8',
    '',
    html,
    '--b1',
    'Content-Type: application/pdf; name="invoice.pdf"',
    'Content-Disposition: attachment; filename="invoice.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    PDF.toString('base64'),
    '--b1',
    'Content-Type: text/html; name="page.html"',
    'Content-Disposition: attachment; filename="pagé.html"',
    '',
    '<script>alert(3)</script>',
    '--b1--',
    '',
  ].join('\r\n'));
}

interface World {
  h: ApiHarness;
  alice: ApiClient;
  bob: ApiClient;
  /** message ids */
  m: { lunch: number; reply: number; hostile: number; junk: number; bobs: number };
}

async function sendBySmtp(port: number, raw: Buffer, from: string, to: string): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, name: 'mx.remote.test' });
  try {
    await transport.sendMail({ envelope: { from, to: [to] }, raw });
  } finally {
    transport.close();
  }
}

async function world(t: Test): Promise<World> {
  const h = await startApi(t, { zones: ZONES });
  const db = h.app.services.deps.db;
  const lunchRaw = makeMessage({ subject: 'Lunch plans', body: 'Shall we meet at the marmalade bistro?', messageId: 'lunch@remote.test', date: 'Wed, 25 Feb 2026 12:00:00 +0000' });
  await sendBySmtp(h.smtp, lunchRaw, 'carol@remote.test', ALICE.address);
  const lunch = (await db('messages').where({ message_id: 'lunch@remote.test' }).first('id')).id as number;
  const reply = await h.ingest(makeMessage({ subject: 'Re: Lunch plans', body: 'Noon works.', messageId: 'reply@remote.test', date: 'Sat, 28 Feb 2026 12:00:00 +0000', headers: ['In-Reply-To: <lunch@remote.test>'] }), [h.users.alice]);
  const hostile = await h.ingest(hostileMessage(), [h.users.alice]);
  const junk = await h.ingest(makeMessage({ from: 'Prize Desk <winner@junk.test>', subject: 'You won a cruise', body: 'Claim your free cruise prize now, click here to win cash', messageId: 'junk@junk.test', date: 'Thu, 26 Feb 2026 08:00:00 +0000' }), [h.users.alice]);
  const bobs = await h.ingest(makeMessage({ to: BOB.address, subject: 'For Bob only', messageId: 'bob@remote.test' }), [h.users.bob]);
  const alice = h.client();
  await alice.login(ALICE.username, ALICE.password);
  const bob = h.client();
  await bob.login(BOB.username, BOB.password);
  return { h, alice, bob, m: { lunch, reply, hostile, junk, bobs } };
}

const subjects = (items: Array<{ subject: string }>) => items.map((i) => i.subject);

t.test('timeline: newest first, with counts, participants, tags and PI; pages with a cursor', async (t) => {
  const { alice } = await world(t);
  const res = await alice.get('/api/v1/discussions');
  t.equal(res.status, 200);
  t.same(subjects(res.body.items), ['Lunch plans', 'Your invoice', 'You won a cruise'], 'newest activity first');
  t.equal(res.body.next, null);
  const lunch = res.body.items[0];
  t.equal(lunch.message_count, 2);
  t.equal(lunch.unread_count, 2);
  t.equal(lunch.excerpt, 'Noon works.', 'excerpt of the latest message');
  t.same(lunch.participants, [{ address: 'carol@remote.test', name: 'Carol' }], 'the others, not the user');
  t.same(lunch.tags, ['INBOX']);
  t.equal(lunch.has_attachments, false);
  t.match(lunch.pi, { score: Number, letter: /^[A-E]$/, colour: /^(red|pink|amber|green)$/ });
  t.equal(res.body.items[1].has_attachments, true);

  const p1 = await alice.get('/api/v1/discussions?limit=2');
  t.same(subjects(p1.body.items), ['Lunch plans', 'Your invoice']);
  t.type(p1.body.next, 'string');
  const p2 = await alice.get(`/api/v1/discussions?limit=2&before=${encodeURIComponent(p1.body.next)}`);
  t.same(subjects(p2.body.items), ['You won a cruise']);
  t.equal(p2.body.next, null);
  t.equal((await alice.get('/api/v1/discussions?before=garbage')).status, 400);
});

t.test('timeline filters: tag, importance range, PI range', async (t) => {
  const { h, alice, m } = await world(t);
  const db = h.app.services.deps.db;
  t.equal((await alice.post(`/api/v1/messages/${m.hostile}/tags`, { add: ['Bills'] })).status, 200);
  t.same(subjects((await alice.get('/api/v1/discussions?tag=Bills')).body.items), ['Your invoice']);
  t.same(subjects((await alice.get('/api/v1/discussions?tag=bills')).body.items), ['Your invoice'], 'tag names match without case');
  t.same((await alice.get('/api/v1/discussions?tag=NoSuchTag')).body.items, []);

  // Deterministic figures for the range filters (ingest computes its own).
  const discussionOf = async (id: number) => (await db('messages').where({ id }).first('discussion_id')).discussion_id;
  await db('discussions').where({ id: await discussionOf(m.lunch) }).update({ importance: 6, pi_score: 90, pi_letter: 'A' });
  await db('discussions').where({ id: await discussionOf(m.hostile) }).update({ importance: -4, pi_score: 15, pi_letter: 'E' });
  await db('discussions').where({ id: await discussionOf(m.junk) }).update({ importance: 0, pi_score: 45, pi_letter: 'C' });
  t.same(subjects((await alice.get('/api/v1/discussions?importance_min=5')).body.items), ['Lunch plans']);
  t.same(subjects((await alice.get('/api/v1/discussions?importance_max=-1')).body.items), ['Your invoice']);
  t.same(subjects((await alice.get('/api/v1/discussions?importance_min=-1&importance_max=1')).body.items), ['You won a cruise']);
  t.same(subjects((await alice.get('/api/v1/discussions?pi_min=40&pi_max=60')).body.items), ['You won a cruise']);
  t.same(subjects((await alice.get('/api/v1/discussions?pi_max=20')).body.items), ['Your invoice']);
  const colours = (await alice.get('/api/v1/discussions')).body.items.map((i: { pi: { colour: string } }) => i.pi.colour);
  t.same(colours, ['green', 'red', 'pink']);
  t.equal((await alice.get('/api/v1/discussions?pi_min=101')).status, 400);
  t.equal((await alice.get('/api/v1/discussions?include_spam=maybe')).status, 400);
});

t.test('discussion detail lists messages in date order; other users get 404', async (t) => {
  const { alice, bob, m } = await world(t);
  const list = await alice.get('/api/v1/discussions');
  const id = list.body.items[0].id;
  const d = await alice.get(`/api/v1/discussions/${id}`);
  t.equal(d.status, 200);
  t.same(d.body.messages.map((x: { id: number }) => x.id), [m.lunch, m.reply], 'oldest first');
  t.match(d.body.messages[0], { subject: 'Lunch plans', from: { address: 'carol@remote.test', name: 'Carol' }, is_read: false, tags: ['INBOX'] });
  t.match(d.body.messages[0].pi, { score: Number, letter: String, colour: String });
  const other = await bob.get(`/api/v1/discussions/${id}`);
  t.equal(other.status, 404);
  t.equal(other.body.error.code, 'discussion_not_found');
  t.same((await alice.get('/api/v1/discussions/999999')).body.error.code, 'discussion_not_found', 'same answer as a missing one');
  t.same(subjects((await bob.get('/api/v1/discussions')).body.items), ['For Bob only'], "bob's timeline is his own");
});

t.test('message view: headers, text, PI with reasons and help, authentication summary', async (t) => {
  const { h, alice, m } = await world(t);
  const res = await alice.get(`/api/v1/messages/${m.lunch}`);
  t.equal(res.status, 200);
  const v = res.body;
  t.same(v.headers.from, [{ address: 'carol@remote.test', name: 'Carol' }]);
  t.same(v.headers.to, [{ address: 'alice@example.test', name: 'Alice' }]);
  t.equal(v.headers.subject, 'Lunch plans');
  t.equal(v.headers.message_id, 'lunch@remote.test');
  t.match(v.text, /marmalade bistro/);
  t.equal(v.html, null);
  t.equal(v.auth.spf.result, 'pass', 'SPF verified against the test zone (sent from 127.0.0.1)');
  t.ok(v.auth_summary.length > 0, 'summary lines');
  t.same(v.auth_summary, v.auth.summary);
  t.match(v.pi, { score: Number, letter: /^[A-E]$/, colour: String, axes: { travel: Number, sender: Number, content: Number } });
  const spf = v.pi.reasons.find((r: { signal: string }) => r.signal === 'SPF_PASS');
  t.ok(spf, 'SPF_PASS is a reason');
  t.match(spf, { axis: 'sender', points: 5, help: explainReason('SPF_PASS', 'en') });
  t.ok(v.pi.reasons.some((r: { signal: string }) => r.signal === 'NO_TLS'), 'plain SMTP says so');
  t.same(v.tags, ['INBOX']);
  t.equal(v.is_read, false);
  t.type(v.spam_score, 'number');
  t.type(v.importance, 'number');

  await h.app.services.deps.db('users').where({ id: h.users.alice }).update({ lang: 'fr' });
  const fr = await alice.get(`/api/v1/messages/${m.lunch}`);
  const spfFr = fr.body.pi.reasons.find((r: { signal: string }) => r.signal === 'SPF_PASS');
  t.equal(spfFr.help, explainReason('SPF_PASS', 'fr'), "help in the user's language");
});

t.test('hostile HTML is sanitized; remote images only with allow_remote=1', async (t) => {
  const { alice, m } = await world(t);
  const v = (await alice.get(`/api/v1/messages/${m.hostile}`)).body;
  t.match(v.html, /Hello <b>Alice<\/b>/);
  t.notMatch(v.html, /<script|alert\(|onerror|javascript:/i, 'no script, handler or javascript: URL survives');
  t.notMatch(v.html, /tracker\.remote\.test/, 'remote image blocked');
  t.ok(v.blocked_remote >= 1, 'and counted');
  t.same(v.attachments, [
    { index: 0, filename: 'invoice.pdf', contentType: 'application/pdf', size: PDF.length },
    { index: 1, filename: 'pagé.html', contentType: 'text/html', size: 25 },
  ]);
  const allowed = (await alice.get(`/api/v1/messages/${m.hostile}?allow_remote=1`)).body;
  t.match(allowed.html, /<img src="https:\/\/tracker\.remote\.test\/pixel\.png"/, 'kept when allowed');
  t.notMatch(allowed.html, /<script|onerror/i, 'still no script');
  t.equal(allowed.blocked_remote, 0);
});

/** HTML with an image of its own (multipart/related, cid:) and a remote one. */
function relatedMessage(): Buffer {
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');
  return Buffer.from([
    'From: Newsletter <news@remote.test>',
    'To: Alice <alice@example.test>',
    'Subject: Our news',
    'Date: Fri, 27 Feb 2026 10:00:00 +0000',
    'Message-ID: <news-1@remote.test>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/related; boundary="r1"',
    '',
    '--r1',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p style="color: #c00">Red news</p><img src="cid:logo%40remote.test" alt="logo"><img src="https://cdn.remote.test/banner.png" alt="banner">',
    '--r1',
    'Content-Type: image/png',
    'Content-ID: <logo@remote.test>',
    'Content-Transfer-Encoding: base64',
    '',
    png.toString('base64'),
    '--r1--',
    '',
  ].join('\r\n'));
}

t.test('the HTML body as its own document: own CSP, framable by the app only, remote images once, per sender or always', async (t) => {
  const { h, alice, bob } = await world(t);
  const id = await h.ingest(relatedMessage(), [h.users.alice]);
  const view = (await alice.get(`/api/v1/messages/${id}`)).body;
  t.equal(view.body_url, `/api/v1/messages/${id}/body`);
  t.equal(view.sender, 'news@remote.test');
  t.equal(view.remote_images, null, 'blocked by default');
  t.equal(view.blocked_remote, 1);

  const doc = await alice.get(view.body_url);
  t.equal(doc.status, 200);
  t.match(doc.headers.get('content-type'), /^text\/html; charset=utf-8/);
  const csp = doc.headers.get('content-security-policy') ?? '';
  t.match(csp, /default-src 'none'/);
  t.match(csp, /img-src data:(;|$)/, 'images only from data: while remote ones are blocked');
  t.match(csp, /sandbox allow-popups/);
  t.match(csp, /frame-ancestors 'self'/, 'only the app may frame it');
  t.notMatch(csp, /script-src/, 'no script source at all (default-src none)');
  t.equal(doc.headers.get('x-frame-options'), 'SAMEORIGIN');
  const text = doc.raw.toString('utf8');
  t.match(text, /^<!doctype html>/);
  t.match(text, /style="color:#c00"|style="color: #c00"/, "inline styles kept (the document's CSP allows them)");
  t.match(text, /<img src="data:image\/png;base64,iVBORw0KGgo[^"]*" alt="logo"/, 'its own image inlined from the cid: part');
  t.notMatch(text, /cdn\.remote\.test/, 'the remote one is not there');

  const once = await alice.get(`${view.body_url}?remote=1`);
  t.match(once.headers.get('content-security-policy'), /img-src data: https: http:/);
  t.match(once.raw.toString('utf8'), /https:\/\/cdn\.remote\.test\/banner\.png/, 'shown once when asked');
  t.equal((await alice.get(view.body_url)).raw.toString('utf8').includes('cdn.remote.test'), false, 'and only that time');

  t.equal((await bob.get(view.body_url)).status, 404, "another user's message body is missing");

  const trust = await alice.post('/api/v1/image-senders', { address: 'News@Remote.test' });
  t.equal(trust.status, 200);
  t.equal(trust.body.address, 'news@remote.test');
  t.same((await alice.get('/api/v1/image-senders')).body.senders, ['news@remote.test']);
  t.same((await bob.get('/api/v1/image-senders')).body.senders, [], "one user's trust is not another's");
  const trusted = (await alice.get(`/api/v1/messages/${id}`)).body;
  t.equal(trusted.remote_images, 'sender');
  t.equal(trusted.blocked_remote, 0);
  t.match((await alice.get(view.body_url)).raw.toString('utf8'), /cdn\.remote\.test/, 'always for this sender');
  t.equal((await alice.post('/api/v1/image-senders', { address: 'not an address' })).status, 400);
  t.equal((await alice.request('DELETE', '/api/v1/image-senders/news%40remote.test')).status, 204);
  t.equal((await alice.get(`/api/v1/messages/${id}`)).body.remote_images, null, 'trust withdrawn');

  t.equal((await alice.request('PATCH', '/api/v1/me', { json: { settings: { show_images: 'always' } } })).status, 200);
  t.equal((await alice.get(`/api/v1/messages/${id}`)).body.remote_images, 'setting', 'the account-wide setting');
});

t.test('raw and attachment downloads are attachments with safe types', async (t) => {
  const { alice, bob, m } = await world(t);
  const raw = await alice.get(`/api/v1/messages/${m.hostile}/raw`);
  t.equal(raw.status, 200);
  t.equal(raw.headers.get('content-type'), 'message/rfc822');
  t.match(raw.headers.get('content-disposition'), /^attachment; filename="message-\d+\.eml"/);
  t.same(raw.raw, hostileMessage(), 'the bytes as received');
  const pdf = await alice.get(`/api/v1/messages/${m.hostile}/attachments/0`);
  t.equal(pdf.status, 200);
  t.equal(pdf.headers.get('content-type'), 'application/pdf');
  t.equal(pdf.headers.get('content-disposition'), `attachment; filename="invoice.pdf"; filename*=UTF-8''invoice.pdf`);
  t.equal(pdf.headers.get('x-content-type-options'), 'nosniff');
  t.match(pdf.headers.get('content-security-policy'), /sandbox/);
  t.same(pdf.raw, PDF);
  const html = await alice.get(`/api/v1/messages/${m.hostile}/attachments/1`);
  t.equal(html.headers.get('content-type'), 'application/octet-stream', 'HTML is never served as HTML');
  t.equal(html.headers.get('content-disposition'), `attachment; filename="pag_.html"; filename*=UTF-8''pag%C3%A9.html`);
  const none = await alice.get(`/api/v1/messages/${m.hostile}/attachments/2`);
  t.equal(none.status, 404);
  t.equal(none.body.error.code, 'attachment_not_found');
  t.notOk(none.headers.get('content-disposition'), 'an error is not a download');
  t.equal((await alice.get(`/api/v1/messages/${m.hostile}/attachments/x`)).status, 400);
  for (const path of [`/api/v1/messages/${m.hostile}/raw`, `/api/v1/messages/${m.hostile}/attachments/0`]) {
    const r = await bob.get(path);
    t.equal(r.status, 404, `bob: ${path}`);
    t.equal(r.body.error.code, 'message_not_found');
  }
});

t.test('tags: add and remove, listed in /tags', async (t) => {
  const { alice, m } = await world(t);
  const add = await alice.post(`/api/v1/messages/${m.lunch}/tags`, { add: ['Family', 'important'] });
  t.equal(add.status, 200);
  t.same(add.body, { id: m.lunch, tags: ['Family', 'IMPORTANT', 'INBOX'], is_spam: false });
  const tags = (await alice.get('/api/v1/tags')).body.items;
  t.ok(tags.some((x: { name: string; is_system: boolean }) => x.name === 'Family' && !x.is_system), 'user tag listed');
  t.ok(tags.some((x: { name: string; is_system: boolean }) => x.name === 'SPAM' && x.is_system), 'system tags listed');
  const rm = await alice.post(`/api/v1/messages/${m.lunch}/tags`, { remove: ['family', 'Nope'] });
  t.same(rm.body.tags, ['IMPORTANT', 'INBOX'], 'removed; an unknown tag is a no-op');
  t.equal((await alice.post(`/api/v1/messages/${m.lunch}/tags`, { add: ['x'], remove: ['X'] })).status, 400);
  t.equal((await alice.post(`/api/v1/messages/${m.lunch}/tags`, { add: ['a'.repeat(65)] })).status, 400);
  t.equal((await alice.post(`/api/v1/messages/${m.lunch}/tags`, { add: 'Family' })).body.error.code, 'validation_failed');
});

t.test('SPAM: tagging trains the filter and hides the discussion; untagging brings it back', async (t) => {
  const { h, alice, m } = await world(t);
  const db = h.app.services.deps.db;
  const tokenRows = async () => Number((await db('spam_tokens').where({ user_id: h.users.alice }).count({ n: '*' }))[0]!.n);
  t.equal(await tokenRows(), 0, 'untrained');
  const noop = await alice.post(`/api/v1/messages/${m.lunch}/tags`, { remove: ['SPAM'] });
  t.same(noop.body.tags, ['INBOX'], '"not spam" on a normal message changes nothing');
  t.equal(await tokenRows(), 0, 'and teaches nothing');
  t.equal((await alice.post(`/api/v1/messages/${m.junk}/tags`, { add: ['SPAM', 'INBOX'] })).status, 400, 'contradictory');
  const res = await alice.post(`/api/v1/messages/${m.junk}/tags`, { add: ['SPAM'] });
  t.equal(res.status, 200);
  t.same(res.body, { id: m.junk, tags: ['SPAM'], is_spam: true }, 'SPAM replaces INBOX');
  const row = await db('messages').where({ id: m.junk }).first('is_spam', 'spam_trained');
  t.match(row, { is_spam: 1, spam_trained: 'spam' });
  const spamTokens = await db('spam_tokens').where({ user_id: h.users.alice }).where('spam', '>', 0).count({ n: '*' });
  t.ok(Number(spamTokens[0]!.n) > 5, 'spam_tokens rows appear');
  t.same(subjects((await alice.get('/api/v1/discussions')).body.items), ['Lunch plans', 'Your invoice'], 'hidden');
  t.same(subjects((await alice.get('/api/v1/discussions?include_spam=1')).body.items), ['Lunch plans', 'Your invoice', 'You won a cruise']);
  t.same(subjects((await alice.get('/api/v1/discussions?tag=SPAM')).body.items), ['You won a cruise'], 'asking for SPAM shows it');

  const back = await alice.post(`/api/v1/messages/${m.junk}/tags`, { add: ['INBOX'] });
  t.same(back.body, { id: m.junk, tags: ['INBOX'], is_spam: false }, 'INBOX on a spam message means not spam');
  t.match(await db('messages').where({ id: m.junk }).first('is_spam', 'spam_trained'), { is_spam: 0, spam_trained: 'ham' });
  const counts = await db('spam_tokens').where({ user_id: h.users.alice }).sum({ spam: 'spam', ham: 'ham' });
  t.equal(Number(counts[0]!.spam), 0, 'the spam lesson is undone');
  t.ok(Number(counts[0]!.ham) > 5, 'and taught as ham');
  t.same(subjects((await alice.get('/api/v1/discussions')).body.items), ['Lunch plans', 'Your invoice', 'You won a cruise'], 'visible again');
  t.equal((await alice.post(`/api/v1/messages/${m.junk}/tags`, { add: ['SPAM'], remove: ['SPAM'] })).status, 400);
});

t.test('read / unread updates the unread count', async (t) => {
  const { alice, m } = await world(t);
  const unread = async () => (await alice.get('/api/v1/discussions')).body.items[0].unread_count;
  t.equal(await unread(), 2);
  const r = await alice.post(`/api/v1/messages/${m.lunch}/read`, { read: true });
  t.same(r.body, { id: m.lunch, is_read: true, unread_count: 1 });
  t.equal(await unread(), 1);
  await alice.post(`/api/v1/messages/${m.reply}/read`, { read: true });
  t.equal(await unread(), 0);
  await alice.post(`/api/v1/messages/${m.lunch}/read`, { read: false });
  t.equal(await unread(), 1);
  t.equal((await alice.get(`/api/v1/messages/${m.lunch}`)).body.is_read, false);
  t.equal((await alice.post(`/api/v1/messages/${m.lunch}/read`, { read: 'yes' })).status, 400);
});

t.test('search finds the message; only the user’s own', async (t) => {
  const { alice, bob, m } = await world(t);
  const res = await alice.post('/api/v1/search', { q: 'marmalade' });
  t.equal(res.status, 200);
  t.equal(res.body.total, 1);
  t.match(res.body.items[0], { id: m.lunch, subject: 'Lunch plans', from: { address: 'carol@remote.test' } });
  t.equal((await alice.post('/api/v1/search', { q: 'from:carol@remote.test' })).body.total, 2);
  t.equal((await bob.post('/api/v1/search', { q: 'marmalade' })).body.total, 0);
  const bad = await alice.post('/api/v1/search', { q: 'pi:abc' });
  t.equal(bad.status, 400);
  t.equal(bad.body.error.code, 'invalid_search');
  t.equal((await alice.post('/api/v1/search', {})).body.error.code, 'validation_failed');
});

t.test("another user's message is a 404 everywhere; internal errors do not leak", async (t) => {
  const { h, alice, bob, m } = await world(t);
  const checks: Array<[string, string, unknown]> = [
    ['GET', `/api/v1/messages/${m.lunch}`, undefined],
    ['POST', `/api/v1/messages/${m.lunch}/tags`, { add: ['Mine'] }],
    ['POST', `/api/v1/messages/${m.lunch}/read`, { read: true }],
  ];
  for (const [method, path, json] of checks) {
    const r = await bob.request(method, path, { json });
    t.equal(r.status, 404, `bob ${method} ${path}`);
    t.same(r.body.error.code, 'message_not_found');
  }
  t.equal((await h.app.services.deps.db('messages').where({ id: m.lunch }).first('is_read')).is_read, 0, 'nothing changed');
  t.equal((await alice.get(`/api/v1/messages/${m.bobs}`)).status, 404);

  const row = await h.app.services.deps.db('messages').where({ id: m.reply }).first('blob_hash');
  await h.app.services.deps.blobs.remove(row.blob_hash);
  const broken = await alice.get(`/api/v1/messages/${m.reply}`);
  t.equal(broken.status, 500);
  t.same(broken.body, { error: { code: 'internal_error', message: 'internal error' } }, 'no path, no stack');
});
