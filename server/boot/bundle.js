/**
 * Turns a TypeScript entry (server/cli.ts, server/mail/analyze-worker.ts) and the server files it
 * imports into one plain ES module, with esbuild (a dependency of tsx), served from a data: URL:
 * nothing is written to disk (the systemd unit's file system is read-only). Loading the server
 * this way instead of through tsx's hooks saves a hooks thread with its own V8 isolate and tsx's
 * transformed sources (~35 MB of the appliance's RSS on Node 20, bench/README.md).
 *
 * Plain JavaScript on purpose: bin/caliopen.js loads it before anything can load TypeScript.
 *
 * What a bundle keeps meaning what the files meant:
 *  - packages are not bundled: each import becomes the absolute file URL Node's own resolver gives
 *    (import.meta.resolve, "import" conditions, as an ES module importing it would get), so they
 *    load as they always did, once per process; builtins stay as they are;
 *  - server/boot/ files are not bundled either (imported by file URL): the bin and the bundle share
 *    one instance of this module;
 *  - `import.meta` in a bundled file is rewritten to that file's own: its url, filename, dirname
 *    and a resolve() that resolves relative specifiers from that file (data: URLs resolve no
 *    relative and no bare specifier);
 *  - the module is named `caliopen-bundle:<entry path>` in stack traces (a //# sourceURL comment),
 *    not by its data: URL (the whole source). Line numbers are the bundle's: for a readable trace
 *    run with CALIOPEN_TSX=1 (bin/caliopen.js).
 * A dynamic import with a computed path cannot work from a data: URL: the build refuses it (a
 * template literal becomes a glob esbuild warns about; any other computed import( is looked for in
 * the output), and the bin then loads through tsx. The server has none: migrations are listed
 * statically in store/migrations/index.ts, dynamic imports name their module.
 */
import { builtinModules, createRequire } from 'node:module';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = import.meta.url;
const BOOT_DIR = path.dirname(fileURLToPath(SELF));
const REPO_ROOT = path.resolve(BOOT_DIR, '../..');
const builtins = new Set(builtinModules);
const require = createRequire(SELF);

/** Not ./x, ../x or /x: a package, a builtin or a URL (esbuild's filters are Go regexps: no look-ahead). */
const BARE = /^[^./]/;
const RELATIVE = /^\.\.?\//;
const SOURCE = /\.(?:ts|mts|js|mjs)$/;
const IMPORT_META = /\bimport\.meta\b/g;

/**
 * A package's file URL as an ES module importing it gets it; a subpath Node's ESM resolver refuses
 * (a directory or a file without its extension, in a package with no "exports") resolves as
 * require() would, as tsx's resolver does.
 */
export function resolvePackage(specifier) {
  if (specifier.startsWith('node:') || builtins.has(specifier)) return specifier;
  if (specifier.startsWith('file:') || specifier.startsWith('data:')) return specifier;
  try {
    return import.meta.resolve(specifier);
  } catch (err) {
    try {
      return pathToFileURL(require.resolve(specifier)).href;
    } catch {
      throw err;
    }
  }
}

/** What `import.meta` means in the bundled file at fileUrl. */
export function importMetaFor(fileUrl) {
  const filename = fileURLToPath(fileUrl);
  return {
    url: fileUrl,
    filename,
    dirname: path.dirname(filename),
    resolve: (specifier) => (RELATIVE.test(specifier) || specifier.startsWith('/') ? new URL(specifier, fileUrl).href : resolvePackage(specifier)),
  };
}

// esbuild's service (a Go child process) is shared with tsx when tsx is registered: stopping it
// then leaves tsx's in-flight transforms hanging forever (a module import that never resolves).
// Only bin/caliopen.js, running bundled with tsx not registered, lets it stop between builds.
let stopWhenIdle = false;
let building = 0;

export function stopEsbuildWhenIdle(on) {
  stopWhenIdle = on;
}

/** esbuild is tsx's dependency: found next to the server's packages, or inside tsx's own. */
async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch {
    const fromTsx = createRequire(require.resolve('tsx'));
    return await import(pathToFileURL(fromTsx.resolve('esbuild')).href);
  }
}

const plugin = {
  name: 'caliopen-boot',
  setup(build) {
    build.onResolve({ filter: BARE }, (args) => ({ path: resolvePackage(args.path), external: true }));
    build.onResolve({ filter: RELATIVE }, (args) => {
      const file = path.resolve(args.resolveDir, args.path);
      return path.dirname(file) === BOOT_DIR ? { path: pathToFileURL(file).href, external: true } : undefined;
    });
    build.onLoad({ filter: SOURCE }, async (args) => {
      const text = await fs.readFile(args.path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      // Prepended on the first line, so line numbers stay the file's.
      const prefix = `import { importMetaFor as __caliopenImportMetaFor } from ${JSON.stringify(SELF)}; `
        + `const __caliopenImportMeta = __caliopenImportMetaFor(${JSON.stringify(pathToFileURL(args.path).href)}); `;
      const ext = path.extname(args.path);
      return { contents: prefix + text.replace(IMPORT_META, '__caliopenImportMeta'), loader: ext === '.ts' || ext === '.mts' ? 'ts' : 'js' };
    });
  },
};

/** The bundle's source text. Rejects on any esbuild error or warning (a warning here is a file that would not load). */
export async function bundleSource(entryFile) {
  const esbuild = await loadEsbuild();
  building++;
  try {
    const out = await esbuild.build({
      entryPoints: [entryFile],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      plugins: [plugin],
    });
    if (out.warnings.length) {
      const [w] = out.warnings;
      throw new Error(`esbuild: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}`);
    }
    const text = out.outputFiles[0].text;
    // import(x) with x computed is left as is, and from a data: URL it could load neither a file
    // nor a package: refuse the bundle (the caller falls back to tsx) rather than fail later.
    const computed = /\bimport\((?!")[^)]{0,60}/.exec(text);
    if (computed) throw new Error(`esbuild: dynamic import with a computed specifier: ${computed[0]}`);
    const name = `caliopen-bundle:${path.relative(REPO_ROOT, entryFile).split(path.sep).join('/')}`;
    return `${text}//# sourceURL=${name}\n`;
  } finally {
    if (--building === 0 && stopWhenIdle) await esbuild.stop();
  }
}

/**
 * The bundle of entryFile as a data: URL, ready for import() or new Worker(). Percent-encoded rather
 * than base64 (a little longer): the imports stay readable in it.
 */
export async function bundleUrl(entryFile) {
  return new URL(`data:text/javascript,${encodeURIComponent(await bundleSource(entryFile))}`);
}
