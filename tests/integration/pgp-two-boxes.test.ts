/**
 * Two Caliopen boxes on loopback (one.test and two.test) encrypt to each other with no user action:
 * by WKD (each box publishes its users' keys; the other finds them, advanced method first), and by
 * Autocrypt (after one plain message each way over the real SMTP path, each side holds the other's
 * key; the next message is sealed, and opens on the other side with a good signature).
 */
import t from 'tap';
import * as openpgp from 'openpgp';
import { twoBoxes, sendPlain, type Box } from '../helpers/pgp-boxes.js';
import { waitFor } from '../helpers/smtp-sink.js';
import { buildSealedMessage, openMessage, readAnyKey, unlockPrivateKey } from '../../web/js/pgp/index.js';
import { wkdUrls } from '../../server/crypto/wkd.js';

const T = { timeout: 120_000 };

const lookup = async (box: Box, address: string) => (await box.client.get(`/api/v1/keys/lookup?address=${encodeURIComponent(address)}`)).body;

async function received(box: Box, subject: string): Promise<{ id: number }> {
  const db = box.app.services.deps.db;
  await waitFor(async () => !!(await db('messages').where({ user_id: box.user.id, source: 'smtp' }).andWhere('subject', subject).first()), 20_000, `"${subject}" received by ${box.domain}`);
  return db('messages').where({ user_id: box.user.id, source: 'smtp' }).andWhere('subject', subject).first('id');
}

t.test('WKD: each box publishes its users’ current keys; the other finds them', T, async (t) => {
  const [a, b] = await twoBoxes(t, { wkd: true });
  const res = await lookup(a, b.user.address);
  t.equal(res.sealed, true, 'a first message to bob would be sealed');
  t.match(res.recipients[0], { address: 'bob@two.test', status: 'sealed', source: 'wkd', fingerprint: b.key.fingerprint });
  t.equal(a.fetched[0], wkdUrls(b.user.address).advanced, 'the advanced method is asked first');

  // the published key is the binary key, by both methods; the policy file exists; nothing else is served
  const fetch = a.app.services.deps.fetch;
  const urls = wkdUrls(b.user.address);
  for (const url of [urls.advanced, urls.direct]) {
    const r = await fetch(url);
    t.equal(r.status, 200, url);
    t.equal((await openpgp.readKey({ binaryKey: new Uint8Array(r.raw!) })).getFingerprint().toUpperCase(), b.key.fingerprint);
  }
  t.equal((await fetch('https://openpgpkey.two.test/.well-known/openpgpkey/two.test/policy')).status, 200);
  t.equal((await fetch('https://two.test/.well-known/openpgpkey/policy')).status, 200);
  t.equal((await fetch(wkdUrls('nobody@two.test').direct)).status, 404, 'no key for an unknown address');
  t.equal((await fetch('https://openpgpkey.two.test/.well-known/openpgpkey/one.test/policy')).status, 404, 'not a domain of that box');
  t.equal((await fetch(wkdUrls('alice@one.test').advanced.replace('openpgpkey.one.test', 'openpgpkey.two.test'))).status, 404, 'box two does not publish box one’s users');

  // asked again only when stale: a second lookup does not fetch
  const before = a.fetched.length;
  await lookup(a, b.user.address);
  t.equal(a.fetched.length, before, 'fresh WKD answer reused');

  // a revoked key is no longer published
  const { revokeKeyPair } = await import('../../web/js/pgp/index.js');
  const revoked = await revokeKeyPair(openpgp, b.key.privateKey, b.passphrase, 'retired', new Date('2026-02-01T00:00:00Z'));
  t.equal((await b.client.post('/api/v1/keys/me/revoke', { public_key: revoked.publicKey })).status, 200);
  t.equal((await fetch(urls.direct)).status, 404, 'revoked: not published any more');
});

t.test('Autocrypt: one plain message each way, then the next one is sealed with no user action', T, async (t) => {
  const [a, b] = await twoBoxes(t, { wkd: false });
  t.equal((await lookup(a, b.user.address)).sealed, false, 'no WKD, no Autocrypt yet: a postcard');

  await sendPlain(a, b.user.address, 'Hello Bob');
  await received(b, 'Hello Bob');
  await sendPlain(b, a.user.address, 'Hello Alice');
  await received(a, 'Hello Alice');

  // Autocrypt is learnt just after the commit that stores the message
  const peerOf = (box: Box, address: string) => box.app.services.deps.db('pgp_peers').where({ user_id: box.user.id, address }).whereNotNull('autocrypt_key_id').first();
  await waitFor(async () => !!(await peerOf(a, b.user.address)) && !!(await peerOf(b, a.user.address)), 10_000, 'peer state on both boxes');
  const peer = await a.app.services.deps.db('pgp_peers').where({ user_id: a.user.id, address: b.user.address }).first();
  t.match(peer, { prefer_encrypt: 'mutual' }, 'peer state on alice’s box');
  t.ok(peer.autocrypt_timestamp > 0 && peer.last_seen >= peer.autocrypt_timestamp);
  const toBob = await lookup(a, b.user.address);
  t.match(toBob, { sealed: true, missing: [] });
  t.match(toBob.recipients[0], { source: 'autocrypt', fingerprint: b.key.fingerprint, prefer_encrypt: 'mutual', verified: false });
  t.match((await lookup(b, a.user.address)).recipients[0], { status: 'sealed', source: 'autocrypt', fingerprint: a.key.fingerprint });

  // the next message: sealed by alice's browser with the looked-up key, opened by bob's
  const { armored } = await buildSealedMessage(openpgp, {
    from: { address: a.user.address }, to: [{ address: b.user.address }], subject: 'Now sealed', text: 'Only Bob reads this.',
    attachments: [{ filename: 'note.txt', contentType: 'text/plain', content: new TextEncoder().encode('inside') }],
  }, {
    encryptionKeys: [await readAnyKey(openpgp, toBob.recipients[0].public_key), await readAnyKey(openpgp, a.key.publicKey)],
    signingKey: await unlockPrivateKey(openpgp, a.key.privateKey, a.passphrase),
  });
  t.equal((await a.client.post('/api/v1/messages/sealed', { to: [b.user.address], armored })).status, 200);
  const msg = await received(b, '...');
  const raw = (await b.client.get(`/api/v1/messages/${msg.id}/raw`)).raw;
  const keys = (await b.client.get(`/api/v1/keys/contacts?address=${a.user.address}`)).body.keys;
  const mine = (await b.client.get('/api/v1/keys/me')).body.key;
  const opened = await openMessage(openpgp, raw, {
    decryptionKeys: [await unlockPrivateKey(openpgp, mine.private_key, b.passphrase)],
    knownKeys: await Promise.all(keys.map(async (k: { public_key: string; verified: boolean }) => ({ key: await readAnyKey(openpgp, k.public_key), verified: k.verified }))),
  });
  t.equal(opened.decrypted, true);
  t.equal(opened.subject, 'Now sealed');
  t.equal(opened.text, 'Only Bob reads this.');
  t.same(opened.attachments.map((x) => x.filename), ['note.txt']);
  t.equal(opened.signature.status, 'valid_unverified_key', 'signed by the key Autocrypt brought');
  const view = await b.client.get(`/api/v1/messages/${msg.id}`);
  t.ok(view.body.pi.reasons.some((r: { signal: string }) => r.signal === 'PGP_ENCRYPTED'));
  t.ok(view.body.pi.reasons.some((r: { signal: string }) => r.signal === 'CONTACT_HAS_KEY'), 'PI: the sender’s key is known');
});
