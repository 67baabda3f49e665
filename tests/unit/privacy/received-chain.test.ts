import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { parseReceived, parseReceivedChain, receivedChainSignals } from '../../../server/privacy/index.js';
import { corpusDir, corpusFiles, needsCorpus } from '../../helpers/corpus.js';

// Stamps in the exact shapes the common MTAs write them (addresses from the documentation ranges)
const POSTFIX_TLS13 = `Received: from mail-out.example.net (mail-out.example.net [198.51.100.7])
\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)
\t(No client certificate requested)
\tby mx.example.org (Postfix) with ESMTPS id 4XyZ1234
\tfor <alice@example.org>; Tue, 12 Mar 2024 10:00:00 +0100 (CET)`;
const GOOGLE = `Received: from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])
        by mx.google.com with SMTPS id a640c23a62f3a-a44f2b5e1c0sor1234567866b.8.2024.03.12.02.00.00
        for <bob@gmail.example>
        (Google Transport Security);
        Tue, 12 Mar 2024 02:00:00 -0700 (PDT)`;
const GOOGLE_MX = `Received: from mout.example.net (mout.example.net. [198.51.100.9])
        by mx.google.com with ESMTPS id r7-20020a05600c35c700b0041312bd1234si1234567wmq.90.2024.03.12.02.00.00
        for <bob@gmail.example>
        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);
        Tue, 12 Mar 2024 02:00:00 -0700 (PDT)`;
const EXIM = `Received: from [203.0.113.5] (helo=laptop.example.com)
\tby smtp.example.com with esmtpsa  (TLS1.3) tls TLS_AES_256_GCM_SHA384
\t(Exim 4.96)
\t(envelope-from <carol@example.com>)
\tid 1rk3Xy-0001Ab-2C
\tfor dave@example.org; Tue, 12 Mar 2024 09:00:00 +0000`;
const MICROSOFT = `Received: from AM6PR02MB1234.eurprd02.prod.outlook.com (2603:10a6:20b:1a::12) by
 DB9PR02MB5678.eurprd02.prod.outlook.com (2603:10a6:10:2b4::9) with Microsoft SMTP
 Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id
 15.20.7386.17; Tue, 12 Mar 2024 09:00:00 +0000`;
const HOTMAIL_OVER_TLS = `Received: from BLU436-SMTP66 ([65.55.116.73]) by BLU004-OMC3S13.hotmail.example.com over TLS secured channel with Microsoft SMTPSVC(7.5.7601.22751);
\t Sat, 29 Nov 2014 10:00:00 -0800`;
const PLAIN = `Received: from relay.example.com (relay.example.com [192.0.2.25])
\tby mx.example.org (Postfix) with ESMTP id 1234ABCD
\tfor <alice@example.org>; Tue, 12 Mar 2024 10:00:00 +0100 (CET)`;
const PICKUP = 'Received: by mail.example.com (Postfix, from userid 1000)\r\n\tid 5678EF; Tue, 12 Mar 2024 08:59:59 +0000 (UTC)';
const LMTP = 'Received: from mx.example.org\r\n\tby mx.example.org with LMTP\r\n\tid ODfyL7KhyWEANgAAPzvFDg\r\n\t(envelope-from <bob@example.org>)\r\n\tfor <alice@example.org>; Tue, 12 Mar 2024 10:00:01 +0100';
const AMAVIS = 'Received: from localhost (localhost [127.0.0.1])\r\n\tby mx.example.org (amavisd-new, port 10024) with ESMTP id XyZ\r\n\tfor <alice@example.org>; Tue, 12 Mar 2024 10:00:00 +0100 (CET)';

t.test('Postfix stamp with TLS 1.3 in the comment after from', async (t) => {
  const h = parseReceived(POSTFIX_TLS13);
  t.equal(h.from, 'mail-out.example.net');
  t.equal(h.fromIp, '198.51.100.7');
  t.equal(h.by, 'mx.example.org');
  t.equal(h.with, 'ESMTPS');
  t.equal(h.id, '4XyZ1234');
  t.equal(h.for, 'alice@example.org');
  t.equal(h.date, 'Tue, 12 Mar 2024 10:00:00 +0100 (CET)');
  t.same([h.tls, h.tlsVersion, h.cipher, h.internal], [true, '1.3', 'TLS_AES_256_GCM_SHA384', false]);
});

t.test('Google, Exim, Microsoft and Hotmail TLS evidence', async (t) => {
  const g = parseReceived(GOOGLE);
  t.same([g.with, g.tls, g.tlsVersion, g.fromIp], ['SMTPS', true, null, '209.85.220.41']);
  const gmx = parseReceived(GOOGLE_MX);
  t.same([gmx.tls, gmx.tlsVersion, gmx.cipher], [true, '1.3', 'TLS_AES_256_GCM_SHA384']);
  const e = parseReceived(EXIM);
  t.same([e.from, e.fromIp, e.by, e.with, e.id, e.for], ['[203.0.113.5]', '203.0.113.5', 'smtp.example.com', 'esmtpsa', '1rk3Xy-0001Ab-2C', 'dave@example.org']);
  t.same([e.tls, e.tlsVersion, e.cipher], [true, '1.3', 'TLS_AES_256_GCM_SHA384']);
  const m = parseReceived(MICROSOFT);
  t.same([m.fromIp, m.by, m.with], ['2603:10a6:20b:1a::12', 'DB9PR02MB5678.eurprd02.prod.outlook.com', 'Microsoft']);
  t.same([m.tls, m.tlsVersion, m.cipher], [true, '1.2', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384']);
  const hm = parseReceived(HOTMAIL_OVER_TLS);
  t.same([hm.tls, hm.tlsVersion, hm.fromIp, hm.internal], [true, null, '65.55.116.73', false]);
});

t.test('plain ESMTP is not TLS; local hand-overs are internal', async (t) => {
  const p = parseReceived(PLAIN);
  t.same([p.tls, p.tlsVersion, p.cipher, p.internal], [false, null, null, false]);
  t.equal(parseReceived(PICKUP).internal, true, 'local pickup has no from');
  t.equal(parseReceived(PICKUP).by, 'mail.example.com');
  t.equal(parseReceived(LMTP).internal, true, 'LMTP delivery');
  t.equal(parseReceived(AMAVIS).internal, true, 'loopback content filter');
  // a HELO of "localhost" from a public address is a lie, not an internal hop
  t.equal(parseReceived('Received: from localhost ([198.51.100.3]) by mx.example.org with ESMTP id 1; Tue, 12 Mar 2024 10:00:00 +0000').internal, false);
});

t.test('malformed stamps never throw', async (t) => {
  for (const bad of ['', 'Received:', 'Received: ;', 'Received: from (unclosed by x', 'Received: from', 'with with with', ')))(((', 'Received: from a by b; ; ;']) {
    const h = parseReceived(bad);
    t.type(h.tls, 'boolean', JSON.stringify(bad));
  }
  t.equal(parseReceived('Received: from (unclosed by x').by, null, 'the by inside an unclosed comment is not a clause');
});

t.test('parseReceivedChain takes values or mailparser headerLines, newest first', async (t) => {
  const lines = [
    { key: 'received', line: LMTP },
    { key: 'subject', line: 'Subject: by the way' },
    { key: 'received', line: POSTFIX_TLS13 },
  ];
  t.same(parseReceivedChain(lines).map((h) => h.by), ['mx.example.org', 'mx.example.org']);
  t.same(parseReceivedChain([PLAIN.replace(/^Received:\s*/, '')]).map((h) => h.fromIp), ['192.0.2.25']);
});

t.test('chain signals: all outside hops over TLS, few of them', async (t) => {
  const hops = parseReceivedChain([LMTP, AMAVIS, POSTFIX_TLS13, EXIM]);
  t.same(receivedChainSignals(hops, { deliveredOverTls: null }).map((s) => s.id), ['ALL_HOPS_TLS', 'FEW_EXTERNAL_HOPS']);
  const withPlain = parseReceivedChain([POSTFIX_TLS13, PLAIN, EXIM]);
  const sig = receivedChainSignals(withPlain, { deliveredOverTls: true });
  t.same(sig.map((s) => s.id), ['HOP_WITHOUT_TLS', 'MANY_EXTERNAL_HOPS']);
  t.equal(sig[0]!.detail, 'from relay.example.com by mx.example.org');
});

t.test('our own stamp and our delivering connection', async (t) => {
  const hops = parseReceivedChain([POSTFIX_TLS13, GOOGLE_MX, EXIM]);
  t.equal(receivedChainSignals(hops, { deliveredOverTls: true }).at(1)?.id, 'MANY_EXTERNAL_HOPS', '3 outside hops');
  t.equal(receivedChainSignals(hops, { deliveredOverTls: true, ownHosts: ['MX.example.org'] }).at(1)?.id, 'FEW_EXTERNAL_HOPS', 'a hop by this box is not outside');
  t.equal(receivedChainSignals(hops, { deliveredOverTls: true, deliveringIp: '::ffff:198.51.100.7' }).at(1)?.id, 'FEW_EXTERNAL_HOPS', 'the stamp from our SMTP client is ours');
  t.equal(receivedChainSignals(hops, { deliveredOverTls: true, deliveringIp: '192.0.2.99' }).at(1)?.id, 'MANY_EXTERNAL_HOPS', 'another client: not ours');
  // a clear-text delivery to us breaks "every hop" even when every stamp says TLS
  t.same(receivedChainSignals(parseReceivedChain([EXIM]), { deliveredOverTls: false }).map((s) => [s.id, s.detail]), [
    ['HOP_WITHOUT_TLS', 'delivery to this box'],
    ['FEW_EXTERNAL_HOPS', '1 outside server(s)'],
  ]);
  t.same(receivedChainSignals([], { deliveredOverTls: true }).map((s) => s.id), ['ALL_HOPS_TLS', 'FEW_EXTERNAL_HOPS'], 'direct from the sender');
  t.same(receivedChainSignals(parseReceivedChain([LMTP, PICKUP]), { deliveredOverTls: null }), [], 'no evidence, no signal');
});

t.test('corpus: a Delta Chat PGP message relayed over TLS end to end', needsCorpus(), async (t) => {
  const parsed = await simpleParser(fs.readFileSync(path.join(corpusDir, 'pgp/deltachat/encrypted_with_received_headers.eml')));
  const hops = parseReceivedChain(parsed.headerLines);
  t.same(hops.map((h) => [h.internal, h.tls, h.with]), [[true, false, 'LMTP'], [false, true, 'ESMTPS'], [false, true, 'ESMTPSA']]);
  t.equal(hops[2]!.fromIp, '217.80.24.163', 'the address seen, not the [127.0.0.1] HELO');
  t.same(receivedChainSignals(hops, { deliveredOverTls: null }).map((s) => s.id), ['ALL_HOPS_TLS', 'FEW_EXTERNAL_HOPS']);
});

t.test('corpus: a GnuPG announcement through a list, partly in clear', needsCorpus(), async (t) => {
  const parsed = await simpleParser(fs.readFileSync(path.join(corpusDir, 'pgp/mimekit/[Announce] GnuPG 2.1.20 released.eml')));
  const hops = parseReceivedChain(parsed.headerLines);
  const outside = hops.filter((h) => !h.internal);
  t.same(outside.map((h) => h.by), ['resimta-po-19v.sys.comcast.net', 'smtp.gnome.org', 'lists.gnupg.org']);
  t.same(outside.map((h) => h.tls), [false, true, false]);
  t.same(receivedChainSignals(hops, { deliveredOverTls: null }).map((s) => s.id), ['HOP_WITHOUT_TLS', 'MANY_EXTERNAL_HOPS']);
});

t.test('corpus: every Received stamp of the inbound corpus parses', needsCorpus(), async (t) => {
  const files = corpusFiles('inbound', (f) => f.endsWith('.eml')).slice(0, 400);
  let stamps = 0;
  let withBy = 0;
  for (const f of files) {
    const head = fs.readFileSync(f, 'latin1').split(/\r?\n\r?\n/, 1)[0] ?? '';
    const received = head.split(/\r?\n(?=\S)/).filter((l) => /^received:/i.test(l));
    for (const hop of parseReceivedChain(received)) {
      stamps++;
      if (hop.by) withBy++;
    }
  }
  t.ok(stamps > 50, `${stamps} stamps in ${files.length} files`);
  t.ok(withBy / stamps > 0.9, `${withBy}/${stamps} stamps name their receiving server`);
});
