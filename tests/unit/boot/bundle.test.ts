/**
 * bin/caliopen.js runs the server from an esbuild bundle of server/cli.ts (server/boot/bundle.js)
 * instead of registering tsx. What the bundle must keep: packages loaded from node_modules by URL,
 * `import.meta` meaning each original file's, and a CLI that starts and serves (web files found
 * through import.meta.url, vendor files through createRequire, mail analysed in the worker bundle).
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import nodemailer from 'nodemailer';
import { bundleSource, importMetaFor, resolvePackage } from '../../../server/boot/bundle.js';
import { runCli, repoRoot } from '../../helpers/cli.js';
import { startAppliance } from '../../helpers/appliance-process.js';
import { tempDir } from '../../helpers/deps.js';
import { openReadDb, closeDb } from '../../../server/store/db.js';

t.test('the CLI bundle imports only builtins and absolute file URLs, and no import.meta of its own', async (t) => {
  const src = await bundleSource(path.join(repoRoot, 'server/cli.ts'));
  const specifiers = [...src.matchAll(/^import\s[^;]*?\sfrom\s"([^"]+)";?$|^import\s"([^"]+)";?$|\bimport\("([^"]+)"\)/gm)].map((m) => m[1] ?? m[2] ?? m[3]!);
  t.ok(specifiers.length > 20, `${specifiers.length} imports`);
  t.same(specifiers.filter((s) => !s.startsWith('node:') && !s.startsWith('file:///')), [], 'every import is a builtin or a file URL');
  t.notMatch(src, /\bimport\.meta\b/, 'import.meta rewritten in every bundled file');
  t.match(src, /__caliopenImportMetaFor\d*\("file:\/\/\/[^"]*\/server\/api\/middleware\/static\.ts"\)/, "static.ts's import.meta is its own file's");
  t.match(src, new RegExp(`from "${pathToFileURL(path.join(repoRoot, 'server/boot/bundle.js')).href}"`), 'server/boot/ is shared by URL, not bundled');
  t.match(src, /\/\/# sourceURL=caliopen-bundle:server\/cli\.ts\n$/, 'named in stack traces by its entry, not its data: URL');
});

t.test('importMetaFor: url, filename, dirname and resolve as the original file has them', async (t) => {
  const file = path.join(repoRoot, 'server/mail/analyzer.ts');
  const meta = importMetaFor(pathToFileURL(file).href);
  t.equal(meta.filename, file);
  t.equal(meta.dirname, path.dirname(file));
  t.equal(meta.resolve('./analyze-worker-boot.js'), pathToFileURL(path.join(repoRoot, 'server/mail/analyze-worker-boot.js')).href);
  t.equal(meta.resolve('knex'), import.meta.resolve('knex'));
  t.equal(resolvePackage('node:fs'), 'node:fs');
  t.equal(resolvePackage('fs'), 'fs');
  // no "exports" map resolves a directory as require() would (tsx's resolver did too)
  t.ok(fs.existsSync(fileURLToPath(resolvePackage('smtp-server/lib/smtp-connection.js'))));
});

const RUN_ENV = { CALIOPEN_RESOLVER: '127.0.0.1:9', CALIOPEN_HOSTNAME: 'mx.example.test' };

t.test('print-config: bundled by default, the same through tsx with CALIOPEN_TSX=1', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bundled = await runCli(['print-config'], { ...RUN_ENV, CALIOPEN_DATA_DIR: dir });
  t.equal(bundled.code, 0, bundled.stderr);
  t.equal(bundled.stderr, '', 'no notice: the bundle was used');
  t.equal(JSON.parse(bundled.stdout).dataDir, dir);
  const withTsx = await runCli(['print-config'], { ...RUN_ENV, CALIOPEN_DATA_DIR: dir, CALIOPEN_TSX: '1' });
  t.equal(withTsx.code, 0, withTsx.stderr);
  t.equal(withTsx.stdout, bundled.stdout);
});

t.test('a bundled start serves the web app and stores mail analysed by the worker bundle', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { ...RUN_ENV, CALIOPEN_DATA_DIR: dir };
  fs.writeFileSync(path.join(dir, 'pw'), 'bundled password 123');
  const setup = await runCli(['setup', '--domain', 'example.test', '--admin', 'alice', '--password-file', path.join(dir, 'pw')], env);
  t.equal(setup.code, 0, setup.stderr);
  const app = await startAppliance(env);
  t.teardown(() => app.stop());
  const base = `http://127.0.0.1:${app.ports.http}`;

  const health = await fetch(`${base}/healthz`);
  t.equal(health.status, 200);
  t.same(await health.json(), { ok: true, db: true });
  const index = await fetch(`${base}/`);
  t.equal(index.status, 200, 'web/ found from static.ts (import.meta.url)');
  t.match(index.headers.get('content-type'), /text\/html/);
  const vendor = await fetch(`${base}/vendor/preact.js`);
  t.equal(vendor.status, 200, 'node_modules found from static.ts (createRequire(import.meta.url))');
  await vendor.arrayBuffer();

  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: app.ports.smtp, secure: false, ignoreTLS: true, name: 'bundle.test' });
  await transport.sendMail({
    envelope: { from: 'ann@remote.test', to: ['alice@example.test'] },
    from: 'Ann <ann@remote.test>', to: 'alice@example.test', subject: 'through the bundle', messageId: '<bundle-1@remote.test>', text: 'hello',
  });
  transport.close();
  const db = openReadDb(dir, 1);
  try {
    const row = (await db('messages').where({ subject: 'through the bundle' }).count({ n: '*' }).first()) as { n: number };
    t.equal(Number(row.n), 1, 'stored (the 250 came after the commit)');
  } finally {
    await closeDb(db);
  }
  t.notMatch(app.output(), /through tsx|not bundled|cannot start/, 'neither the server nor the analyzer worker fell back to tsx');
});
