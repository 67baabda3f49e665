/**
 * Composing outgoing mail: the bytes are read back with mailparser, as a recipient would read them.
 * Also the address syntax accepted from users, and the conventions of a reply (subject, quote).
 */
import t from 'tap';
import { simpleParser, type AddressObject } from 'mailparser';
import { attachmentContentType, attachmentFilename, composeMessage, isEmailAddress, parseMailbox, quoteReply, replySubject, toAsciiAddress, type ComposeInput } from '../../../server/mail/compose.js';
import { AppError } from '../../../server/errors.js';

const PDF = Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n', 'latin1');

function input(over: Partial<ComposeInput> = {}): ComposeInput {
  return {
    from: { name: 'Alice Écrivain', address: 'alice@example.test' },
    to: [{ name: 'Bob', address: 'bob@remote.test' }],
    cc: [{ name: null, address: 'carol@remote.test' }],
    bcc: [{ name: 'Secret Sam', address: 'sam@hidden.test' }],
    subject: 'Réunion à 14 h — ☕',
    text: 'Bonjour à tous,\nrendez-vous à 14 h.\n\nAlice',
    attachments: [
      { filename: 'ordre du jour é.pdf', contentType: 'application/pdf', content: PDF },
      { filename: 'notes.txt', contentType: 'text/plain; charset=utf-8', content: Buffer.from('ligne 1\nligne 2 ü\n') },
    ],
    inReplyTo: 'parent@remote.test',
    references: ['root@remote.test', 'parent@remote.test'],
    messageIdDomain: 'example.test',
    date: new Date('2026-03-01T10:00:00Z'),
    ...over,
  };
}

const addresses = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.map((v) => ({ name: v.name, address: v.address })));

/** The header block of a raw message, unfolded, as lower-case names. */
function headerNames(raw: Buffer): string[] {
  const head = raw.toString('latin1').split('\r\n\r\n')[0]!;
  return head.split('\r\n').filter((l) => !/^[ \t]/.test(l)).map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
}

t.test('a composed message reads back with its headers, UTF-8 text and attachments', async (t) => {
  const out = await composeMessage(input());
  const parsed = await simpleParser(out.raw);
  t.same(addresses(parsed.from), [{ name: 'Alice Écrivain', address: 'alice@example.test' }]);
  t.same(addresses(parsed.to), [{ name: 'Bob', address: 'bob@remote.test' }]);
  t.same(addresses(parsed.cc), [{ name: '', address: 'carol@remote.test' }]);
  t.equal(parsed.subject, 'Réunion à 14 h — ☕');
  t.equal(parsed.text?.trim(), 'Bonjour à tous,\nrendez-vous à 14 h.\n\nAlice');
  t.equal(parsed.date?.toISOString(), '2026-03-01T10:00:00.000Z');
  t.equal(parsed.inReplyTo, '<parent@remote.test>');
  t.same(parsed.references, ['<root@remote.test>', '<parent@remote.test>']);
  t.equal(parsed.attachments.length, 2);
  const [pdf, notes] = parsed.attachments;
  t.equal(pdf!.filename, 'ordre du jour é.pdf');
  t.equal(pdf!.contentType, 'application/pdf');
  t.ok(pdf!.content.equals(PDF), 'binary attachment intact');
  t.equal(notes!.filename, 'notes.txt');
  t.equal(notes!.content.toString('utf8'), 'ligne 1\nligne 2 ü\n');
});

t.test('Bcc is in the envelope and nowhere in the message', async (t) => {
  const out = await composeMessage(input());
  t.notOk(headerNames(out.raw).includes('bcc'), 'no Bcc header');
  t.notOk(out.raw.toString('latin1').includes('sam@hidden.test'), 'the Bcc address appears nowhere in the bytes');
  t.notOk(out.raw.toString('latin1').includes('Secret Sam'));
  t.same(out.envelope, { mailFrom: 'alice@example.test', rcptTo: ['bob@remote.test', 'carol@remote.test', 'sam@hidden.test'] });
});

t.test('the envelope lists each recipient once, IDN domains in ASCII', async (t) => {
  const out = await composeMessage(input({ to: [{ name: null, address: 'ana@jõgeva.ee' }, { name: null, address: 'Bob@Remote.test' }], cc: [{ name: null, address: 'bob@remote.test' }], bcc: [] }));
  t.same(out.envelope.rcptTo, ['ana@xn--jgeva-dua.ee', 'Bob@remote.test']);
  const parsed = await simpleParser(out.raw);
  t.match(addresses(parsed.to)[0]!.address, /^ana@(jõgeva|xn--jgeva-dua)\.ee$/);
});

t.test('nothing identifies the software, the client or its time zone', async (t) => {
  const out = await composeMessage(input());
  const names = headerNames(out.raw);
  t.same([...names].sort(), ['cc', 'content-type', 'date', 'from', 'in-reply-to', 'message-id', 'mime-version', 'references', 'subject', 'to']);
  const text = out.raw.toString('latin1');
  t.notMatch(text, /x-mailer|user-agent|x-originating-ip|nodemailer|NmP/i);
  t.match(text, /^Date: Sun, 01 Mar 2026 10:00:00 \+0000\r$/m, 'Date in UTC');
  t.notOk(/[^\r]\n/.test(text), 'CRLF line endings only');
});

t.test('the Message-ID is random, on the sender\'s domain', async (t) => {
  const a = await composeMessage(input());
  const b = await composeMessage(input());
  t.match(a.messageId, /^[A-Za-z0-9_-]{24}@example\.test$/);
  t.not(a.messageId, b.messageId);
  t.equal((await simpleParser(a.raw)).messageId, `<${a.messageId}>`);
  const idn = await composeMessage(input({ messageIdDomain: 'jõgeva.ee' }));
  t.match(idn.messageId, /@xn--jgeva-dua\.ee$/);
});

t.test('header injection through the subject or a name is neutralised', async (t) => {
  const out = await composeMessage(input({ subject: 'hi\r\nBcc: victim@remote.test', from: { name: 'A\r\nX-Evil: 1', address: 'alice@example.test' } }));
  const names = headerNames(out.raw);
  t.notOk(names.includes('bcc'));
  t.notOk(names.includes('x-evil'));
  t.equal((await simpleParser(out.raw)).subject, 'hi Bcc: victim@remote.test');
});

t.test('a message without attachments or Cc is a single text part', async (t) => {
  const out = await composeMessage(input({ attachments: [], cc: [], bcc: [], inReplyTo: null, references: [] }));
  const parsed = await simpleParser(out.raw);
  t.match(parsed.headers.get('content-type'), { value: 'text/plain' });
  t.notOk(headerNames(out.raw).includes('in-reply-to'));
  t.notOk(headerNames(out.raw).includes('references'));
});

t.test('a long References keeps the root and the latest ids', async (t) => {
  const refs = Array.from({ length: 40 }, (_, i) => `m${i}@remote.test`);
  const parsed = await simpleParser((await composeMessage(input({ references: refs }))).raw);
  const got = parsed.references as string[];
  t.equal(got.length, 20);
  t.equal(got[0], '<m0@remote.test>');
  t.equal(got[19], '<m39@remote.test>');
});

t.test('addresses: RFC 5322 addr-spec, IDN domains, nothing else', async (t) => {
  for (const ok of ['bob@example.org', 'o\'brien+tag@sub.example.co.uk', '"john doe"@example.org', 'x@jõgeva.ee', 'a.b-c_d@xn--jgeva-dua.ee', 'UPPER@Example.ORG']) {
    t.ok(isEmailAddress(ok), `accepts ${ok}`);
  }
  for (const bad of ['bob@', '@example.org', 'bob', 'a b@example.org', 'a..b@example.org', '.a@example.org', 'a.@example.org', 'x@localhost', 'x@1.2.3.4', 'x@[192.0.2.1]', 'é@example.org', 'x@ex_ample.org', 'x@-a.org', 'a,b@example.org', 'x@example.org\r\nBcc: y@z.org', `${'a'.repeat(65)}@example.org`, `a@${'b'.repeat(64)}.org`]) {
    t.notOk(isEmailAddress(bad), `rejects ${JSON.stringify(bad)}`);
  }
  t.equal(toAsciiAddress('Ana@Jõgeva.EE'), 'Ana@xn--jgeva-dua.ee');
});

t.test('parseMailbox takes "Name <addr>", a bare address or {name, address}', async (t) => {
  t.same(parseMailbox('Bob <bob@example.org>'), { name: 'Bob', address: 'bob@example.org' });
  t.same(parseMailbox('"Doe, Jane" <jane@example.org>'), { name: 'Doe, Jane', address: 'jane@example.org' });
  t.same(parseMailbox('  bob@example.org '), { name: null, address: 'bob@example.org' });
  t.same(parseMailbox({ address: 'bob@example.org', name: ' Bob\nX ' }), { name: 'Bob X', address: 'bob@example.org' });
  const err = t.throws(() => parseMailbox('bob@')) as unknown as AppError;
  t.equal(err.code, 'invalid_recipient');
  t.equal(err.message, 'not an email address: "bob@"');
  t.throws(() => parseMailbox('Bob <bob@>'), { code: 'invalid_recipient', message: 'not an email address: "Bob <bob@>"' });
  t.throws(() => parseMailbox('a@example.org, b@example.org'), { code: 'invalid_recipient' });
});

t.test('reply subjects get exactly one "Re: "', async (t) => {
  const cases: Array<[string | null, string]> = [
    ['Lunch plans', 'Re: Lunch plans'],
    ['Re: Lunch plans', 'Re: Lunch plans'],
    ['RE: re: Lunch plans', 'Re: Lunch plans'],
    ['Fwd: Lunch plans', 'Re: Lunch plans'],
    ['AW: WG: Termin', 'Re: Termin'],
    ['TR: Réunion', 'Re: Réunion'],
    ['Re[2]: Lunch', 'Re: Lunch'],
    ['Réf : dossier', 'Re: dossier'],
    ['[assoc] Re: AG 2026', 'Re: [assoc] AG 2026'],
    ['Regarding the plan', 'Re: Regarding the plan'],
    ['Trip to Rome', 'Re: Trip to Rome'],
    ['', 'Re:'],
    [null, 'Re:'],
  ];
  for (const [parent, want] of cases) t.equal(replySubject(parent), want, JSON.stringify(parent));
});

t.test('the quote: attribution in the user\'s language, every line prefixed', async (t) => {
  const date = new Date('2026-02-28T12:00:00Z');
  const en = quoteReply({ text: 'Noon works.\r\n\r\n> Shall we?\r\n', author: 'Carol', date, lang: 'en', timezone: 'UTC' });
  t.equal(en, 'On Saturday, 28 February 2026 at 12:00, Carol wrote:\n> Noon works.\n>\n>> Shall we?\n\n');
  const fr = quoteReply({ text: 'Midi.', author: 'Carol', date, lang: 'fr', timezone: 'Europe/Paris' });
  t.equal(fr, 'Le samedi 28 février 2026 à 13:00, Carol a écrit :\n> Midi.\n\n');
  const badZone = quoteReply({ text: 'x', author: 'C', date, lang: 'en', timezone: 'Mars/Olympus' });
  t.match(badZone, /^On Sat, 28 Feb 2026 12:00:00 GMT, C wrote:\n> x\n\n$/);
});

t.test('attachment names lose their path, types are kept only when well-formed', async (t) => {
  t.equal(attachmentFilename('../../etc/passwd'), 'passwd');
  t.equal(attachmentFilename('C:\\Users\\a\\plan é.pdf'), 'plan é.pdf');
  t.equal(attachmentFilename('a\r\nb.txt'), 'ab.txt');
  t.equal(attachmentFilename('..'), 'attachment');
  t.equal(attachmentFilename(''), 'attachment');
  t.equal(attachmentContentType('Application/PDF'), 'application/pdf');
  t.equal(attachmentContentType('text/plain; charset="ISO-8859-1"; format=flowed'), 'text/plain; charset=iso-8859-1');
  t.equal(attachmentContentType('image/png; charset=utf-8'), 'image/png');
  t.equal(attachmentContentType('not a type'), 'application/octet-stream');
  t.equal(attachmentContentType(''), 'application/octet-stream');
});
