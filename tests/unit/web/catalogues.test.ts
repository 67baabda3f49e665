/**
 * The web app's string catalogues: English and French have the same keys, no empty string, the
 * same {placeholders} per key, and every key the code names exists in both. "Names" covers t('…')
 * calls and key-shaped string literals ('device.type.phone' in a lookup table), the two ways a
 * key reaches t() in web/.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';

const WEB = path.resolve(import.meta.dirname, '../../../web');
const load = (lang: string): Record<string, string> => JSON.parse(fs.readFileSync(path.join(WEB, 'i18n', `${lang}.json`), 'utf8'));
const en = load('en');
const fr = load('fr');

function jsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'vendor' ? [] : jsFiles(p);
    return e.name.endsWith('.js') ? [p] : [];
  });
}

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

t.test('en and fr have the same keys, none empty, with the same placeholders', async (t) => {
  t.same(Object.keys(fr).sort(), Object.keys(en).sort(), 'same keys');
  t.ok(Object.keys(en).length > 50, 'the catalogue is the real one');
  for (const [lang, cat] of [['en', en], ['fr', fr]] as const) {
    const empty = Object.entries(cat).filter(([, v]) => typeof v !== 'string' || v.trim() === '').map(([k]) => k);
    t.same(empty, [], `${lang}: no empty value`);
  }
  const mismatched = Object.keys(en).filter((k) => k in fr && placeholders(en[k]!).join() !== placeholders(fr[k]!).join());
  t.same(mismatched, [], 'each key fills the same {placeholders} in both languages');
});

t.test('every key the web app uses exists in both catalogues', async (t) => {
  const files = jsFiles(WEB);
  t.ok(files.some((f) => f.endsWith(path.join('js', 'shell.js'))), 'walks web/js');
  const prefixes = new Set(Object.keys(en).map((k) => k.split('.')[0]));
  const used = new Map<string, string>();
  for (const file of files) {
    const src = fs.readFileSync(file, 'utf8');
    const rel = path.relative(WEB, file);
    for (const m of src.matchAll(/\bt\(\s*'([^']+)'/g)) used.set(m[1]!, rel);
    for (const m of src.matchAll(/'([a-z]+(?:\.[a-z0-9_]+)+)'/g)) if (prefixes.has(m[1]!.split('.')[0])) used.set(m[1]!, rel);
  }
  t.ok(used.size > 50, `found ${used.size} keys in ${files.length} files`);
  const missing = [...used].filter(([k]) => !(k in en) || !(k in fr)).map(([k, f]) => `${k} (${f})`);
  t.same(missing, [], 'no key missing');
});
