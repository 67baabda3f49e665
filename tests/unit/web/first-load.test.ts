/**
 * The first page load: index.html preloads (modulepreload) exactly the modules app.js imports
 * statically, so the browser fetches them at once instead of discovering them import by import;
 * the screens loaded on demand and the OpenPGP code stay out of that set.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';

const WEB = path.resolve(import.meta.dirname, '../../../web');
const IMPORT = /^\s*import\s+(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
/** app.js loads the shell with import() so that it can start its first API calls before. */
const DYNAMIC_IMPORT = /\bimport\(['"]([^'"]+)['"]\)/g;

/** The static import closure of a module (and the entry's own import() calls), as URL paths ("/js/shell.js", "/vendor/preact.js"). */
function staticImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (url: string) => {
    if (seen.has(url)) return;
    seen.add(url);
    if (url.startsWith('/vendor/')) return;
    const source = fs.readFileSync(path.join(WEB, url), 'utf8');
    const found = [...source.matchAll(IMPORT), ...(url === entry ? source.matchAll(DYNAMIC_IMPORT) : [])];
    for (const m of found) {
      const spec = m[1]!;
      walk(spec.startsWith('/') ? spec : path.posix.join(path.posix.dirname(url), spec));
    }
  };
  walk(entry);
  seen.delete(entry);
  return seen;
}

t.test('index.html preloads exactly what app.js loads to show the first screen', async (t) => {
  const index = fs.readFileSync(path.join(WEB, 'index.html'), 'utf8');
  const preloaded = [...index.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]);
  const needed = staticImports('/app.js');
  t.same([...preloaded].sort(), [...needed].sort());
  t.equal(new Set(preloaded).size, preloaded.length, 'each once');
  for (const lazy of ['/js/screens/discussion.js', '/js/screens/compose.js', '/js/screens/settings.js', '/vendor/openpgp.mjs', '/vendor/qrcode.mjs']) {
    t.notOk(needed.has(lazy), `${lazy} is not in the first load`);
  }
  t.ok([...needed].every((u) => !u.startsWith('/js/pgp/')), 'no OpenPGP code in the first load');
});
