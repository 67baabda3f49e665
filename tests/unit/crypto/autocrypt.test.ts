/**
 * Autocrypt Level 1: header values (the spec's examples from the shared corpus, and invalid
 * ones), the peer-state rules of §5.1 and gossip (§2.7) as pure functions, and our own header
 * built from a key and read back.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { parseAutocryptHeader, buildAutocryptHeader, minimalKeyBytes, parseMime, generateKeyPair, readAnyKey } from '../../../web/js/pgp/index.js';
import { autocryptHeaderOf, effectiveDate, nextGossipState, nextPeerState, EMPTY_PEER } from '../../../server/crypto/autocrypt.js';
import { corpusDir, needsCorpus } from '../../helpers/corpus.js';

const SPEC = path.join(corpusDir, 'pgp/autocrypt-spec');
const headersOf = (file: string, name: string) => parseMime(fs.readFileSync(path.join(SPEC, file))).headers.filter(([k]) => k === name).map(([, v]) => v);

t.test('the spec examples parse into addr, prefer-encrypt and the key', needsCorpus(), async (t) => {
  const [value] = headersOf('example-simple-autocrypt.eml', 'autocrypt');
  const h = parseAutocryptHeader(value!);
  t.ok(h);
  t.equal(h!.addr, 'alice@autocrypt.example');
  t.equal(h!.preferEncrypt, 'mutual');
  const key = await readAnyKey(openpgp, h!.keydata);
  const alice = await openpgp.readKey({ armoredKey: fs.readFileSync(path.join(SPEC, 'alice@autocrypt.example.pub.asc'), 'utf8') });
  t.equal(key.getFingerprint(), alice.getFingerprint(), 'the keydata is Alice’s key');
  t.equal(autocryptHeaderOf([value!], 'Alice@Autocrypt.example')?.addr, 'alice@autocrypt.example', 'addr matches From case-insensitively');
  t.equal(autocryptHeaderOf([value!], 'mallory@autocrypt.example'), null, 'a header for another address than From is ignored');
  t.equal(autocryptHeaderOf([value!, value!], 'alice@autocrypt.example'), null, 'two valid headers count as none');

  const gossip = headersOf('example-gossip-cleartext.eml', 'autocrypt-gossip').map(parseAutocryptHeader);
  t.same(gossip.map((g) => g?.addr), ['bob@autocrypt.example', 'carol@autocrypt.example']);
  t.same(gossip.map((g) => g?.preferEncrypt), ['nopreference', 'nopreference']);
});

t.test('invalid header values are null', async (t) => {
  t.equal(parseAutocryptHeader('addr=a@b.test; keydata=AAAA; unknown=1'), null, 'unknown critical attribute');
  t.ok(parseAutocryptHeader('addr=a@b.test; _extra=1; keydata=AAAA'), 'non-critical attribute ignored');
  t.equal(parseAutocryptHeader('addr=a@b.test'), null, 'no keydata');
  t.equal(parseAutocryptHeader('keydata=AAAA'), null, 'no addr');
  t.equal(parseAutocryptHeader('addr=a@b.test; keydata=@@@'), null, 'keydata not base64');
  t.equal(parseAutocryptHeader('addr=a@b.test; addr=c@d.test; keydata=AAAA'), null, 'repeated attribute');
  t.equal(parseAutocryptHeader('addr=a@b.test; prefer-encrypt=maybe; keydata=AAAA')?.preferEncrypt, 'nopreference');
});

t.test('our header: a minimal key (one user ID, one encryption subkey), folded, read back', async (t) => {
  const pair = await generateKeyPair(openpgp, { email: 'me@one.test', passphrase: 'p' });
  const key = await readAnyKey(openpgp, pair.publicKey);
  const value = buildAutocryptHeader({ addr: 'me@one.test', keydata: await minimalKeyBytes(openpgp, key, 'me@one.test') });
  t.ok(value.split('\r\n').every((line) => line.length <= 78), 'lines fit a header');
  const back = parseAutocryptHeader(value.replace(/\r\n /g, ' '));
  t.equal(back?.addr, 'me@one.test');
  t.equal(back?.preferEncrypt, 'mutual');
  const min = await readAnyKey(openpgp, back!.keydata);
  t.equal(min.getFingerprint(), key.getFingerprint());
  t.equal(min.users.length, 1);
  t.equal(min.subkeys.length, 1);
  t.ok(await min.getEncryptionKey(), 'usable for encryption');
});

t.test('peer state rules (Level 1 §5.1 and gossip)', async (t) => {
  const day = 86_400_000;
  const first = nextPeerState(null, 10 * day, { preferEncrypt: 'mutual', keyId: 1 });
  t.same(first, { ...EMPTY_PEER, last_seen: 10 * day, autocrypt_timestamp: 10 * day, autocrypt_key_id: 1, prefer_encrypt: 'mutual' });
  t.equal(nextPeerState(first, 9 * day, { preferEncrypt: 'nopreference', keyId: 2 }), null, 'an older message changes nothing');
  const plain = nextPeerState(first, 12 * day, null);
  t.same(plain, { ...first!, last_seen: 12 * day }, 'a message without header only moves last_seen');
  const rekey = nextPeerState(plain, 13 * day, { preferEncrypt: 'nopreference', keyId: 3 });
  t.match(rekey, { autocrypt_timestamp: 13 * day, autocrypt_key_id: 3, prefer_encrypt: 'nopreference', last_seen: 13 * day });
  const g = nextGossipState(rekey, 14 * day, 4);
  t.match(g, { gossip_timestamp: 14 * day, gossip_key_id: 4, autocrypt_key_id: 3 });
  t.equal(nextGossipState(g, 14 * day, 5), null, 'gossip not newer is ignored');
  t.equal(effectiveDate(new Date(20 * day), 15 * day), 15 * day, 'a date in the future counts as now');
  t.equal(effectiveDate(null, 15 * day), 15 * day);
});
