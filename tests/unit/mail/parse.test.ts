import t from 'tap';
import { contentHash, normalizeSubject, addressesOf, excerptOf, parseMessage, listIdOf, referencesOf } from '../../../server/mail/parse.js';

const base = 'From: a@x.test\r\nTo: b@y.test\r\nSubject: s\r\nMessage-ID: <1@x.test>\r\n\r\nbody\r\n';

t.test('content hash ignores trace headers and line endings', async (t) => {
  const h = contentHash(Buffer.from(base));
  t.equal(contentHash(Buffer.from('Received: from mx by us; Sun, 1 Mar 2026\r\n\tcontinued\r\nReturn-Path: <a@x.test>\r\n' + base)), h);
  t.equal(contentHash(Buffer.from(base.replace(/\r\n/g, '\n'))), h);
  t.not(contentHash(Buffer.from(base.replace('body', 'b0dy'))), h, 'body changes change the hash');
  t.not(contentHash(Buffer.from(base.replace('Subject: s', 'Subject: t'))), h, 'header changes change the hash');
});

t.test('subject normalisation strips reply prefixes in several languages', async (t) => {
  t.equal(normalizeSubject('Re: RE: Fwd: Tr: AW: Lunch'), 'Lunch');
  t.equal(normalizeSubject('Re[2]: Lunch'), 'Lunch');
  t.equal(normalizeSubject('Reunion'), 'Reunion');
  t.equal(normalizeSubject(undefined), '');
});

t.test('addresses with groups, names and roles', async (t) => {
  const p = await parseMessage(Buffer.from('From: "Bob B" <Bob@X.test>\r\nTo: team: c@y.test, d@y.test;\r\nCc: e@z.test\r\nReply-To: r@x.test\r\n\r\nhi\r\n'));
  t.same(addressesOf(p), [
    { role: 'from', address: 'bob@x.test', name: 'Bob B' },
    { role: 'to', address: 'c@y.test', name: '' },
    { role: 'to', address: 'd@y.test', name: '' },
    { role: 'cc', address: 'e@z.test', name: '' },
    { role: 'reply_to', address: 'r@x.test', name: '' },
  ].map((a) => ({ ...a, name: a.name || null })));
});

t.test('list id, references, excerpt', async (t) => {
  const p = await parseMessage(Buffer.from('From: a@x.test\r\nList-Id: Friends <friends.lists.test>\r\nReferences: <a@x> <b@x>\r\n\r\nhi\r\n'));
  t.equal(listIdOf(p), 'friends.lists.test');
  t.same(referencesOf(p), ['a@x', 'b@x']);
  t.equal(excerptOf('Hello there\n> quoted\n  second   line'), 'Hello there second line');
});
