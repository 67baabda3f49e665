import t from 'tap';
import { simpleParser } from 'mailparser';
import type { AuthResults, SenderHistory } from '../../../server/mail/types.js';
import { collectPrivacySignals, computePi } from '../../../server/privacy/index.js';

const stranger: SenderHistory = { isKnownContact: false, contactHasKey: false, userWroteTo: 0, receivedBefore: 0, markedSpamBefore: 0 };
const friend: SenderHistory = { ...stranger, isKnownContact: true, userWroteTo: 3 };
const verified: AuthResults = {
  spf: { result: 'pass', domain: 'example.org' },
  dkim: [{ result: 'pass', domain: 'example.org', selector: 's1', aligned: true }],
  dmarc: { result: 'pass', policy: 'reject', domain: 'example.org' },
  arc: { result: 'none' },
  headerFrom: 'alice@example.org',
  summary: [],
};
const unsigned: AuthResults = { ...verified, spf: { result: 'none', domain: 'example.org' }, dkim: [], dmarc: { result: 'none', policy: null, domain: 'example.org' } };

const SUBMISSION = `Received: from [192.0.2.10] (helo=laptop)\r\n\tby smtp.example.org with esmtpsa (TLS1.3) tls TLS_AES_256_GCM_SHA384\r\n\tid 1rk3Xy; Tue, 12 Mar 2024 09:00:00 +0000\r\n`;
const mail = (headers: string, body = 'Hello Bob\r\n', type = 'text/plain') =>
  simpleParser(Buffer.from(`${headers}From: alice@example.org\r\nTo: bob@caliopen.test\r\nSubject: hi\r\nContent-Type: ${type}\r\n\r\n${body}`));
const ids = (s: Array<{ id: string }>) => s.map((x) => x.id);

t.test('SMTP over TLS 1.3 from a verified contact', async (t) => {
  const parsed = await mail(SUBMISSION);
  const signals = collectPrivacySignals({
    parsed, raw: Buffer.alloc(0), source: 'smtp', auth: verified, sender: friend,
    transport: { tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' }, clientIp: '198.51.100.7' },
  });
  t.same(ids(signals), ['TLS_1_3', 'ALL_HOPS_TLS', 'FEW_EXTERNAL_HOPS', 'DKIM_PASS_ALIGNED', 'SPF_PASS', 'DMARC_PASS', 'KNOWN_CONTACT', 'NO_REMOTE_CONTENT']);
  const pi = computePi(signals);
  t.same([pi.score, pi.letter, pi.colour], [70, 'B', 'amber']);
  t.same(pi.axes, { travel: 30, sender: 35, content: 5 });
});

t.test('clear-text SMTP from a stranger with a tracking pixel', async (t) => {
  const parsed = await mail('', '<p>Deals!</p><img src="https://t.example/o.gif" width="1" height="1">', 'text/html');
  const signals = collectPrivacySignals({
    parsed, raw: Buffer.alloc(0), source: 'smtp', auth: unsigned, sender: stranger,
    transport: { tls: null, clientIp: '203.0.113.66' },
  });
  t.same(ids(signals), ['NO_TLS', 'HOP_WITHOUT_TLS', 'FEW_EXTERNAL_HOPS', 'DKIM_NONE', 'UNKNOWN_SENDER', 'TRACKING_PIXEL']);
  t.same(computePi(signals).score, 5, 'only the short journey counts');
});

t.test('our own Received stamp is not an outside hop', async (t) => {
  const ours = 'Received: from smtp.example.org (smtp.example.org [198.51.100.7])\r\n\tby box.caliopen.test with ESMTPS id 42; Tue, 12 Mar 2024 09:00:01 +0000\r\n';
  const relays = [1, 2].map((n) => `Received: from relay${n}.example.net (relay${n}.example.net [192.0.2.${n}])\r\n\tby relay${n + 1}.example.net with ESMTPS id ${n}; Tue, 12 Mar 2024 09:00:00 +0000\r\n`).join('');
  const parsed = await mail(ours + SUBMISSION.replace('by smtp.example.org', 'by relay1.example.net') + relays);
  const base = { parsed, raw: Buffer.alloc(0), source: 'smtp' as const, auth: null, sender: stranger, transport: { tls: { protocol: 'TLSv1.2', cipher: 'x' } } };
  const hopsDetail = (signals: Array<{ id: string; detail?: string }>) => signals.find((s) => s.id.endsWith('_EXTERNAL_HOPS'))?.detail;
  t.equal(hopsDetail(collectPrivacySignals(base)), '4 outside servers', 'without knowing our name');
  t.equal(hopsDetail(collectPrivacySignals({ ...base, ownHosts: ['box.caliopen.test'] })), '3 outside servers', 'by our host name');
  t.equal(hopsDetail(collectPrivacySignals({ ...base, transport: { ...base.transport, clientIp: '198.51.100.7' } })), '3 outside servers', 'by our client address');
  const direct = await mail(ours + SUBMISSION);
  t.ok(ids(collectPrivacySignals({ ...base, parsed: direct, ownHosts: ['box.caliopen.test'] })).includes('FEW_EXTERNAL_HOPS'));
});

t.test('IMAP import: the provider’s newest stamp is the delivery, not our IMAP link', async (t) => {
  const providerMx = 'Received: from smtp.example.org (smtp.example.org. [198.51.100.7])\r\n        by mx.provider.example with ESMTPS id abc\r\n        for <bob@provider.example>\r\n        (version=TLS1_2 cipher=ECDHE-ECDSA-AES128-GCM-SHA256 bits=128/128);\r\n        Tue, 12 Mar 2024 02:00:00 -0700\r\n';
  const parsed = await mail(providerMx + SUBMISSION);
  const signals = collectPrivacySignals({
    parsed, raw: Buffer.alloc(0), source: 'imap', auth: unsigned, sender: stranger,
    transport: { tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' } },
  });
  t.same(signals.slice(0, 3), [
    { id: 'TLS_1_2', detail: 'recorded by mx.provider.example' },
    { id: 'ALL_HOPS_TLS', detail: '2 step(s)' },
    { id: 'FEW_EXTERNAL_HOPS', detail: '2 outside server(s)' },
  ]);
  const clear = await mail(providerMx.replace('with ESMTPS', 'with ESMTP').replace(/\(version=[^)]*\);/, ';'));
  t.same(collectPrivacySignals({ parsed: clear, raw: Buffer.alloc(0), source: 'mbox', auth: null, sender: stranger, transport: null }).slice(0, 1), [
    { id: 'NO_TLS', detail: 'recorded by mx.provider.example' },
  ]);
  const bare = await mail('');
  t.same(ids(collectPrivacySignals({ parsed: bare, raw: Buffer.alloc(0), source: 'maildir', auth: null, sender: stranger, transport: null })), ['UNKNOWN_SENDER', 'NO_REMOTE_CONTENT'], 'no stamp, no travel claim');
});

t.test('sent copy: our transport and the content, never sender or auth', async (t) => {
  const parsed = await mail('', '-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA\r\n-----END PGP MESSAGE-----\r\n');
  const signals = collectPrivacySignals({
    parsed, raw: Buffer.alloc(0), source: 'sent', auth: verified, sender: friend,
    transport: { tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' } }, verifiedSignature: true,
  });
  t.same(ids(signals), ['TLS_1_3', 'PGP_ENCRYPTED', 'SIGNATURE_VERIFIED']);
  t.equal(computePi(signals).score, 45);
});
