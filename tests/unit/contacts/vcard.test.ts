/**
 * The vCard reader and writer on hand-written cards of each version (2.1 with QUOTED-PRINTABLE and
 * CHARSET, 3.0 with folding, escapes and Apple-style groups, 4.0 with PREF, quoted and caret-encoded
 * parameters), files of several cards, broken cards, and round trips through both output versions.
 * Thunderbird's test cards from the shared corpus are read in place when it is present.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseVCards, serializeVCard, type ParsedCard, type VCard } from '../../../server/contacts/vcard.js';
import { corpusDir, needsCorpus } from '../../helpers/corpus.js';

const crlf = (lines: string[]) => lines.join('\r\n') + '\r\n';

function only(parsed: ParsedCard[]): VCard {
  if (parsed.length !== 1 || !('card' in parsed[0]!)) throw new Error('expected one good card: ' + JSON.stringify(parsed));
  return parsed[0].card;
}

t.test('2.1: bare parameters, QUOTED-PRINTABLE with soft line breaks, CHARSET=ISO-8859-1 and UTF-8', async (t) => {
  const text = crlf([
    'BEGIN:VCARD',
    'VERSION:2.1',
    'N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen;;;',
    'FN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:J=FCrgen M=FCller',
    'TEL;WORK;VOICE:+49 30 1234567',
    'TEL;CELL:+49 170 7654321',
    'EMAIL;INTERNET;PREF:juergen@beispiel.test',
    'ADR;HOME;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:;;Hauptstra=C3=9Fe 5=0D=0A=',
    'Hinterhaus;Berlin;;10115;Deutschland',
    'NOTE;QUOTED-PRINTABLE:Erste Zeile=0D=0AZweite Zeile, lang genug um =',
    'umbrochen zu werden; C:\\temp bleibt',
    'ORG:Beispiel GmbH;Entwicklung',
    'TITLE:Entwickler',
    'END:VCARD',
  ]);
  const parsed = parseVCards(Buffer.from(text, 'latin1'));
  t.equal((parsed[0] as { version: string }).version, '2.1');
  const c = only(parsed);
  t.equal(c.fn, 'Jürgen Müller', 'ISO-8859-1 bytes decoded');
  t.same(c.n, { family: 'Müller', given: 'Jürgen', additional: null, prefix: null, suffix: null });
  t.same(c.phones, [{ number: '+49 30 1234567', type: 'work,voice' }, { number: '+49 170 7654321', type: 'cell' }]);
  t.same(c.emails, [{ address: 'juergen@beispiel.test', type: null, preferred: true }], 'INTERNET is no place; bare PREF counts');
  t.same(c.addresses, [{ type: 'home', street: 'Hauptstraße 5\nHinterhaus', city: 'Berlin', region: null, postcode: '10115', country: 'Deutschland' }]);
  t.equal(c.note, 'Erste Zeile\nZweite Zeile, lang genug um umbrochen zu werden; C:\\temp bleibt', '2.1 keeps backslashes it does not escape');
  t.same(c.organisations, [{ name: 'Beispiel GmbH', department: 'Entwicklung', title: 'Entwickler' }]);
});

t.test('3.0: folding (even inside a UTF-8 character), escapes, TYPE lists, groups, BASE64 photo ignored', async (t) => {
  const head = crlf([
    'BEGIN:VCARD',
    'VERSION:3.0',
    'PRODID:-//Apple Inc.//iOS 17//EN',
    'N:Lovelace;Ada;Augusta;Lady;',
    'FN:Ada Lovelace',
    'item1.EMAIL;type=INTERNET;type=WORK;type=pref:ada@analytical.test',
    'item1.X-ABLabel:_$!<Work>!$_',
    'EMAIL;TYPE=INTERNET,HOME:mailto:Ada.Home@Example.org',
    'TEL;TYPE=CELL,VOICE:+44 20 7946 0000',
    'ADR;TYPE=WORK:;Suite 2;12 St James\\, Square;London;;SW1Y 4LB;United Kingdom',
    'NOTE:Wrote the first program\\; loved poetry\\, too.\\nA backslash \\\\ and a',
    '  folded caf',
  ]);
  // the fold splits the two bytes of "é" (C3 A9): unfolding must join bytes, not characters
  const bytes = Buffer.concat([Buffer.from(head.slice(0, -2), 'utf8'), Buffer.from([0xc3]), Buffer.from('\r\n\t', 'latin1'), Buffer.from([0xa9]), Buffer.from(crlf([
    '.',
    'CATEGORIES:Friends,Science\\, Maths,Friends',
    'ORG:Analytical Engine Ltd.',
    'TITLE:Programmer',
    'PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQ',
    ' EASABIAAD',
    'END:VCARD',
  ]), 'utf8')]);
  const c = only(parseVCards(bytes));
  t.same(c.n, { family: 'Lovelace', given: 'Ada', additional: 'Augusta', prefix: 'Lady', suffix: null });
  t.same(c.emails, [
    { address: 'ada@analytical.test', type: 'work', preferred: true },
    { address: 'Ada.Home@Example.org', type: 'home', preferred: false },
  ], 'mailto: stripped; case kept (the address book lower-cases)');
  t.same(c.phones, [{ number: '+44 20 7946 0000', type: 'cell,voice' }]);
  t.same(c.addresses, [{ type: 'work', street: 'Suite 2\n12 St James, Square', city: 'London', region: null, postcode: 'SW1Y 4LB', country: 'United Kingdom' }]);
  t.equal(c.note, 'Wrote the first program; loved poetry, too.\nA backslash \\ and a folded café.');
  t.same(c.categories, ['Friends', 'Science, Maths'], 'escaped comma kept, duplicates once');
  t.same(c.organisations, [{ name: 'Analytical Engine Ltd.', department: null, title: 'Programmer' }]);
});

t.test('4.0: PREF=1, quoted and caret-encoded parameters, tel: URIs, grouped organisations, UTF-8', async (t) => {
  const c = only(parseVCards(crlf([
    'BEGIN:VCARD',
    'VERSION:4.0',
    'UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1',
    'FN:Zoë Ñúñez',
    'N:Ñúñez;Zoë;;;',
    'EMAIL;TYPE=work;PREF=1:zoe@trabajo.test',
    'EMAIL;TYPE=home;PREF=2:zoe@casa.test',
    'TEL;VALUE=uri;TYPE="voice,cell";PREF=1:tel:+34-600-000-000',
    'ADR;TYPE=home;LABEL="Calle Mayor 1^nMadrid ^\'centro^\'":;;Calle Mayor 1;Madrid;;28013;España',
    'org1.ORG:Universidad Abierta;Física;Óptica',
    'org1.TITLE:Profesora',
    'org2.TITLE:Presidenta',
    'org2.ORG:Asociación Vecinal',
    'TITLE:Autora',
    'CATEGORIES:Familia,Trabajo',
    'NOTE:日本語のメモ',
    'END:VCARD',
  ])));
  t.equal(c.uid, 'urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1');
  t.equal(c.fn, 'Zoë Ñúñez');
  t.same(c.emails.map((e) => [e.address, e.type, e.preferred]), [['zoe@trabajo.test', 'work', true], ['zoe@casa.test', 'home', false]]);
  t.same(c.phones, [{ number: '+34-600-000-000', type: 'voice,cell' }]);
  t.equal(c.addresses[0]!.country, 'España');
  t.same(c.organisations, [
    { name: 'Universidad Abierta', department: 'Física; Óptica', title: 'Profesora' },
    { name: 'Asociación Vecinal', department: null, title: 'Presidenta' },
    { name: null, department: null, title: 'Autora' },
  ], 'TITLE pairs with the ORG of its group; a lone TITLE stands alone');
  t.same(c.categories, ['Familia', 'Trabajo']);
  t.equal(c.note, '日本語のメモ');
});

t.test('several cards in one file, LF or CR line ends, text between cards ignored, a UTF-16 export', async (t) => {
  const file = ['junk before', 'BEGIN:VCARD', 'VERSION:3.0', 'FN:One', 'EMAIL:one@a.test', 'END:VCARD', '', 'more junk',
    'begin:vcard', 'version:4.0', 'fn:Two', 'end:vcard'].join('\n');
  const parsed = parseVCards(file);
  t.same(parsed.map((p) => ('card' in p ? p.card.fn : p.error)), ['One', 'Two']);
  t.same(parsed.map((p) => p.index), [0, 1]);
  t.equal(only(parseVCards('BEGIN:VCARD\rVERSION:3.0\rFN:Three\rEND:VCARD\r')).fn, 'Three', 'old Mac line ends');
  t.equal(only(parseVCards('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Four\r\nNOTE:a\rb\r\nEND:VCARD\r\n')).note, 'a\nb', 'a bare CR inside a CRLF file is part of the value');
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(crlf(['BEGIN:VCARD', 'VERSION:3.0', 'FN:Łukasz', 'END:VCARD']), 'utf16le')]);
  t.equal(only(parseVCards(utf16)).fn, 'Łukasz');
  const cp1252 = Buffer.from(crlf(['BEGIN:VCARD', 'VERSION:3.0', 'FN:Ren\u00e9e \u2014 caf\u00e9', 'END:VCARD']).replace('\u2014', '\x97'), 'latin1');
  t.equal(only(parseVCards(cp1252)).fn, 'Renée — café', 'bytes that are not UTF-8 are read as Windows-1252');
  t.equal(only(parseVCards(Buffer.from(crlf(['BEGIN:VCARD', 'VERSION:3.0', 'FN:Ren\u00e9e', 'END:VCARD']), 'latin1'), { charset: 'iso-8859-1' })).fn, 'Renée', 'the charset of the HTTP body');
});

t.test('broken cards are reported by position; the good ones around them still read', async (t) => {
  const parsed = parseVCards(crlf([
    'BEGIN:VCARD', 'VERSION:3.0', 'FN:Cut short', 'EMAIL:cut@a.test',
    'BEGIN:VCARD', 'VERSION:3.0', 'FN:Fine', 'END:VCARD',
    'BEGIN:VCARD', 'VERSION:3.0', 'FN:Bad line', 'this line has no colon', 'END:VCARD',
    'BEGIN:VCARD', 'VERSION:5.0', 'FN:Future', 'END:VCARD',
    'BEGIN:VCARD', 'VERSION:2.1', 'FN:Boss', 'AGENT:', 'BEGIN:VCARD', 'VERSION:2.1', 'FN:Assistant', 'END:VCARD', 'TEL:123', 'END:VCARD',
    'BEGIN:VCARD', 'VERSION:4.0', 'FN:No end',
  ]));
  t.equal(parsed.length, 6);
  t.match(parsed[0], { index: 0, error: /no END:VCARD before line 5/ });
  t.match(parsed[1], { index: 1, card: { fn: 'Fine' } });
  t.match(parsed[2], { index: 2, error: /line 12: no ':'/ });
  t.match(parsed[3], { index: 3, error: /unsupported vCard version "5.0"/ });
  t.match(parsed[4], { index: 4, card: { fn: 'Boss', phones: [{ number: '123' }] } }, 'a 2.1 AGENT card inside is skipped');
  t.match(parsed[5], { index: 5, error: /no END:VCARD/ });
  t.same(parseVCards('no cards here\r\n'), []);
});

const full: VCard = {
  uid: 'urn:uuid:0d5c8f0e-2f4b-4c1e-9a53-7d1c1c0f2a11',
  fn: 'Émilie du Châtelet, marquise',
  n: { family: 'du Châtelet', given: 'Gabrielle-Émilie', additional: 'Le Tonnelier,de Breteuil', prefix: 'Marquise', suffix: null },
  emails: [{ address: 'emilie@cirey.test', type: 'home', preferred: true }, { address: 'principia@cirey.test', type: null, preferred: false }],
  phones: [{ number: '+33 3 25 00 00 00', type: 'work,fax' }, { number: '+33 6 00 00 00 00', type: null }],
  addresses: [{ type: 'home', street: 'Château de Cirey\nAile est; 2e étage', city: 'Cirey-sur-Blaise', region: 'Grand Est', postcode: '52110', country: 'France' }],
  organisations: [
    { name: 'Académie; des sciences', department: 'Physique, mécanique', title: 'Traductrice de Newton' },
    { name: null, department: null, title: 'Mathématicienne' },
  ],
  note: 'Une note longue : ' + 'é'.repeat(60) + '\navec ; virgules, points-virgules et \\ barres obliques.',
  categories: ['Sciences', 'Lumières, siècle des'],
};

t.test('round trip: what is written in 4.0 or 3.0 reads back the same, lines folded at 75 octets', async (t) => {
  for (const version of ['4.0', '3.0'] as const) {
    const text = serializeVCard(full, version);
    t.ok(text.split('\r\n').every((l) => Buffer.byteLength(l, 'utf8') <= 75), `${version}: no line over 75 octets`);
    t.ok(text.endsWith('END:VCARD\r\n'));
    t.same(only(parseVCards(text)), full, `${version}: same card back`);
    t.equal(serializeVCard(only(parseVCards(text)), version), text, `${version}: and the same text again`);
  }
  const v3 = serializeVCard({ ...full, n: null }, '3.0');
  t.match(v3, /\r\nN:;;;;\r\n/, '3.0 always has N');
  t.notMatch(serializeVCard({ ...full, n: null }, '4.0'), /\r\nN:/, '4.0 leaves an empty N out');
  t.match(serializeVCard(full, '3.0'), /EMAIL;TYPE=internet,home,pref:emilie@cirey\.test/);
  t.match(serializeVCard(full, '4.0'), /EMAIL;TYPE=home;PREF=1:emilie@cirey\.test/);
});

t.test('Thunderbird test cards from the corpus', needsCorpus(), async (t) => {
  const dir = path.join(corpusDir, 'inbound/thunderbird/vcards');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.vcf')).sort();
  t.ok(files.length >= 13, `${files.length} cards`);
  const exported = parseVCards(fs.readFileSync(path.join(dir, 'export.vcf')));
  t.match(exported[0], { card: { fn: 'contact number one', n: { family: 'one', given: 'contact' }, emails: [{ address: 'contact1@invalid', preferred: true }], uid: 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx' } });
  t.match(exported[1], { card: { fn: 'contact number two', note: "here's some unicode text\u2026", organisations: [{ name: null, title: '"worker"' }] } });
  t.equal(exported.length, 2);
  for (const f of files.filter((x) => x !== 'export.vcf')) {
    const c = only(parseVCards(fs.readFileSync(path.join(dir, f))));
    t.match(c, { fn: /^(Binary|URI) (JPEG|PNG|WebP)/, note: /^This v[34]\.0 card has a/ }, f);
  }
});
