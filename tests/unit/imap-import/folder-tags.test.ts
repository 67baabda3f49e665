/** Folders and flags → tags, and the batching of UIDs (sync.ts): pure functions. */
import t from 'tap';
import { tagsOfFlags, tagsOfFolder } from '../../../server/imap-import/folder-tags.js';
import { batchesOf, uidSet } from '../../../server/imap-import/sync.js';

t.test('special-use folders are system tags, others keep their name', async (t) => {
  t.same(tagsOfFolder({ path: 'INBOX', specialUse: '\\Inbox' }), ['INBOX']);
  t.same(tagsOfFolder({ path: 'Envoyés', specialUse: '\\Sent' }), ['SENT']);
  t.same(tagsOfFolder({ path: 'Spam', specialUse: '\\Junk' }), ['SPAM']);
  t.same(tagsOfFolder({ path: 'Brouillons', specialUse: '\\Drafts' }), ['DRAFT']);
  t.same(tagsOfFolder({ path: 'Archives', specialUse: '\\Archive' }), ['Archives']);
  t.same(tagsOfFolder({ path: 'Clients/2024', specialUse: null }), ['Clients/2024']);
  t.equal(tagsOfFolder({ path: 'x'.repeat(100), specialUse: null })[0]!.length, 64, 'bounded to a tag name');
});

t.test('flags: \\Seen reads, \\Flagged and $Junk tag, keywords become tags, bookkeeping ignored', async (t) => {
  t.same(tagsOfFlags(new Set(['\\Seen', '\\Flagged', '\\Answered', '$Junk', 'Invoices', '$NotJunk', '$Forwarded'])), { read: true, tags: ['IMPORTANT', 'SPAM', 'Invoices'] });
  t.same(tagsOfFlags(new Set()), { read: false, tags: [] });
});

t.test('UID sets are compact; batches bounded by count and bytes', async (t) => {
  t.equal(uidSet([1, 2, 3, 5, 7, 8]), '1:3,5,7:8');
  const msgs = [10, 20, 5, 100, 1, 1, 1].map((size, i) => ({ uid: i + 1, size }));
  t.same(batchesOf(msgs, { batchMessages: 3, batchBytes: 40 }), [[1, 2, 3], [4], [5, 6, 7]], 'a large message goes alone');
  t.same(batchesOf([], { batchMessages: 3, batchBytes: 40 }), []);
});
