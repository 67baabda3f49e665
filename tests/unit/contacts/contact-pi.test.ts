/**
 * The contact PI: the rule on facts (pure), key strength steps for the OpenPGP issue, how the
 * delivery signal of the last message received reads, and the facts and history read from a real
 * mailbox built through the ingest pipeline.
 */
import t from 'tap';
import { testDeps, makeMessage } from '../../helpers/deps.js';
import { runSetup } from '../../../server/setup/first-run.js';
import { createIngestor } from '../../../server/mail/ingest.js';
import { createContact } from '../../../server/contacts/contacts.js';
import {
  CONTACT_WEIGHTS, keyStrength, presentContactPi, samePi, scoreContact, type ContactFacts,
} from '../../../server/contacts/contact-pi.js';
import { loadContactFacts, refreshContactPis, travelOf } from '../../../server/contacts/contact-pi-facts.js';

const none: ContactFacts = { keys: [], autocryptMutual: false, messages: 0, encrypted: 0, activePeriods: 0, lastReceived: null };
const points = (f: ContactFacts) => Object.fromEntries(scoreContact(f).reasons.map((r) => [r.signal, r.points]));

t.test('a stranger scores 0, and every missing point says why', async (t) => {
  const r = scoreContact(none);
  t.equal(r.score, 0);
  t.equal(r.letter, 'E');
  t.same(r.reasons.map((x) => x.signal), ['NO_KEY', 'NO_AUTOCRYPT', 'ENCRYPTED_EXCHANGES', 'IRREGULAR_EXCHANGES', 'TLS_UNKNOWN']);
  t.match(r.reasons[0], { detail: 'no key known' });
  t.match(r.reasons[4], { detail: 'nothing received yet' });
});

t.test('encrypted share, regular exchanges and TLS add up; keys and Autocrypt count once supported', async (t) => {
  const f: ContactFacts = { ...none, messages: 8, encrypted: 2, activePeriods: 3, lastReceived: { travel: 'tls', detail: 'TLS 1.3' } };
  t.same(points(f), { NO_KEY: 0, NO_AUTOCRYPT: 0, ENCRYPTED_EXCHANGES: 5, REGULAR_EXCHANGES: 10, TLS_REACHABLE: 10 });
  t.equal(scoreContact(f).score, 25);
  t.same(scoreContact(f).axes, { keys: 0, exchanges: 15, travel: 10 });
  t.equal(points({ ...f, activePeriods: 2 }).IRREGULAR_EXCHANGES, 0, 'two periods out of six is not regular');
  t.equal(points({ ...f, encrypted: 8 }).ENCRYPTED_EXCHANGES, 20, 'all encrypted: the whole 20');
  t.equal(points({ ...f, lastReceived: { travel: 'local', detail: null } }).TLS_REACHABLE, 10, 'from inside the box counts');
  t.equal(points({ ...f, lastReceived: { travel: 'plain', detail: 'no TLS' } }).TLS_NOT_REACHABLE, 0);
  t.equal(points({ ...f, lastReceived: { travel: 'old_tls', detail: null } }).TLS_NOT_REACHABLE, 0);
  t.equal(points({ ...f, lastReceived: { travel: 'unknown', detail: null } }).TLS_UNKNOWN, 0);
  const keyed = scoreContact({ ...f, keys: [{ algorithm: 'rsa', bits: 2048, verified: false }, { algorithm: 'ecc', bits: null, verified: true }], autocryptMutual: true });
  t.same(keyed.reasons.slice(0, 3).map((r) => [r.signal, r.points]), [['KEY_STRONG', 30], ['KEY_VERIFIED', 20], ['AUTOCRYPT_MUTUAL', 10]], 'the best key counts');
  t.equal(keyed.score, 85);
  t.equal(keyed.letter, 'A');
});

t.test('key strength steps', async (t) => {
  t.equal(keyStrength({ algorithm: 'ecc', bits: null, verified: false }), 'KEY_STRONG');
  t.equal(keyStrength({ algorithm: 'rsa', bits: 4096, verified: false }), 'KEY_STRONG');
  t.equal(keyStrength({ algorithm: 'rsa', bits: 3072, verified: false }), 'KEY_STRONG');
  t.equal(keyStrength({ algorithm: 'rsa', bits: 2048, verified: false }), 'KEY_RSA_2048');
  t.equal(keyStrength({ algorithm: 'rsa', bits: 1024, verified: false }), 'KEY_WEAK');
  t.equal(keyStrength({ algorithm: 'dsa', bits: 3072, verified: false }), 'KEY_WEAK');
});

t.test('every reason has help in English and French, and the user gets theirs', async (t) => {
  for (const [id, w] of Object.entries(CONTACT_WEIGHTS)) {
    t.ok(w.help.en.length > 20 && w.help.fr.length > 20, `${id} explained in both languages`);
    t.not(w.help.en, w.help.fr, `${id} translated`);
  }
  const fr = presentContactPi(scoreContact(none), 'fr');
  t.match(fr.reasons[0], { signal: 'NO_KEY', help: /Aucune clé OpenPGP/ });
});

t.test('history changes with the score or a reason, not with a count in a detail', async (t) => {
  const a = scoreContact({ ...none, messages: 8, encrypted: 0 });
  t.ok(samePi(a, scoreContact({ ...none, messages: 9, encrypted: 0 })), 'one more plain message: same PI');
  t.notOk(samePi(a, scoreContact({ ...none, messages: 9, encrypted: 1 })), 'an encrypted one moves the score');
});

t.test('the delivery signal of the last message received', async (t) => {
  t.same(travelOf(JSON.stringify({ privacy: [{ id: 'MTA_STS' }, { id: 'TLS_1_3', detail: 'TLSv1.3 TLS_AES_256_GCM_SHA384' }, { id: 'ALL_HOPS_TLS' }] })), { travel: 'tls', detail: 'TLS 1.3 (TLSv1.3 TLS_AES_256_GCM_SHA384)' });
  t.match(travelOf(JSON.stringify({ privacy: [{ id: 'NO_TLS', detail: 'recorded by mx.example' }] })), { travel: 'plain' });
  t.match(travelOf(JSON.stringify({ privacy: [{ id: 'LOCAL_DELIVERY' }] })), { travel: 'local' });
  t.match(travelOf(JSON.stringify({ privacy: [{ id: 'DKIM_PASS_ALIGNED' }] })), { travel: 'unknown' }, 'an import with no Received stamp');
  t.match(travelOf('not json'), { travel: 'unknown' });
});

const ENCRYPTED_BODY = ['MIME-Version: 1.0', 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b1"', '', '--b1',
  'Content-Type: application/pgp-encrypted', '', 'Version: 1', '--b1', 'Content-Type: application/octet-stream', '',
  '-----BEGIN PGP MESSAGE-----', 'hQEMA0+VZ4e8dOoUAQf/ZZ', '-----END PGP MESSAGE-----', '--b1--', ''];

function encrypted(date: string): Buffer {
  return Buffer.from(['From: Carol <carol@remote.test>', 'To: Alice <alice@example.test>', 'Subject: sealed', `Date: ${date}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@remote.test>`, ...ENCRYPTED_BODY].join('\r\n'));
}

t.test('facts from a mailbox: six 30-day periods back from now, encrypted share, TLS of the last message received, history', async (t) => {
  const deps = await testDeps();
  const ingestor = createIngestor(deps);
  t.teardown(async () => {
    await ingestor.drain();
    await deps.close();
  });
  const alice = (await runSetup(deps.db, deps.clock, { domain: 'example.test', admin: 'alice', password: 'correct horse battery' })).id;
  const tls = { tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' }, clientIp: '127.0.0.1', helo: 'mx.remote.test' };
  // now is 2026-03-01T10:00Z (the test clock)
  await ingestor.ingest({ source: 'smtp', raw: encrypted('Wed, 25 Feb 2026 09:00:00 +0000'), userIds: [alice], transport: tls }); // period 0
  await ingestor.ingest({ source: 'sent', raw: makeMessage({ from: 'Alice <alice@example.test>', to: 'Carol <carol@remote.test>', date: 'Tue, 20 Jan 2026 09:00:00 +0000' }), userIds: [alice] }); // period 1
  await ingestor.ingest({ source: 'mbox', raw: makeMessage({ date: 'Wed, 10 Dec 2025 09:00:00 +0000' }), userIds: [alice] }); // period 2
  await ingestor.ingest({ source: 'mbox', raw: makeMessage({ date: 'Sun, 01 Jun 2025 09:00:00 +0000' }), userIds: [alice] }); // beyond six periods
  await ingestor.ingest({ source: 'mbox', raw: makeMessage({ date: 'Mon, 23 Feb 2026 09:00:00 +0000', subject: 'You won a cruise', body: 'Claim your free cruise prize now, click here to win cash' }), userIds: [alice] });
  await deps.db('messages').where({ subject: 'You won a cruise' }).update({ is_spam: true }); // spam is no exchange
  const carol = (await deps.db('contact_emails').where({ user_id: alice, address: 'carol@remote.test' }).first('contact_id')).contact_id as number;
  const dave = (await createContact(deps.db, alice, { emails: ['dave@plain.test'] }, { now: deps.clock.now().getTime(), lang: 'en' })).id;
  await ingestor.ingest({ source: 'smtp', raw: makeMessage({ from: 'dave@plain.test' }), userIds: [alice], transport: { tls: null, clientIp: '127.0.0.1', helo: 'plain.test' } });

  const now = deps.clock.now().getTime();
  const facts = await loadContactFacts(deps.db, alice, [carol, dave], now);
  t.match(facts.get(carol), { messages: 4, encrypted: 1, activePeriods: 3, lastReceived: { travel: 'tls' }, discussions: 1 });
  t.match(facts.get(dave), { messages: 1, encrypted: 0, activePeriods: 1, lastReceived: { travel: 'plain' } });

  const first = await refreshContactPis(deps.db, alice, [carol, dave], now, true);
  t.equal(first.get(carol)!.report.score, 25, '5 (1 of 4 encrypted) + 10 regular + 10 TLS');
  t.equal(first.get(dave)!.report.score, 0);
  const history = () => deps.db('pi_reports').where({ object_type: 'contact', object_id: carol }).orderBy('id').select('score', 'reasons_json');
  t.equal((await history()).length, 1);
  t.match(await deps.db('contacts').where({ id: carol }).first('pi_score', 'pi_letter'), { pi_score: 25, pi_letter: 'D' }, 'cached for the list');
  t.equal((await refreshContactPis(deps.db, alice, [carol], now)).size, 0, 'fresh cache: nothing recomputed');
  await refreshContactPis(deps.db, alice, [carol], now, true);
  t.equal((await history()).length, 1, 'same PI: no new history row');

  deps.clock.advance(60_000);
  await ingestor.ingest({ source: 'smtp', raw: encrypted('Sun, 01 Mar 2026 10:00:30 +0000'), userIds: [alice], transport: tls });
  const later = await refreshContactPis(deps.db, alice, [carol, dave], deps.clock.now().getTime());
  t.same([...later.keys()], [carol], 'only the contact with new mail was stale');
  t.equal(later.get(carol)!.report.score, 28, '2 of 5 encrypted: 8 points');
  t.same((await history()).map((h) => h.score), [25, 28]);
});
