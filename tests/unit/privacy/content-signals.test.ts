import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { contentSignals, findRemoteContent, hasPgpSignature, isPgpEncrypted } from '../../../server/privacy/index.js';
import { corpusDir, needsCorpus } from '../../helpers/corpus.js';

const ids = (signals: Array<{ id: string }>) => signals.map((s) => s.id);
const parse = (text: string) => simpleParser(Buffer.from(text.replace(/\r?\n/g, '\r\n')));

const HEAD = 'From: alice@example.org\nTo: bob@example.net\nSubject: test\nMIME-Version: 1.0\n';
const htmlMail = (html: string) => parse(`${HEAD}Content-Type: text/html; charset=utf-8\n\n${html}\n`);

t.test('findRemoteContent: what a reader would fetch', async (t) => {
  const cases: Array<[string, [number, number, number]]> = [
    ['<p>Hello</p>', [0, 0, 0]],
    ['<img src="https://cdn.example.com/logo.png" width="120">', [1, 0, 0]],
    ['<img src="//cdn.example.com/logo.png">', [1, 0, 0]],
    ['<img srcset="https://x.example/a.png 1x, https://x.example/b.png 2x">', [1, 0, 0]],
    ['<img vspace="1" hspace="1" src="https://x.example/a.png" width="150">', [1, 0, 0]],
    ['<img src="https://x.example/spacer.gif" width="30" height="1">', [1, 0, 0]],
    ['<img src="https://t.example.com/o.gif" width="1" height="1">', [0, 1, 0]],
    ['<IMG SRC="https://t.example.com/o.gif" HEIGHT=1>', [0, 1, 0]],
    ['<img src="https://x.example/a.gif" width=0>', [0, 1, 0]],
    ["<img src='http://x.example/a.gif' style=\"display: none\">", [0, 1, 0]],
    ['<img src="https://x.example/a.png" style="width:1px; height:1px">', [0, 1, 0]],
    ['<img src="https://us1.list-manage.com/track/open.php?u=1&amp;id=2&amp;e=3">', [0, 1, 0]],
    ['<img src="https://u123.ct.sendgrid.net/wf/open?upn=abc">', [0, 1, 0]],
    ['<img src="&#104;ttps://evil.example/p.gif" width="1" height="1">', [0, 1, 0]],
    ['<img src="cid:logo@example.org"><img src="data:image/png;base64,AAAA"><img src="/relative.png">', [0, 0, 0]],
    ['<a href="https://example.com/">a link is not fetched</a>', [0, 0, 0]],
    ['<link rel="stylesheet" href="https://fonts.example.com/css?family=X">', [0, 0, 1]],
    ['<link rel="alternate" href="https://x.example/feed">', [0, 0, 0]],
    ['<td background="https://x.example/bg.jpg">cell</td>', [0, 0, 1]],
    ['<div style="background-image: url(&quot;https://x.example/bg.png&quot;)">x</div>', [0, 0, 1]],
    ['<div style="background: url(cid:bg)">x</div>', [0, 0, 0]],
    ['<iframe src="https://x.example/frame"></iframe>', [0, 0, 1]],
    [
      '<style>@import url("https://x.example/a.css"); .a { background: url(https://x.example/bg.png) }' +
        " @font-face { src: url('https://fonts.example/f.woff2') } .b { background: url(data:x) }</style>",
      [0, 0, 3],
    ],
  ];
  for (const [html, [remoteImages, trackingPixels, remoteOther]] of cases) {
    t.same(findRemoteContent(html), { remoteImages, trackingPixels, remoteOther }, html);
  }
});

t.test('findRemoteContent stays linear on hostile input', async (t) => {
  // each of these took seconds with backtracking regular expressions over 100 KB
  const hostile = [
    '<a '.repeat(40_000),
    '<style>'.repeat(20_000),
    '<style>' + 'url('.repeat(40_000),
    '<div style="' + 'url( '.repeat(40_000) + '">',
    '<img ' + ' a="'.repeat(40_000),
    '<img src="https://x.example/o?' + 'e&'.repeat(40_000) + '">',
  ];
  for (const html of hostile) {
    const start = process.hrtime.bigint();
    findRemoteContent(html);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    t.ok(ms < 1500, `${html.slice(0, 12)}… took ${ms.toFixed(0)} ms (a regex back-tracking bug took seconds)`);
  }
});

t.test('quoted values may hold angle brackets; unquoted values may hold slashes', async (t) => {
  t.same(findRemoteContent('<img alt="a > b" src="https://x.example/a.png">'), { remoteImages: 1, trackingPixels: 0, remoteOther: 0 });
  t.same(findRemoteContent('<img src=https://x.example/a.png width=1 height=1/>'), { remoteImages: 0, trackingPixels: 1, remoteOther: 0 });
  t.same(findRemoteContent('<img src=https://list-manage.com/track/open.php?u=1>'), { remoteImages: 0, trackingPixels: 1, remoteOther: 0 }, 'unquoted tracker URL read whole');
  t.same(findRemoteContent('<img src="https://x.example/a.png" width="1%" height="1%">'), { remoteImages: 1, trackingPixels: 0, remoteOther: 0 }, 'percent is not pixels');
  t.same(findRemoteContent('<img src="https://x.example/a.png'), { remoteImages: 1, trackingPixels: 0, remoteOther: 0 }, 'unterminated tag');
});

t.test('plain text and clean HTML earn NO_REMOTE_CONTENT', async (t) => {
  t.same(ids(contentSignals(await parse(`${HEAD}Content-Type: text/plain\n\nHello\n`))), ['NO_REMOTE_CONTENT']);
  t.same(ids(contentSignals(await htmlMail('<p>Hi <img src="cid:x@y"></p>'))), ['NO_REMOTE_CONTENT']);
});

t.test('tracking pixels and remote images are named, with counts', async (t) => {
  const s = contentSignals(await htmlMail('<p>Hi</p><img src="https://news.example/logo.png"><img src="https://t.example/o.gif" width="1" height="1">'));
  t.same(s, [
    { id: 'TRACKING_PIXEL', detail: '1 pixel(s)' },
    { id: 'REMOTE_CONTENT', detail: '1 image(s), 0 other' },
  ]);
  t.same(ids(contentSignals(await htmlMail('<img src="https://t.example/o.gif" width="1" height="1">'))), ['TRACKING_PIXEL']);
});

const PGP_MIME = `${HEAD}Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b1"

--b1
Content-Type: application/pgp-encrypted

Version: 1

--b1
Content-Type: application/octet-stream; name="encrypted.asc"

-----BEGIN PGP MESSAGE-----

hQEMA1234
-----END PGP MESSAGE-----

--b1--
`;
const SIGNED = `${HEAD}Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="s1"

--s1
Content-Type: text/plain

I wrote this.

--s1
Content-Type: application/pgp-signature; name="signature.asc"

-----BEGIN PGP SIGNATURE-----

iQEzBAEBCAAdFiEE
-----END PGP SIGNATURE-----

--s1--
`;

t.test('OpenPGP: encryption and signatures, verified or not', async (t) => {
  const enc = await parse(PGP_MIME);
  t.ok(isPgpEncrypted(enc));
  t.same(ids(contentSignals(enc)), ['PGP_ENCRYPTED'], 'an unreadable body earns no NO_REMOTE_CONTENT');
  const inline = await parse(`${HEAD}Content-Type: text/plain\n\n-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----\n`);
  t.same(ids(contentSignals(inline)), ['PGP_ENCRYPTED']);

  const signed = await parse(SIGNED);
  t.ok(hasPgpSignature(signed));
  t.notOk(isPgpEncrypted(signed));
  t.same(ids(contentSignals(signed)), ['PGP_SIGNED', 'NO_REMOTE_CONTENT'], 'presence alone earns nothing');
  t.same(ids(contentSignals(signed, { verifiedSignature: true })), ['SIGNATURE_VERIFIED', 'NO_REMOTE_CONTENT']);
  t.same(ids(contentSignals(signed, { verifiedSignature: false })), ['PGP_SIGNED', 'NO_REMOTE_CONTENT']);

  const clearsigned = await parse(`${HEAD}\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhello\n-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n`);
  t.same(ids(contentSignals(clearsigned)), ['PGP_SIGNED', 'NO_REMOTE_CONTENT']);
  const talk = await parse(`${HEAD}\nWe should all use PGP messages more often.\n`);
  t.same(ids(contentSignals(talk)), ['NO_REMOTE_CONTENT'], 'mentioning PGP is not PGP');
});

t.test('corpus: Thunderbird, Proton and GnuPG messages', needsCorpus(), async (t) => {
  const load = async (rel: string) => simpleParser(fs.readFileSync(path.join(corpusDir, rel)));
  t.same(ids(contentSignals(await load('pgp/deltachat/thunderbird_encrypted_signed.eml'))), ['PGP_ENCRYPTED']);
  t.same(ids(contentSignals(await load('pgp/deltachat/thunderbird_signed_unencrypted.eml'))), ['PGP_SIGNED', 'NO_REMOTE_CONTENT']);
  t.same(ids(contentSignals(await load('pgp/deltachat/protonmail-mixed-up.eml'))), ['PGP_ENCRYPTED'], 'mixed-up PGP/MIME');
  t.same(ids(contentSignals(await load('pgp/mimekit/[Announce] GnuPG 2.1.20 released.eml'))), ['PGP_SIGNED', 'NO_REMOTE_CONTENT']);
});

t.test('corpus: a 2002 newsletter with spacer gifs and a 0×0 tracker', needsCorpus(), async (t) => {
  const parsed = await simpleParser(fs.readFileSync(path.join(corpusDir, 'ham/spamassassin/welcomelists/media_unspun')));
  t.type(parsed.html, 'string');
  // logo + two 5×1 spacers are visible images; two 1×1 gifs and the 0×0 counter are pixels
  t.same(findRemoteContent(parsed.html as string), { remoteImages: 3, trackingPixels: 3, remoteOther: 0 });
});
