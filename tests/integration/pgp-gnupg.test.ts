/**
 * OpenPGP with GnuPG 2.2 both ways, through the real box: a PGP/MIME message encrypted and signed
 * by gpg arrives over SMTP and opens with the web core in Node (text, attachment, signature against
 * the contact key, then "valid" once verified); a message sealed by the core goes out through
 * POST /messages/sealed and the send path to smtp-sink, and gpg decrypts it with a good signature
 * and the attachment intact.
 */
import t from 'tap';
import * as openpgp from 'openpgp';
import nodemailer from 'nodemailer';
import { simpleParser } from 'mailparser';
import { aliceAndBob, ALICE } from '../helpers/api-app.js';
import { startSink, waitFor } from '../helpers/smtp-sink.js';
import { startGpg, gpgStatus, needsGpg } from '../helpers/gnupg.js';
import { generateKeyPair, unlockPrivateKey, buildSealedMessage, openMessage, readAnyKey } from '../../web/js/pgp/index.js';

const T = { ...needsGpg(), timeout: 120_000 };
const zones = { 'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] }, 'mx.remote.test': { A: ['127.0.0.1'] } };

async function aliceWithKey(t: Parameters<typeof aliceAndBob>[0], config: Record<string, unknown> = {}) {
  const { h, alice } = await aliceAndBob(t, { zones, config });
  // made before the box's fake clock (2026-03-01), which judges whether the key is valid yet
  const pair = await generateKeyPair(openpgp, { name: 'Alice', email: ALICE.address, passphrase: 'alice key pass', date: new Date('2026-01-01T00:00:00Z') });
  const put = await alice.request('PUT', '/api/v1/keys/me', { json: { public_key: pair.publicKey, private_key: pair.privateKey } });
  if (put.status !== 200) throw new Error(`PUT /keys/me: ${put.status} ${JSON.stringify(put.body)}`);
  return { h, alice, pair };
}

/** The inner MIME of TESTING.md §3's recipe: text (UTF-8) and a binary attachment. */
const INNER = 'Content-Type: multipart/mixed; boundary="inner-b"\r\n\r\n--inner-b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHello inside PGP/MIME é\r\n--inner-b\r\nContent-Type: application/octet-stream; name="data.bin"\r\nContent-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgc=\r\n--inner-b--\r\n';

t.test('gpg → box: PGP/MIME over SMTP opens with the core, signature checked against the contact key', T, async (t) => {
  const { h, alice, pair } = await aliceWithKey(t);
  const gpg = await startGpg(t, 'Gpg User', 'gpguser@remote.test');
  await gpg.run(['--import'], pair.publicKey);
  const armored = (await gpg.run(['--trust-model', 'always', '--armor', '--sign', '--encrypt', '-u', gpg.email, '-r', ALICE.address], INNER)).stdout.toString('utf8');
  const raw = [
    'From: Gpg User <gpguser@remote.test>', `To: Alice <${ALICE.address}>`, 'Subject: ...', 'Date: Sun, 01 Mar 2026 09:00:00 +0000',
    'Message-ID: <pgpmime-1@remote.test>', 'MIME-Version: 1.0', 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="outer"', '',
    'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)', '--outer', 'Content-Type: application/pgp-encrypted', 'Content-Description: PGP/MIME version identification', '',
    'Version: 1', '', '--outer', 'Content-Type: application/octet-stream; name="encrypted.asc"', 'Content-Disposition: inline; filename="encrypted.asc"', '',
    armored.trim(), '', '--outer--', '',
  ].join('\r\n');
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: h.smtp, secure: false, ignoreTLS: true, name: 'mx.remote.test' });
  await transport.sendMail({ envelope: { from: 'gpguser@remote.test', to: [ALICE.address] }, raw });
  const { db } = h.app.services.deps;
  await waitFor(async () => !!(await db('messages').where({ user_id: h.users.alice, message_id: 'pgpmime-1@remote.test' }).first()), 10_000, 'stored');
  const row = await db('messages').where({ user_id: h.users.alice, message_id: 'pgpmime-1@remote.test' }).first();

  const view = await alice.get(`/api/v1/messages/${row.id}`);
  t.equal(view.body.is_encrypted, true);
  t.same(view.body.attachments, [], 'neither the version part nor the encrypted payload is listed as an attachment');
  t.ok(view.body.pi.reasons.some((r: { signal: string }) => r.signal === 'PGP_ENCRYPTED'), 'PI: encrypted');

  // the browser's steps: its protected private key from the box, the raw message, the contact's key
  const mine = await alice.get('/api/v1/keys/me');
  const priv = await unlockPrivateKey(openpgp, mine.body.key.private_key, 'alice key pass');
  const added = await alice.post('/api/v1/keys/contacts', { address: 'gpguser@remote.test', key: await gpg.publicKey() });
  t.equal(added.status, 201);
  const rawBack = (await alice.get(`/api/v1/messages/${row.id}/raw`)).raw;
  const known = async () => (await alice.get('/api/v1/keys/contacts?address=gpguser@remote.test')).body.keys.map((k: { public_key: string; verified: boolean }) => k);
  const open = async () => openMessage(openpgp, rawBack, {
    decryptionKeys: [priv], knownKeys: await Promise.all((await known()).map(async (k: { public_key: string; verified: boolean }) => ({ key: await readAnyKey(openpgp, k.public_key), verified: k.verified }))),
  });
  const opened = await open();
  t.equal(opened.decrypted, true);
  t.equal(opened.text, 'Hello inside PGP/MIME é');
  t.same(opened.attachments.map((a) => [a.filename, [...a.content]]), [['data.bin', [0, 1, 2, 3, 4, 5, 6, 7]]]);
  t.equal(opened.signature.status, 'valid_unverified_key', 'good signature, key not verified yet');
  const verified = await alice.post(`/api/v1/keys/contacts/${added.body.key.id}/verify`, { verified: true });
  t.equal(verified.body.key.verified, true);
  t.equal((await open()).signature.status, 'valid', 'valid once the fingerprint is verified');
});

t.test('box → gpg: sealed by the core, sent through the send path, decrypted and verified by gpg', T, async (t) => {
  const sink = await startSink(t);
  const { h, alice, pair } = await aliceWithKey(t, { delivery: { mxPort: sink.port } });
  const gpg = await startGpg(t, 'Gpg User', 'gpguser@remote.test');
  await gpg.run(['--import'], pair.publicKey);
  t.equal((await alice.get('/api/v1/keys/lookup?address=gpguser@remote.test')).body.sealed, false, 'no key yet: a postcard');
  await alice.post('/api/v1/keys/contacts', { address: 'gpguser@remote.test', key: await gpg.publicKey() });
  const lookup = await alice.get('/api/v1/keys/lookup?address=gpguser@remote.test');
  t.equal(lookup.body.sealed, true, 'now sealed');

  const attachment = new Uint8Array(2048).map((_, i) => (i * 13 + 5) % 256);
  const { armored } = await buildSealedMessage(openpgp, {
    from: { name: 'Alice', address: ALICE.address }, to: [{ address: 'gpguser@remote.test' }], subject: 'Sealed for gpg',
    text: 'Bonjour GnuPG, ceci est scellé.', attachments: [{ filename: 'report.bin', content: attachment }], messageId: 'sealed-1@example.test',
  }, { encryptionKeys: [await readAnyKey(openpgp, lookup.body.recipients[0].public_key), await readAnyKey(openpgp, pair.publicKey)], signingKey: await unlockPrivateKey(openpgp, pair.privateKey, 'alice key pass') });
  const sent = await alice.post('/api/v1/messages/sealed', { to: ['gpguser@remote.test'], armored, message_id: 'sealed-1@example.test' });
  t.equal(sent.status, 200, JSON.stringify(sent.body));
  t.same(sent.body.queued, ['gpguser@remote.test']);
  // smtp-sink writes its dump as the data comes: wait for the whole message, not its first bytes
  await waitFor(() => sink.dumps().some((d) => d.text.includes('-----END PGP MESSAGE-----')), 15_000, 'delivered to the sink');

  const outer = sink.dumps()[0]!.text;
  t.match(outer, /^Subject: \.\.\.\r?$/m, 'the subject travels hidden');
  t.match(outer, /^Autocrypt: addr=alice@example\.test; prefer-encrypt=mutual; keydata=/m, 'Autocrypt header added');
  t.match(outer, /Content-Type: multipart\/encrypted; protocol="application\/pgp-encrypted"/);
  t.notMatch(outer, /Bonjour|Sealed for gpg/, 'no plaintext on the wire');

  const block = /-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----/.exec(outer)![0];
  const res = await gpg.run(['--status-fd', '1', '--trust-model', 'always', '--decrypt'], block.replace(/\r\n/g, '\n'));
  const status = gpgStatus(res.stdout);
  t.ok(status.some((l) => l.startsWith('GOODSIG ')), 'gpg: good signature');
  t.ok(status.some((l) => l.startsWith(`VALIDSIG ${pair.fingerprint}`)), 'by Alice’s key');
  t.ok(status.includes('DECRYPTION_OKAY'), 'gpg: decryption okay');
  const plain = res.stdout.toString('latin1').split('\n').filter((l) => !l.startsWith('[GNUPG:] ')).join('\n');
  const inner = await simpleParser(Buffer.from(plain, 'latin1'));
  t.equal(inner.subject, 'Sealed for gpg', 'protected subject inside');
  t.equal(inner.text?.trim(), 'Bonjour GnuPG, ceci est scellé.');
  t.equal(inner.attachments.length, 1);
  t.equal(inner.attachments[0]!.filename, 'report.bin');
  t.same([...inner.attachments[0]!.content], [...attachment], 'attachment intact');

  // the Sent copy is stored sealed: the box kept no plaintext
  const copy = await h.app.services.deps.db('messages').where({ id: sent.body.messageId }).first();
  t.equal(copy.is_encrypted, 1);
  t.notMatch((await h.app.services.deps.blobs.get(copy.blob_hash)).toString('latin1'), /Bonjour/);
});
