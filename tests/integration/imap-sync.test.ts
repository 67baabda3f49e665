/**
 * IMAP import against a real Dovecot (tests/helpers/dovecot.ts): folders, flags, special use and
 * non-ASCII names become tags; reading changes nothing on the server; a second run fetches only
 * new mail; a new UIDVALIDITY re-reads a folder without duplicates; the same message in two
 * folders is one message with both tags; delete-after-import empties the folder.
 */
import t from 'tap';
import { dovecotMissing } from '../helpers/dovecot.js';
import { imapHarness, mail } from '../helpers/imap-harness.js';
import { listFolders } from '../../server/imap-import/account-store.js';

const skip = dovecotMissing();
if (skip) t.comment(skip);

t.test('folders, special use, non-ASCII names and flags become tags; nothing is marked seen remotely', { skip }, async (t) => {
  const h = await imapHarness(t);
  const d = h.dovecot;
  d.add('alice', 'INBOX', mail('Plain unread'));
  d.add('alice', 'INBOX', mail('Seen and flagged'), 'SF');
  d.add('alice', 'Sent', mail('In sent', { from: 'Alice <alice@remote.test>', to: 'Dan <dan@remote.test>' }), 'S');
  d.add('alice', 'Junk', mail('In junk'));
  d.add('alice', 'Archive', mail('Archived'), 'S');
  d.createFolder('alice', 'Café/Été 2024');
  d.add('alice', 'Café/Été 2024', mail('Accents'));
  d.add('alice', 'Trash', mail('Deleted one'));
  d.createFolder('alice', 'Projects');
  const account = await h.account();
  const summary = await h.sync(account.id);
  t.equal(summary.imported, 6, 'every message of every selected folder (Trash is not selected by default)');
  t.same(await h.tagsOfSubject('Plain unread'), ['INBOX']);
  t.same(await h.tagsOfSubject('Seen and flagged'), ['IMPORTANT', 'INBOX']);
  t.same(await h.tagsOfSubject('In sent'), ['SENT'], 'the Sent folder is the user\'s own mail: SENT, not INBOX');
  t.same(await h.tagsOfSubject('In junk'), ['SPAM'], 'the Junk folder: SPAM, not INBOX');
  t.equal((await h.deps.db('messages').where({ subject: 'In junk' }).first('is_spam')).is_spam, 1, 'and marked as spam');
  t.ok((await h.tagsOfSubject('Archived')).includes('Archive'));
  t.ok((await h.tagsOfSubject('Accents')).includes('Café/Été 2024'), 'modified UTF-7 folder name decoded');
  const read = await h.deps.db('messages').where({ subject: 'Seen and flagged' }).first('is_read', 'source', 'transport_json');
  t.equal(read.is_read, 1, '\\Seen → read');
  t.equal(read.source, 'imap');
  t.match(JSON.parse(read.transport_json), { tls: { protocol: /^TLSv1\.[23]$/ }, clientHostname: '127.0.0.1' }, 'the IMAP link is the last hop');
  t.equal((await h.deps.db('messages').where({ subject: 'Plain unread' }).first('is_read')).is_read, 0);
  const folders = await listFolders(h.deps.db, account.id);
  t.match(folders.find((f) => f.path === 'Trash'), { specialUse: '\\Trash', selected: false });
  t.match(folders.find((f) => f.path === 'Sent'), { specialUse: '\\Sent', selected: true, lastUid: 1 });
  const flags = d.doveadm(['fetch', '-u', 'alice', 'flags', 'mailbox', 'INBOX']);
  t.equal(flags.match(/\\Seen/g)?.length, 1, 'only the message seen before is \\Seen on the server: the unread message is still unread on the server (BODY.PEEK, EXAMINE)');
});

t.test('a second run fetches only the new messages', { skip }, async (t) => {
  const h = await imapHarness(t);
  for (let i = 0; i < 5; i++) h.dovecot.add('alice', 'INBOX', mail(`first ${i}`));
  const account = await h.account();
  t.equal((await h.sync(account.id)).imported, 5);
  t.equal((await h.sync(account.id)).imported + (await h.sync(account.id)).duplicates, 0, 'nothing read again');
  h.dovecot.add('alice', 'INBOX', mail('late one'));
  h.dovecot.add('alice', 'Archive', mail('late two'));
  const events: Array<{ done: number; total: number }> = [];
  const third = await h.sync(account.id, { onProgress: (p) => events.push(p) });
  t.equal(third.imported, 2);
  t.equal(third.duplicates, 0, 'the old ones were not fetched');
  t.equal(await h.count(), 7);
  t.match(events.at(-1), { state: 'done', done: 7, total: 7, etaSeconds: 0 });
});

t.test('a new UIDVALIDITY re-reads the folder without duplicates', { skip }, async (t) => {
  const h = await imapHarness(t);
  for (let i = 0; i < 4; i++) h.dovecot.add('alice', 'INBOX', mail(`uv ${i}`));
  const account = await h.account();
  await h.sync(account.id);
  const before = (await listFolders(h.deps.db, account.id)).find((f) => f.path === 'INBOX')!;
  h.dovecot.doveadm(['mailbox', 'update', '-u', 'alice', '--uid-validity', String(Number(before.uidvalidity) + 1000), 'INBOX']);
  h.dovecot.add('alice', 'INBOX', mail('after the change'));
  const again = await h.sync(account.id);
  t.equal(again.duplicates, 4, 'every old message read again, and recognised');
  t.equal(again.imported, 1);
  t.equal(await h.count(), 5);
  const after = (await listFolders(h.deps.db, account.id)).find((f) => f.path === 'INBOX')!;
  t.not(after.uidvalidity, before.uidvalidity);
});

t.test('the same message in two folders is one message with both tags', { skip }, async (t) => {
  const h = await imapHarness(t);
  const raw = mail('Twice filed');
  h.dovecot.add('alice', 'INBOX', raw);
  h.dovecot.createFolder('alice', 'Clients');
  h.dovecot.add('alice', 'Clients', raw, 'S');
  const account = await h.account();
  const s = await h.sync(account.id);
  t.equal(s.imported, 1);
  t.equal(s.duplicates, 1);
  t.equal(await h.count(), 1);
  t.same(await h.tagsOfSubject('Twice filed'), ['Clients', 'INBOX']);
});

t.test('delete after import: the folder is emptied once the messages are stored', { skip }, async (t) => {
  const h = await imapHarness(t);
  for (let i = 0; i < 6; i++) h.dovecot.add('alice', 'INBOX', mail(`to delete ${i}`));
  const account = await h.account({ deleteAfterImport: true });
  t.equal((await h.sync(account.id, { limits: { batchMessages: 4 } })).imported, 6);
  t.equal(await h.count(), 6);
  const status = h.dovecot.doveadm(['mailbox', 'status', '-u', 'alice', 'messages', 'INBOX']);
  t.match(status, /messages=0/, 'expunged on the server');
});
