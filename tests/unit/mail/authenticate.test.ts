import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { dkimSign } from 'mailauth';
import { simpleParser } from 'mailparser';
import { authenticateMessage } from '../../../server/mail/authenticate.js';
import type { AuthResults, SenderHistory } from '../../../server/mail/types.js';
import { collectPrivacySignals, computePi } from '../../../server/privacy/index.js';
import { zoneResolver, type Zones } from '../../helpers/dns.js';
import { corpusDir, needsCorpus } from '../../helpers/corpus.js';

// Keys made for this run only: nothing secret is stored, and a stale fixture cannot make a test pass
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');
const esp = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();
const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
// RFC 8463 §4.2: an Ed25519 DKIM key record holds the raw 32-byte key, not an SPKI structure
const edRaw = spki(ed.publicKey).subarray(-32).toString('base64');
// TXT strings are at most 255 octets (RFC 1035 §3.3.14): publish the RSA key in chunks, as a zone would
const chunks = (s: string) => s.match(/.{1,250}/g) ?? [];

const zones: Zones = {
  's1._domainkey.example.org': { TXT: [chunks(`v=DKIM1; k=rsa; p=${spki(rsa.publicKey).toString('base64')}`)] },
  'ed._domainkey.example.org': { TXT: [[`v=DKIM1; k=ed25519; p=${edRaw}`]] },
  'mail._domainkey.esp.example': { TXT: [chunks(`v=DKIM1; k=rsa; p=${spki(esp.publicKey).toString('base64')}`)] },
  'example.org': { TXT: [['v=spf1 ip4:192.0.2.1 -all']] },
  'mx.example.org': { TXT: [['v=spf1 a -all']], A: ['192.0.2.1'] },
  '_dmarc.example.org': { TXT: [['v=DMARC1; p=reject']] },
};

const MESSAGE = [
  'From: Alice <alice@example.org>',
  'To: Bob <bob@caliopen.test>',
  'Subject: Dinner',
  'Date: Tue, 12 Mar 2024 10:00:00 +0100',
  'Message-ID: <dinner-1@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'See you at eight.',
  '',
].join('\r\n');

async function sign(message: string, d: string, selector: string, key: KeyObject, algorithm = 'rsa-sha256'): Promise<string> {
  const entry = { signingDomain: d, selector, privateKey: pem(key), algorithm };
  const res = await dkimSign(message, { ...entry, signatureData: [entry] });
  if (res.errors.length) throw res.errors[0];
  return res.signatures + message;
}

const stranger: SenderHistory = { isKnownContact: false, contactHasKey: false, userWroteTo: 0, receivedBefore: 0, markedSpamBefore: 0 };
async function piReasons(raw: string, auth: AuthResults): Promise<string[]> {
  const parsed = await simpleParser(Buffer.from(raw));
  const signals = collectPrivacySignals({ parsed, raw: Buffer.from(raw), transport: null, auth, sender: stranger, source: 'smtp' });
  return computePi(signals).reasons.map((r) => r.signal);
}
const smtp = { ip: '192.0.2.1', helo: 'mx.example.org', mailFrom: 'alice@example.org', mta: 'box.caliopen.test' };

t.test('RSA-signed, allowed server: DKIM, SPF and DMARC pass', async (t) => {
  const raw = await sign(MESSAGE, 'example.org', 's1', rsa.privateKey);
  const auth = await authenticateMessage(Buffer.from(raw), { ...smtp, resolver: zoneResolver(zones) });
  t.same(auth.dkim, [{ result: 'pass', domain: 'example.org', selector: 's1', aligned: true }]);
  t.same(auth.spf, { result: 'pass', domain: 'example.org' });
  t.same(auth.dmarc, { result: 'pass', policy: 'reject', domain: 'example.org' });
  t.same(auth.arc, { result: 'none' });
  t.equal(auth.headerFrom, 'alice@example.org');
  t.same(auth.summary, [
    'signed by example.org, verified',
    'sent from a server allowed by example.org (SPF)',
    'DMARC policy of example.org: pass (policy reject)',
  ]);
  const reasons = await piReasons(raw, auth);
  t.ok(reasons.includes('DKIM_PASS_ALIGNED') && reasons.includes('SPF_PASS') && reasons.includes('DMARC_PASS'), reasons.join(' '));
});

t.test('Ed25519-signed (RFC 8463) passes too', async (t) => {
  const raw = await sign(MESSAGE, 'example.org', 'ed', ed.privateKey, 'ed25519-sha256');
  const auth = await authenticateMessage(Buffer.from(raw), { ...smtp, resolver: zoneResolver(zones) });
  t.same(auth.dkim, [{ result: 'pass', domain: 'example.org', selector: 'ed', aligned: true }]);
  t.ok((await piReasons(raw, auth)).includes('DKIM_PASS_ALIGNED'));
});

t.test('body altered after signing, server not allowed: fail everywhere, no points', async (t) => {
  const raw = (await sign(MESSAGE, 'example.org', 's1', rsa.privateKey)).replace('eight', 'nine');
  const auth = await authenticateMessage(Buffer.from(raw), { ...smtp, ip: '192.0.2.66', resolver: zoneResolver(zones) });
  t.same(auth.dkim, [{ result: 'fail', domain: 'example.org', selector: 's1', aligned: false }]);
  t.equal(auth.spf.result, 'fail');
  t.equal(auth.dmarc.result, 'fail');
  t.same(auth.summary, [
    'signature by example.org does not verify',
    'sent from a server not allowed by example.org (SPF)',
    'DMARC policy of example.org: fail (policy reject)',
  ]);
  const reasons = await piReasons(raw, auth);
  t.notOk(reasons.includes('DKIM_PASS_ALIGNED'), 'a present but broken signature earns nothing');
  t.ok(reasons.includes('DKIM_FAIL') && reasons.includes('SPF_FAIL') && reasons.includes('DMARC_FAIL'), reasons.join(' '));
});

t.test('a signed header changed after signing fails as well', async (t) => {
  const raw = (await sign(MESSAGE, 'example.org', 's1', rsa.privateKey)).replace('Subject: Dinner', 'Subject: Lunch');
  const auth = await authenticateMessage(Buffer.from(raw), { ...smtp, resolver: zoneResolver(zones) });
  t.equal(auth.dkim[0]?.result, 'fail');
  t.equal(auth.dmarc.result, 'pass', 'SPF alone still aligns for DMARC');
});

t.test('not signed: none, and DMARC passes through aligned SPF only', async (t) => {
  const auth = await authenticateMessage(Buffer.from(MESSAGE), { ...smtp, resolver: zoneResolver(zones) });
  t.same(auth.dkim, []);
  t.equal(auth.summary[0], 'not signed');
  t.equal(auth.spf.result, 'pass');
  t.equal(auth.dmarc.result, 'pass');
  const reasons = await piReasons(MESSAGE, auth);
  t.ok(reasons.includes('DKIM_NONE'));
  t.notOk(reasons.some((r) => r.startsWith('DKIM_PASS')));
});

t.test('signed by a mailing service: verified but not aligned', async (t) => {
  const raw = await sign(MESSAGE, 'esp.example', 'mail', esp.privateKey);
  const auth = await authenticateMessage(Buffer.from(raw), { ...smtp, ip: '192.0.2.66', resolver: zoneResolver(zones) });
  t.same(auth.dkim, [{ result: 'pass', domain: 'esp.example', selector: 'mail', aligned: false }]);
  t.equal(auth.dmarc.result, 'fail', 'neither identifier aligns with example.org');
  t.match(auth.summary[0], /signed by esp\.example, verified \(not the sender/);
  const reasons = await piReasons(raw, auth);
  t.ok(reasons.includes('DKIM_PASS_UNALIGNED'));
  t.notOk(reasons.includes('DKIM_PASS_ALIGNED'));
});

t.test('import without an IP: SPF none and never queried, DKIM and DMARC still run', async (t) => {
  const raw = await sign(MESSAGE, 'example.org', 's1', rsa.privateKey);
  const resolver = zoneResolver(zones);
  const auth = await authenticateMessage(Buffer.from(raw), { mailFrom: 'alice@example.org', mta: 'box.caliopen.test', resolver });
  t.same(auth.spf, { result: 'none', domain: 'example.org' });
  t.equal(auth.dkim[0]?.result, 'pass');
  t.equal(auth.dmarc.result, 'pass');
  t.ok(auth.summary.includes('sending server unknown (imported), SPF not checked'));
  t.notOk(resolver.queries.includes('TXT example.org'), `no SPF lookup: ${resolver.queries.join(', ')}`);
});

t.test('null sender (a bounce): SPF checks the HELO name (RFC 7208 §2.4)', async (t) => {
  const auth = await authenticateMessage(Buffer.from(MESSAGE), { ...smtp, mailFrom: null, resolver: zoneResolver(zones) });
  t.same(auth.spf, { result: 'pass', domain: 'mx.example.org' });
});

t.test('DNS trouble is a temperror, not a verdict', async (t) => {
  const raw = await sign(MESSAGE, 'example.org', 's1', rsa.privateKey);
  const failing = async () => {
    throw Object.assign(new Error('queryTxt ETIMEOUT'), { code: 'ETIMEOUT' });
  };
  const auth = await authenticateMessage(Buffer.from(raw), { ...smtp, resolver: failing });
  t.equal(auth.dkim[0]?.result, 'temperror');
  t.equal(auth.spf.result, 'temperror');
  t.equal(auth.summary[0], 'signature by example.org could not be checked (temperror)');
  t.notOk((await piReasons(raw, auth)).some((r) => r.endsWith('_PASS') || r === 'DKIM_PASS_ALIGNED'));
});

t.test('malformed input never throws', async (t) => {
  const inputs = [
    Buffer.alloc(0),
    Buffer.from('garbage'),
    Buffer.from([0, 255, 13, 10, 0, 1]),
    Buffer.from('DKIM-Signature: v=1; a=rsa-sha256; d=; s=;\r\nFrom: x@example.org\r\n\r\nhi'),
  ];
  for (const raw of inputs) {
    for (const ip of [undefined, '192.0.2.1', 'not-an-ip']) {
      const auth = await authenticateMessage(raw, { ip, mta: 'box.caliopen.test', mailFrom: 'not an address', resolver: zoneResolver(zones) });
      t.type(auth.spf.result, 'string', `${raw.length} bytes, ip ${ip}`);
    }
  }
});

t.test('a mailauth crash becomes temperror results', async (t) => {
  const boom = async () => {
    throw new Error('boom');
  };
  const brokenMailauth = { authenticate: boom, dkimVerify: boom, arc: async () => ({}), dmarc: async () => false };
  const { authenticateMessage: withBrokenLib } = await t.mockImport<typeof import('../../../server/mail/authenticate.js')>(
    '../../../server/mail/authenticate.js',
    { mailauth: brokenMailauth },
  );
  for (const ip of ['192.0.2.1', undefined]) {
    const auth = await withBrokenLib(Buffer.from(MESSAGE), { ip, mta: 'box.caliopen.test', resolver: zoneResolver(zones) });
    t.same([auth.spf.result, auth.dmarc.result, auth.dkim], ['temperror', 'temperror', []]);
    t.match(auth.summary[0], /could not be checked \(boom\)/);
  }
});

t.test('corpus: the RFC 8463 Ed25519 + RSA signed message verifies with its published keys', needsCorpus(), async (t) => {
  const dir = path.join(corpusDir, 'dkim/mailauth/dkim-ec');
  const dns = JSON.parse(fs.readFileSync(path.join(dir, 'dns.json'), 'utf8')) as Zones;
  const raw = fs.readFileSync(path.join(dir, 'signed.eml'));
  const auth = await authenticateMessage(raw, { mta: 'box.caliopen.test', resolver: zoneResolver(dns) });
  t.same(auth.dkim, [
    { result: 'pass', domain: 'football.example.com', selector: 'brisbane', aligned: true },
    { result: 'pass', domain: 'football.example.com', selector: 'test', aligned: true },
  ]);
  t.equal(auth.spf.result, 'none', 'no IP: SPF is not evaluated');
  t.equal(auth.dmarc.result, 'none', 'football.example.com publishes no DMARC record');
  const reasons = await piReasons(raw.toString('latin1'), auth);
  t.ok(reasons.includes('DKIM_PASS_ALIGNED'));

  // the same bytes with a changed body no longer verify
  const tampered = Buffer.from(raw.toString('latin1').replace('We lost the game', 'We won the game'), 'latin1');
  const bad = await authenticateMessage(tampered, { mta: 'box.caliopen.test', resolver: zoneResolver(dns) });
  t.same(bad.dkim.map((d) => d.result), ['fail', 'fail']);
});
