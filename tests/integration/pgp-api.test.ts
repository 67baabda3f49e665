/**
 * The OpenPGP API of one box: the user's key pair (a plaintext private key is refused), export,
 * revoke; contact keys (paste, verify, delete, per contact, not another user's); keys learnt from
 * received mail (Autocrypt header, an attached key naming the sender, not one naming someone else);
 * a signed message verified for the PI against the sender's key; gossip; the opt-in index of
 * decrypted text; openpgp's browser build served under /vendor/ but not loaded by the first page.
 */
import t from 'tap';
import * as openpgp from 'openpgp';
import { aliceAndBob, ALICE } from '../helpers/api-app.js';
import { makeMessage } from '../helpers/deps.js';
import { generateKeyPair, unlockPrivateKey, buildAutocryptHeader, minimalKeyBytes, readAnyKey, type KeyPair } from '../../web/js/pgp/index.js';

const T = { timeout: 60_000 };
const BEFORE_CLOCK = new Date('2026-01-01T00:00:00Z'); // the harness clock is 2026-03-01
const carolKey = await generateKeyPair(openpgp, { name: 'Carol', email: 'carol@remote.test', passphrase: 'c', date: BEFORE_CLOCK });
const aliceKey = await generateKeyPair(openpgp, { name: 'Alice', email: ALICE.address, passphrase: 'a', date: BEFORE_CLOCK });

t.test('my key pair: upload checked, exported, revoked', T, async (t) => {
  const { alice } = await aliceAndBob(t);
  t.same((await alice.get('/api/v1/keys/me')).body, { key: null });
  const { privateKey: plain } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: ALICE.address }], format: 'armored', date: BEFORE_CLOCK });
  const pub = (await openpgp.readPrivateKey({ armoredKey: plain })).toPublic().armor();
  const refused = await alice.request('PUT', '/api/v1/keys/me', { json: { public_key: pub, private_key: plain } });
  t.equal(refused.status, 400);
  t.equal(refused.body.error.code, 'key_not_protected', 'a private key without passphrase never gets stored');
  const mismatch = await alice.request('PUT', '/api/v1/keys/me', { json: { public_key: carolKey.publicKey, private_key: aliceKey.privateKey } });
  t.equal(mismatch.body.error.code, 'invalid_key');
  const put = await alice.request('PUT', '/api/v1/keys/me', { json: { public_key: aliceKey.publicKey, private_key: aliceKey.privateKey } });
  t.equal(put.status, 200);
  t.match(put.body.key, { fingerprint: aliceKey.fingerprint, algorithm: 'ecc', revoked_at: null });
  t.match(put.body.key.fingerprint_display, /^([0-9A-F]{4} ){9}[0-9A-F]{4}$/);
  const accountPi = (await alice.get('/api/v1/me')).body.pi.reasons;
  t.match(accountPi.find((r: { signal: string }) => r.signal === 'KEY_PAIR_PROTECTED'), { points: 15 }, 'account PI: a protected key pair');
  const exported = await alice.get('/api/v1/keys/me/export?part=private');
  t.match(exported.headers.get('content-disposition'), /attachment/);
  const back = await openpgp.readPrivateKey({ armoredKey: exported.raw.toString('utf8') });
  t.notOk(back.isDecrypted(), 'the private key comes back still protected');
  t.ok(await unlockPrivateKey(openpgp, exported.raw.toString('utf8'), 'a'));
  t.match((await alice.get('/api/v1/keys/me/export')).raw.toString('utf8'), /BEGIN PGP PUBLIC KEY BLOCK/);
  t.equal((await alice.post('/api/v1/keys/me/revoke', { public_key: aliceKey.publicKey })).body.error.code, 'invalid_key', 'an unrevoked key is not a revocation');
  const { revokeKeyPair } = await import('../../web/js/pgp/index.js');
  const revoked = await revokeKeyPair(openpgp, aliceKey.privateKey, 'a', 'lost', new Date('2026-02-01T00:00:00Z'));
  const r = await alice.post('/api/v1/keys/me/revoke', { public_key: revoked.publicKey, private_key: revoked.privateKey });
  t.equal(r.status, 200);
  t.ok(r.body.key.revoked_at);
  t.same((await alice.get('/api/v1/keys/me')).body, { key: null }, 'no current key once revoked');
});

t.test('contact keys: paste, list per contact, verify, delete; another user cannot touch them', T, async (t) => {
  const { alice, bob } = await aliceAndBob(t);
  t.equal((await alice.post('/api/v1/keys/contacts', { address: 'carol@remote.test', key: 'not a key' })).body.error.code, 'invalid_key');
  const added = await alice.post('/api/v1/keys/contacts', { address: 'Carol@Remote.test', key: carolKey.publicKey });
  t.equal(added.status, 201);
  t.match(added.body.key, { address: 'carol@remote.test', fingerprint: carolKey.fingerprint, source: 'pasted', verified: false });
  const contact = await alice.post('/api/v1/contacts', { display_name: 'Carol', emails: ['carol@remote.test'] });
  const card = async () => (await alice.get(`/api/v1/contacts/${contact.body.id}`)).body;
  t.equal((await alice.get(`/api/v1/keys/contacts?contact_id=${contact.body.id}`)).body.keys.length, 1);
  t.ok((await card()).pi.reasons.some((r: { signal: string }) => r.signal === 'KEY_STRONG'), 'contact PI: a strong key');
  const share = (await alice.get('/api/v1/me')).body.pi.reasons.find((r: { signal: string }) => r.signal === 'CONTACTS_WITH_KEYS');
  t.match(share, { points: 10, detail: '1 of 1 contacts' }, 'account PI: share of contacts with a key');
  t.equal((await bob.post(`/api/v1/keys/contacts/${added.body.key.id}/verify`, { verified: true })).status, 404, 'not bob’s key');
  const before = (await card()).pi.score;
  t.equal((await alice.post(`/api/v1/keys/contacts/${added.body.key.id}/verify`, { verified: true })).body.key.verified, true);
  const after = await card();
  t.ok(after.pi.reasons.some((r: { signal: string }) => r.signal === 'KEY_VERIFIED'));
  t.equal(after.pi.score, before + 20, 'verifying the fingerprint raises the contact PI');
  t.equal((await alice.request('DELETE', `/api/v1/keys/contacts/${added.body.key.id}`)).status, 204);
  t.same((await alice.get('/api/v1/keys/contacts')).body.keys, []);
});

async function signedMime(key: KeyPair, body: string, tamper = false): Promise<Buffer> {
  const part = `Content-Type: text/plain; charset=utf-8\r\n\r\n${body}`;
  const sig = await openpgp.sign({ message: await openpgp.createMessage({ binary: Buffer.from(part) }), signingKeys: await unlockPrivateKey(openpgp, key.privateKey, 'c'), detached: true });
  return Buffer.from([
    'From: Carol <carol@remote.test>', `To: ${ALICE.address}`, 'Subject: signed', 'Date: Sun, 01 Mar 2026 09:00:00 +0000', `Message-ID: <${Math.random()}@remote.test>`,
    'MIME-Version: 1.0', 'Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="s"', '',
    '--s', tamper ? part.replace('10', '99') : part, '--s', 'Content-Type: application/pgp-signature', '', sig, '--s--', '',
  ].join('\r\n'));
}

t.test('received mail: signature verified for the PI, Autocrypt header and attached keys learnt', T, async (t) => {
  const { h, alice } = await aliceAndBob(t);
  const reasons = async (id: number) => (await alice.get(`/api/v1/messages/${id}`)).body.pi.reasons.map((r: { signal: string }) => r.signal);
  const unknown = await h.ingest(await signedMime(carolKey, 'Pay 10.'), [h.users.alice]);
  t.ok((await reasons(unknown)).includes('PGP_SIGNED'), 'signature present, no key: no points');

  // an attached key naming the sender is learnt; one naming someone else is not
  const mallory = await generateKeyPair(openpgp, { email: 'mallory@evil.test', passphrase: 'm', date: BEFORE_CLOCK });
  const withKeys = (await h.ingest(Buffer.from([
    'From: Carol <carol@remote.test>', `To: ${ALICE.address}`, 'Subject: my key', 'Message-ID: <keys@remote.test>', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="m"', '', '--m', 'Content-Type: text/plain', '', 'Here is my key.',
    '--m', 'Content-Type: application/pgp-keys; name="carol.asc"', 'Content-Disposition: attachment; filename="carol.asc"', '', carolKey.publicKey,
    '--m', 'Content-Type: application/pgp-keys; name="other.asc"', 'Content-Disposition: attachment; filename="other.asc"', '', mallory.publicKey, '--m--', '',
  ].join('\r\n')), [h.users.alice]));
  t.ok(withKeys);
  const keys = (await alice.get('/api/v1/keys/contacts')).body.keys;
  t.same(keys.map((k: { address: string; source: string; fingerprint: string }) => [k.address, k.source, k.fingerprint]), [['carol@remote.test', 'attachment', carolKey.fingerprint]]);

  const good = await h.ingest(await signedMime(carolKey, 'Pay 10.'), [h.users.alice]);
  t.ok((await reasons(good)).includes('SIGNATURE_VERIFIED'), 'verified against the known key');
  t.ok((await reasons(good)).includes('CONTACT_HAS_KEY'));
  const bad = await h.ingest(await signedMime(carolKey, 'Pay 10.', true), [h.users.alice]);
  t.notOk((await reasons(bad)).includes('SIGNATURE_VERIFIED'), 'a changed message does not verify');

  // Autocrypt header from dave: peer state and key; a header for another address than From is ignored
  const dave = await generateKeyPair(openpgp, { email: 'dave@remote.test', passphrase: 'd', date: BEFORE_CLOCK });
  const header = buildAutocryptHeader({ addr: 'dave@remote.test', keydata: await minimalKeyBytes(openpgp, await readAnyKey(openpgp, dave.publicKey), 'dave@remote.test') });
  await h.ingest(makeMessage({ from: 'Dave <dave@remote.test>', headers: [`Autocrypt: ${header}`] }), [h.users.alice]);
  await h.ingest(makeMessage({ from: 'Eve <eve@remote.test>', headers: [`Autocrypt: ${header}`] }), [h.users.alice]);
  const lookup = (await alice.get('/api/v1/keys/lookup?address=dave@remote.test&address=eve@remote.test')).body;
  t.match(lookup, { sealed: false, missing: ['eve@remote.test'] });
  t.match(lookup.recipients[0], { address: 'dave@remote.test', status: 'sealed', source: 'autocrypt', fingerprint: dave.fingerprint, prefer_encrypt: 'mutual' });

  // gossip reported by the browser after decrypting: only for the message's recipients
  const bobAddr = 'bob@example.test';
  const frank = await generateKeyPair(openpgp, { email: 'frank@remote.test', passphrase: 'f', date: BEFORE_CLOCK });
  const gossip = buildAutocryptHeader({ addr: 'frank@remote.test', keydata: await minimalKeyBytes(openpgp, await readAnyKey(openpgp, frank.publicKey), 'frank@remote.test'), preferEncrypt: 'nopreference' });
  const toFrank = await h.ingest(makeMessage({ from: 'Dave <dave@remote.test>', to: `${ALICE.address}, frank@remote.test`, cc: bobAddr }), [h.users.alice]);
  t.equal((await alice.post('/api/v1/keys/gossip', { message_id: toFrank, headers: [gossip.replace(/\r\n /g, ' ')] })).body.updated, 1);
  t.match((await alice.get('/api/v1/keys/lookup?address=frank@remote.test')).body.recipients[0], { source: 'gossip', fingerprint: frank.fingerprint });
  const notRecipient = await h.ingest(makeMessage({ from: 'Dave <dave@remote.test>' }), [h.users.alice]);
  t.equal((await alice.post('/api/v1/keys/gossip', { message_id: notRecipient, headers: [gossip] })).body.updated, 0, 'gossip about a non-recipient is ignored');
});

t.test('decrypted text is indexed only when the user allowed it', T, async (t) => {
  const { h, alice } = await aliceAndBob(t);
  const raw = Buffer.from(['From: carol@remote.test', `To: ${ALICE.address}`, 'Subject: ...', 'Message-ID: <enc@remote.test>', 'MIME-Version: 1.0',
    'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="e"', '', '--e', 'Content-Type: application/pgp-encrypted', '', 'Version: 1', '',
    '--e', 'Content-Type: application/octet-stream', '', '-----BEGIN PGP MESSAGE-----', '', 'wV4DAAAAAAAAAAASAQdA', '-----END PGP MESSAGE-----', '--e--', ''].join('\r\n'));
  const id = await h.ingest(raw, [h.users.alice]);
  const search = async (q: string) => (await alice.post('/api/v1/search', { q })).body.total;
  t.same((await alice.get('/api/v1/keys/settings')).body, { index_decrypted: false }, 'off by default');
  const signals = async () => ((await alice.get('/api/v1/me')).body.pi.reasons as Array<{ signal: string; points: number }>).filter((r) => r.signal.startsWith('SEALED_TEXT'));
  t.same(await signals(), [], 'no key pair: the setting is not part of the account PI');
  const pair = await generateKeyPair(openpgp, { email: ALICE.address, passphrase: 'pi trade-off', date: new Date('2026-01-01T00:00:00Z') });
  t.equal((await alice.request('PUT', '/api/v1/keys/me', { json: { public_key: pair.publicKey, private_key: pair.privateKey } })).status, 200);
  t.match(await signals(), [{ signal: 'SEALED_TEXT_PRIVATE', points: 5 }], 'the account PI says the sealed text stays out of the box');
  const refused = await alice.post(`/api/v1/messages/${id}/decrypted-text`, { text: 'rendezvous sous le pommier' });
  t.equal(refused.body.error.code, 'indexing_disabled');
  t.equal(await search('pommier'), 0);
  t.same((await alice.request('PUT', '/api/v1/keys/settings', { json: { index_decrypted: true } })).body, { index_decrypted: true });
  t.equal((await alice.post(`/api/v1/messages/${id}/decrypted-text`, { subject: 'Le verger', text: 'rendezvous sous le pommier', attachments: ['plan.pdf'] })).status, 204);
  t.equal(await search('pommier'), 1, 'found by a word of the decrypted text');
  t.equal(await search('verger'), 1, 'and of the protected subject');
  t.match(await signals(), [{ signal: 'SEALED_TEXT_INDEXED', points: 0 }], 'and explains the trade-off once indexing is on');
});

t.test('openpgp is served for the browser under /vendor/, and the first page does not load it', T, async (t) => {
  const { h } = await aliceAndBob(t);
  const res = await fetch(`http://127.0.0.1:${h.http}/vendor/openpgp.mjs`, { signal: AbortSignal.timeout(10_000) });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/javascript/);
  t.match((await res.text()).slice(0, 200), /OpenPGP\.js v6/);
  const core = await fetch(`http://127.0.0.1:${h.http}/js/pgp/index.js`, { signal: AbortSignal.timeout(10_000) });
  t.equal(core.status, 200, 'the core is served as plain modules');
  const page = await (await fetch(`http://127.0.0.1:${h.http}/`, { signal: AbortSignal.timeout(10_000) })).text();
  t.notMatch(page, /openpgp/i);
  const appJs = await (await fetch(`http://127.0.0.1:${h.http}/app.js`, { signal: AbortSignal.timeout(10_000) })).text();
  t.notMatch(appJs, /openpgp\.mjs|js\/pgp\//, 'app.js does not import it statically');
});
