/**
 * Sealed mail in real headless Chromium with GnuPG as the other side (issue 5): Alice makes her
 * key in the browser; Bob (gpg, a throwaway GNUPGHOME) sends her a PGP/MIME message, signed and
 * encrypted with an attachment, carrying his Autocrypt header; Alice opens it in the browser (her
 * passphrase; the box never sees the text), sees the signature verdict, then replies in the full
 * editor with a file: the composer says "sealed" (Bob's key came by Autocrypt), seals and signs in
 * the browser, and the copy caught by smtp-sink decrypts and verifies with gpg.
 */
import t from 'tap';
import nodemailer from 'nodemailer';
import { simpleParser } from 'mailparser';
import { startApi, remoteMx, ALICE } from '../helpers/api-app.js';
import { startSink, waitFor } from '../helpers/smtp-sink.js';
import { chromiumSkip } from '../helpers/browser.js';
import { gpgAvailable, gpgStatus, startGpg } from '../helpers/gnupg.js';
import { catalogue, deskLoggedIn, field } from '../helpers/web-app.js';
import { generateKeyPair } from '../../web/js/pgp/index.js';

const c = catalogue('en');
const PASSPHRASE = 'alice sealed passphrase';
const skip = chromiumSkip() || (gpgAvailable ? false : 'gpg not found at /usr/bin/gpg; skipped');

const INNER = [
  'Content-Type: multipart/mixed; boundary="inner"', '', '--inner', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '',
  'Hello Alice, this one is sealed by GnuPG. Déjà vu?', '--inner', 'Content-Type: text/plain; name="plan.txt"', 'Content-Disposition: attachment; filename="plan.txt"', '',
  'the secret plan', '--inner--', '',
].join('\r\n');

/** Autocrypt: addr=…; prefer-encrypt=mutual; keydata=… folded as a header must be. */
function autocryptHeader(addr: string, key: Buffer): string {
  const data = key.toString('base64').replace(/(.{72})/g, '$1\r\n ');
  return `Autocrypt: addr=${addr}; prefer-encrypt=mutual; keydata=\r\n ${data}`;
}

t.test('Chromium + GnuPG: key made in the browser, gpg mail opened, sealed reply with a file decrypts in gpg', { timeout: 240_000, skip }, async (t) => {
  const sink = await startSink(t);
  const h = await startApi(t, remoteMx(sink.port));
  // gpg dates its keys and signatures by the real clock: the box must not judge them from the past
  h.clock.advance(Date.now() - h.clock.now().getTime());
  const base = `http://127.0.0.1:${h.http}`;
  const { desk, page } = await deskLoggedIn(t, base, c, ALICE);

  // --- Alice makes her key in the browser (the timeline offers it while she has none) ----------------
  await page.getByRole('link', { name: c['keys.nudge_link'] }).click();
  await page.getByRole('heading', { name: c['keys.create_title'] }).waitFor();
  t.equal(desk.log.requests.filter((u) => u.includes('/vendor/openpgp')).length, 0, 'no OpenPGP code loaded until a key is needed');
  await field(page, c['keys.passphrase']!).fill(PASSPHRASE);
  await field(page, c['keys.passphrase_again']!).fill(PASSPHRASE);
  await page.getByRole('button', { name: c['keys.create'] }).click();
  await page.getByText(c['keys.created']!).waitFor({ timeout: 60_000 });
  await page.locator('svg.qr path').waitFor();
  t.equal(desk.log.requests.filter((u) => u.includes('/vendor/openpgp')).length, 1, 'loaded once, to make the key');
  const { db } = h.app.services.deps;
  const stored = await db('user_keys').where({ user_id: h.users.alice }).first();
  t.match(stored.private_armored, /-----BEGIN PGP PRIVATE KEY BLOCK-----/);
  t.equal((await page.locator('.fingerprint').textContent())!.replace(/\s/g, ''), stored.fingerprint, 'the fingerprint shown is the stored one');
  await page.getByRole('link', { name: c['nav.timeline'] }).click();
  await page.locator('.filters').waitFor();
  t.equal(await page.locator('.key-nudge').count(), 0, 'no more offer once the key exists');

  // --- Bob (gpg) writes to her, sealed and signed, with his Autocrypt header -----------------------
  const bob = await startGpg(t, 'Bob Remote', 'bob@remote.test');
  await bob.run(['--import'], stored.public_armored);
  const imported = (await bob.run(['--list-keys', '--with-colons', ALICE.address])).stdout.toString();
  t.match(imported, /^pub:/m, "gpg 2.2 takes the browser's key");
  const armored = (await bob.run(['--trust-model', 'always', '--armor', '--sign', '--encrypt', '-u', bob.email, '-r', ALICE.address], INNER)).stdout.toString('utf8');
  const bobKey = (await bob.run(['--export', bob.email])).stdout;
  const raw = [
    'From: Bob Remote <bob@remote.test>', `To: Alice <${ALICE.address}>`, 'Subject: ...', `Date: ${new Date().toUTCString()}`,
    'Message-ID: <sealed-from-gpg@remote.test>', autocryptHeader(bob.email, bobKey), 'MIME-Version: 1.0',
    'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="outer"', '',
    'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)', '--outer', 'Content-Type: application/pgp-encrypted', '', 'Version: 1', '',
    '--outer', 'Content-Type: application/octet-stream; name="encrypted.asc"', 'Content-Disposition: inline; filename="encrypted.asc"', '',
    armored.trim(), '', '--outer--', '',
  ].join('\r\n');
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: h.smtp, secure: false, ignoreTLS: true, name: 'mx.remote.test' });
  await transport.sendMail({ envelope: { from: bob.email, to: [ALICE.address] }, raw });
  transport.close();
  await waitFor(async () => !!(await db('contact_keys').where({ user_id: h.users.alice, address: bob.email }).first()), 10_000, "Bob's key learnt from his Autocrypt header");

  // --- opened in the browser (a reload: the key made above is no longer unlocked in memory) --------
  await page.goto(`${base}/#/timeline`);
  await page.reload();
  const row = page.locator('li.discussion', { hasText: 'Bob Remote' });
  await row.waitFor();
  await row.locator('a.summary').click();
  await page.getByText(c['sealed.closed']!).waitFor();
  await field(page, c['seal.passphrase_open']!).fill('not the passphrase');
  await page.getByRole('button', { name: c['sealed.open'] }).click();
  await page.getByText(c['error.wrong_passphrase']!).waitFor();
  await field(page, c['seal.passphrase_open']!).fill(PASSPHRASE);
  await page.locator('.sealed-closed').getByLabel(c['keys.remember']!).check();
  await page.getByRole('button', { name: c['sealed.open'] }).click();
  await page.getByText('Hello Alice, this one is sealed by GnuPG. Déjà vu?').waitFor({ timeout: 30_000 });
  await page.getByText(c['sealed.signature_valid_unverified_key']!).waitFor();
  // remembered on this device: after a reload it opens with no passphrase asked
  await page.reload();
  await page.getByText('Hello Alice, this one is sealed by GnuPG. Déjà vu?').waitFor({ timeout: 30_000 });
  t.equal(await page.locator('.sealed-closed').count(), 0, 'remembered on this device: no passphrase asked after a reload');
  const vault = await page.evaluate(() => new Promise<string>((resolve) => {
    const req = indexedDB.open('caliopen');
    req.onsuccess = () => {
      const get = req.result.transaction('vault').objectStore('vault').get('pgp');
      get.onsuccess = () => resolve(JSON.stringify({ extractable: get.result.wrapKey.extractable, clear: JSON.stringify(get.result).includes('sealed passphrase') }));
    };
  }));
  t.same(JSON.parse(vault), { extractable: false, clear: false }, 'the vault holds the passphrase sealed by a key that cannot be exported');
  const download = page.waitForEvent('download');
  await page.locator('.sealed-open .attachments a', { hasText: 'plan.txt' }).click();
  const file = await (await download).path();
  t.equal((await import('node:fs')).readFileSync(file!, 'utf8'), 'the secret plan', 'the attachment inside, decrypted in the browser');

  // --- a sealed reply with a file, Carol (whose key Alice holds) in copy --------------------------------
  const carol = await generateKeyPair(await import('openpgp'), { name: 'Carol', email: 'carol@remote.test', passphrase: 'carol passphrase', date: new Date(Date.now() - 86_400_000) });
  const api = h.client();
  await api.login(ALICE.username, ALICE.password);
  t.equal((await api.post('/api/v1/keys/contacts', { address: 'carol@remote.test', key: carol.publicKey })).status, 201);
  await page.getByRole('button', { name: c['discussion.full_editor'] }).click();
  await page.getByRole('heading', { name: c['compose.reply_title'] }).waitFor();
  await page.getByRole('button', { name: c['compose.show_cc'] }).click();
  await page.getByLabel(c['compose.cc']!, { exact: true }).fill('carol@remote.test');
  await page.getByLabel(c['compose.cc']!, { exact: true }).press('Enter');
  await page.locator('.seal-status.sealed', { hasText: '2' }).waitFor({ timeout: 20_000 });
  await field(page, c['compose.body']!).fill('Got it, Bob. Here is mine, sealed too.');
  await page.locator('.compose-attachments input[type=file]').setInputFiles({ name: 'answer.txt', mimeType: 'text/plain', buffer: Buffer.from('my sealed answer\n') });
  await page.locator('.compose-attachments li', { hasText: 'answer.txt' }).waitFor();
  await page.getByRole('button', { name: c['compose.send'], exact: true }).click();
  await page.getByRole('heading', { name: c['send.title'] }).waitFor({ timeout: 30_000 });
  // smtp-sink writes its dump as the data comes: wait for the whole sealed block
  await waitFor(() => sink.dumps().some((d) => d.rcpt.includes('<bob@remote.test>') && d.text.includes('-----END PGP MESSAGE-----')), 20_000, 'the reply at the sink');

  const wire = sink.dumps().find((d) => d.rcpt.includes('<bob@remote.test>'))!.text;
  t.match(wire, /Content-Type: multipart\/encrypted; protocol="application\/pgp-encrypted"/, 'PGP/MIME on the wire');
  t.match(wire, /^In-Reply-To: <sealed-from-gpg@remote\.test>\r?$/m, 'threaded');
  t.notMatch(wire, /Got it, Bob|my sealed answer|answer\.txt/, 'no plaintext, not even the file name');
  const block = /-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----/.exec(wire)![0];
  const res = await bob.run(['--status-fd', '1', '--trust-model', 'always', '--decrypt'], block.replace(/\r\n/g, '\n'));
  const status = gpgStatus(res.stdout);
  t.ok(status.includes('DECRYPTION_OKAY'), 'gpg decrypts it');
  t.ok(status.some((l) => l.startsWith(`VALIDSIG ${stored.fingerprint}`)), "gpg verifies Alice's signature");
  const plain = res.stdout.toString('latin1').split('\n').filter((l) => !l.startsWith('[GNUPG:] ')).join('\n');
  const inner = await simpleParser(Buffer.from(plain, 'latin1'));
  t.equal(inner.text?.trim(), 'Got it, Bob. Here is mine, sealed too.');
  t.same(inner.attachments.map((a) => [a.filename, a.content.toString('utf8')]), [['answer.txt', 'my sealed answer\n']], 'with its file');
  const gossip = inner.headerLines.filter((l) => l.key === 'autocrypt-gossip').map((l) => /addr=([^;\s]+)/.exec(l.line)?.[1]).sort();
  t.same(gossip, ['bob@remote.test', 'carol@remote.test'], "each recipient's key gossiped inside (Autocrypt §2.7)");
  t.equal(await db('drafts').where({ user_id: h.users.alice }).count({ n: '*' }).first().then((r) => Number(r!.n)), 0, 'the draft is gone');

  // --- sealed, then a recipient without a key: back to a postcard, nothing lost -----------------------
  await page.goto(`${base}/#/compose`);
  await page.getByRole('heading', { name: c['compose.title'] }).waitFor();
  await page.locator('.recipients input').first().fill('carol@remote.test');
  await page.locator('.recipients input').first().press('Enter');
  await page.locator('.seal-status.sealed').waitFor({ timeout: 20_000 });
  await field(page, c['compose.subject']!).fill('Picnic plans');
  await field(page, c['compose.body']!).fill('Bring the blue blanket.');
  await page.locator('.compose-attachments input[type=file]').setInputFiles({ name: 'map.txt', mimeType: 'text/plain', buffer: Buffer.from('north of the lake\n') });
  await page.locator('.compose-attachments li', { hasText: 'map.txt' }).waitFor();
  t.equal(await db('draft_attachments').count({ n: '*' }).first().then((r) => Number(r!.n)), 0, 'sealed: the file stays in the browser');
  await page.getByRole('button', { name: c['compose.show_cc'] }).click();
  await page.getByLabel(c['compose.cc']!, { exact: true }).fill('dave@remote.test');
  await page.getByLabel(c['compose.cc']!, { exact: true }).press('Enter');
  await page.locator('.seal-status.postcard', { hasText: 'dave@remote.test' }).waitFor({ timeout: 20_000 });
  await waitFor(async () => Number((await db('draft_attachments').count({ n: '*' }).first())!.n) === 1, 10_000, 'the kept file uploaded once it is a postcard');
  await page.getByRole('button', { name: c['compose.send'], exact: true }).click();
  await page.getByRole('heading', { name: c['send.title'] }).waitFor({ timeout: 30_000 });
  await waitFor(() => sink.dumps().some((d) => d.text.includes('Bring the blue blanket.') && /filename="?map\.txt/.test(d.text)), 20_000, 'the postcard at the sink, whole');
  const postcard = sink.dumps().find((d) => d.text.includes('Bring the blue blanket.'))!.text;
  t.match(postcard, /^Subject: Picnic plans\r?$/m, 'a postcard keeps its subject and text');
  t.match(postcard, /filename="?map\.txt/, 'and the file picked while it was sealed');

  t.same(desk.log.pageErrors, [], 'no uncaught exception');
  t.same(desk.log.requests.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).hostname !== '127.0.0.1'), [], 'nothing requested but 127.0.0.1');
});
