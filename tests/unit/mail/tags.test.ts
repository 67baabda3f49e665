/** Tag names and colours as the domain accepts them (tags.ts). */
import t from 'tap';
import { normalizeTagColor, normalizeTagName } from '../../../server/mail/tags.js';

t.test('names: trimmed, NFC, 1–64 characters, system names in capitals', async (t) => {
  t.equal(normalizeTagName('  Family  '), 'Family');
  t.equal(normalizeTagName('E\u0301te\u0301'), 'Été', 'composed (NFC)');
  t.equal(normalizeTagName('spam'), 'SPAM');
  t.equal(normalizeTagName('Inbox'), 'INBOX');
  t.equal(normalizeTagName('x'.repeat(64)).length, 64);
  for (const bad of ['', '   ', 'x'.repeat(65), 'tab\there', 'nul\u0000']) {
    t.throws(() => normalizeTagName(bad), { code: 'validation_failed' }, JSON.stringify(bad));
  }
});

t.test('colours: #rrggbb, lower-cased; null clears', async (t) => {
  t.equal(normalizeTagColor('#A0B1C2'), '#a0b1c2');
  t.equal(normalizeTagColor(null), null);
  for (const bad of ['red', '#abc', '#abcdeg', 'a0b1c2', '#a0b1c2 ']) t.throws(() => normalizeTagColor(bad), { code: 'validation_failed' }, bad);
});
