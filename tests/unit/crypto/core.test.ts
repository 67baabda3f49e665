/**
 * The OpenPGP core (web/js/pgp/) in Node, with openpgp injected as the browser will: key pairs
 * (v4, curve25519Legacy or RSA, always passphrase-protected), passphrase change, revocation, and a
 * sealed message built, then opened with its attachments, protected subject and signature verdicts.
 */
import t from 'tap';
import * as openpgp from 'openpgp';
import {
  generateKeyPair, importPrivateKey, unlockPrivateKey, changePassphrase, revokeKeyPair, keyFacts, formatFingerprint, fingerprintUri,
  buildSealedMessage, openMessage, readAnyKey,
} from '../../../web/js/pgp/index.js';

const alice = await generateKeyPair(openpgp, { name: 'Alice Ä', email: 'alice@one.test', passphrase: 'alice pass' });
const bob = await generateKeyPair(openpgp, { name: 'Bob', email: 'bob@two.test', passphrase: 'bob pass' });

t.test('a generated key pair is v4 ECC (curve25519Legacy), protected by its passphrase', async (t) => {
  const priv = await openpgp.readPrivateKey({ armoredKey: alice.privateKey });
  t.equal(priv.keyPacket.version, 4);
  t.equal(priv.getAlgorithmInfo().algorithm, 'eddsaLegacy');
  t.notOk(priv.isDecrypted(), 'stored encrypted');
  t.equal((await priv.getEncryptionKey()).getAlgorithmInfo().algorithm, 'ecdh');
  const facts = await keyFacts(await readAnyKey(openpgp, alice.publicKey));
  t.match(facts, { fingerprint: alice.fingerprint, algorithm: 'ecc', revoked: false, isPrivate: false, canEncrypt: true });
  t.same(facts.userIds, ['Alice Ä <alice@one.test>']);
  await t.rejects(unlockPrivateKey(openpgp, alice.privateKey, 'wrong'), 'a wrong passphrase does not unlock it');
  t.ok((await unlockPrivateKey(openpgp, alice.privateKey, 'alice pass')).isDecrypted());
  await t.rejects(generateKeyPair(openpgp, { email: 'x@one.test', passphrase: '' }), /passphrase is required/);
});

t.test('RSA on request; fingerprints shown in groups of four and as a QR payload', async (t) => {
  const rsa = await generateKeyPair(openpgp, { email: 'r@one.test', passphrase: 'p', type: 'rsa', rsaBits: 2048 });
  const facts = await keyFacts(await readAnyKey(openpgp, rsa.publicKey));
  t.match(facts, { algorithm: 'rsa', bits: 2048 });
  t.match(formatFingerprint(rsa.fingerprint), /^([0-9A-F]{4} ){9}[0-9A-F]{4}$/);
  t.equal(fingerprintUri('ab cd'), 'OPENPGP4FPR:ABCD');
});

t.test('import (an unprotected key gets the passphrase), change passphrase, revoke', async (t) => {
  const { privateKey: plain } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'c@one.test' }], format: 'armored' });
  const imported = await importPrivateKey(openpgp, plain, '', 'new pass');
  t.notOk((await openpgp.readPrivateKey({ armoredKey: imported.privateKey })).isDecrypted(), 'protected once imported');
  const changed = await changePassphrase(openpgp, imported.privateKey, 'new pass', 'newer pass');
  await t.rejects(unlockPrivateKey(openpgp, changed, 'new pass'));
  t.ok(await unlockPrivateKey(openpgp, changed, 'newer pass'));
  const revoked = await revokeKeyPair(openpgp, changed, 'newer pass');
  t.equal(revoked.fingerprint, imported.fingerprint);
  t.equal((await keyFacts(await readAnyKey(openpgp, revoked.publicKey))).revoked, true);
  t.notOk((await openpgp.readPrivateKey({ armoredKey: revoked.privateKey })).isDecrypted(), 'the revoked private key stays protected');
});

t.test('a sealed message opens for each recipient with its attachments, protected subject and a valid signature', async (t) => {
  const alicePriv = await unlockPrivateKey(openpgp, alice.privateKey, 'alice pass');
  const alicePub = await readAnyKey(openpgp, alice.publicKey);
  const bobPub = await readAnyKey(openpgp, bob.publicKey);
  const bin = new Uint8Array(300).map((_, i) => (i * 7) % 256);
  const { armored, inner } = await buildSealedMessage(openpgp, {
    from: { name: 'Alice Ä', address: 'alice@one.test' }, to: [{ address: 'bob@two.test' }], subject: 'Secret plans – été',
    text: 'Hello Bob,\nthe plan is inside.\n', html: '<p>Hello <b>Bob</b></p>',
    attachments: [{ filename: 'plan été.bin', contentType: 'application/octet-stream', content: bin }], messageId: 'm1@one.test',
  }, { encryptionKeys: [bobPub, alicePub], signingKey: alicePriv });
  t.match(inner, /protected-headers="v1"/);
  t.notMatch(armored, /Secret plans/);
  const raw = `From: alice@one.test\r\nTo: bob@two.test\r\nSubject: ...\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n${armored}\r\n--b--\r\n`;
  for (const [who, priv, verified] of [['bob', await unlockPrivateKey(openpgp, bob.privateKey, 'bob pass'), true], ['alice (her Sent copy)', alicePriv, false]] as const) {
    const opened = await openMessage(openpgp, raw, { decryptionKeys: [priv], knownKeys: [{ key: alicePub, verified }] });
    t.equal(opened.encryption, 'pgp-mime', who);
    t.equal(opened.decrypted, true, who);
    t.equal(opened.subject, 'Secret plans – été', `${who}: protected subject`);
    t.equal(opened.text, 'Hello Bob,\r\nthe plan is inside.\r\n');
    t.equal(opened.html, '<p>Hello <b>Bob</b></p>');
    t.equal(opened.attachments.length, 1);
    t.equal(opened.attachments[0]!.filename, 'plan été.bin');
    t.same([...opened.attachments[0]!.content], [...bin], 'attachment bytes intact');
    t.equal(opened.signature.status, verified ? 'valid' : 'valid_unverified_key', `${who}: signature`);
  }
  const stranger = await openMessage(openpgp, raw, { decryptionKeys: [await unlockPrivateKey(openpgp, bob.privateKey, 'bob pass')], knownKeys: [] });
  t.equal(stranger.signature.status, 'unknown_key', 'without the sender key: unknown key');
  const other = await generateKeyPair(openpgp, { email: 'eve@x.test', passphrase: 'e' });
  const locked = await openMessage(openpgp, raw, { decryptionKeys: [await unlockPrivateKey(openpgp, other.privateKey, 'e')] });
  t.equal(locked.decrypted, false);
  t.ok(locked.error, 'says why it could not be opened');
});

t.test('a tampered signed part is bad; an intact one is valid', async (t) => {
  const alicePriv = await unlockPrivateKey(openpgp, alice.privateKey, 'alice pass');
  const alicePub = await readAnyKey(openpgp, alice.publicKey);
  // RFC 3156 §5: the signed part ends before the CRLF that precedes the boundary
  const part = 'Content-Type: text/plain; charset=utf-8\r\n\r\nPay 10 euros.';
  const sig = await openpgp.sign({ message: await openpgp.createMessage({ binary: new TextEncoder().encode(part) }), signingKeys: alicePriv, detached: true });
  const mail = (body: string) => `From: alice@one.test\r\nContent-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="s"\r\n\r\n--s\r\n${body}\r\n--s\r\nContent-Type: application/pgp-signature\r\n\r\n${sig}\r\n--s--\r\n`;
  const good = await openMessage(openpgp, mail(part), { knownKeys: [{ key: alicePub, verified: true }] });
  t.equal(good.signature.status, 'valid');
  t.equal(good.text, 'Pay 10 euros.');
  const bad = await openMessage(openpgp, mail(part.replace('10', '1000')), { knownKeys: [{ key: alicePub, verified: true }] });
  t.equal(bad.signature.status, 'bad');
  const unsigned = await openMessage(openpgp, 'From: a@b.test\r\n\r\nplain\r\n');
  t.equal(unsigned.signature.status, 'none');
  t.equal(unsigned.encryption, 'none');
});

t.test('inline PGP: an armored body and a .pgp attachment open; a clear-signed body verifies', async (t) => {
  const alicePriv = await unlockPrivateKey(openpgp, alice.privateKey, 'alice pass');
  const alicePub = await readAnyKey(openpgp, alice.publicKey);
  const bobPub = await readAnyKey(openpgp, bob.publicKey);
  const body = await openpgp.encrypt({ message: await openpgp.createMessage({ text: 'Inline secret é' }), encryptionKeys: bobPub, signingKeys: alicePriv });
  const file = (await openpgp.encrypt({ message: await openpgp.createMessage({ binary: new Uint8Array([9, 8, 7]) }), encryptionKeys: bobPub, format: 'binary' })) as Uint8Array;
  const raw = [
    'From: alice@one.test', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="x"', '', '--x', 'Content-Type: text/plain; charset=utf-8', '', body,
    '--x', 'Content-Type: application/octet-stream; name="data.bin.pgp"', 'Content-Disposition: attachment; filename="data.bin.pgp"', 'Content-Transfer-Encoding: base64', '',
    Buffer.from(file).toString('base64'), '--x--', '',
  ].join('\r\n');
  const opened = await openMessage(openpgp, raw, { decryptionKeys: [await unlockPrivateKey(openpgp, bob.privateKey, 'bob pass')], knownKeys: [{ key: alicePub }] });
  t.equal(opened.encryption, 'inline');
  t.match(opened.text, /Inline secret é/);
  t.equal(opened.signature.status, 'valid_unverified_key');
  t.same(opened.attachments.map((a) => [a.filename, [...a.content]]), [['data.bin', [9, 8, 7]]]);

  const clear = await openpgp.sign({ message: await openpgp.createCleartextMessage({ text: 'I said this.' }), signingKeys: alicePriv });
  const signed = await openMessage(openpgp, `From: alice@one.test\r\nContent-Type: text/plain\r\n\r\n${clear}`, { knownKeys: [{ key: alicePub }] });
  t.equal(signed.signature.status, 'valid_unverified_key');
  t.equal(signed.text.trim(), 'I said this.');
  const forged = await openMessage(openpgp, `From: alice@one.test\r\nContent-Type: text/plain\r\n\r\n${clear.replace('I said this.', 'I never said this.')}`, { knownKeys: [{ key: alicePub }] });
  t.equal(forged.signature.status, 'bad');
});
