#!/usr/bin/env node
// The `caliopen` command. The sources are TypeScript, with no build step to forget: at every start
// the server (server/cli.ts and the files it imports) is bundled into one plain ES module in memory
// by esbuild (tsx's dependency; server/boot/bundle.js) and imported from a data: URL, nothing
// written to disk (the systemd unit's file system is read-only). Loading it through tsx instead
// costs ~35 MB more RSS for the process's whole life (on Node 20 tsx's hooks run on their own
// thread with their own V8 isolate, and tsx keeps the transformed sources; ingest bench idle RSS
// 235 → 205 MB, VmHWM 270 → 245 MB, bench/README.md), plus two esbuild service processes kept
// running (~27 MB); bundled, esbuild stops once the bundles are made. Start-up is not slower: ports
// open after ~1.4–1.9 s bundled vs ~1.6–2.2 s through tsx (2.3 s with tsx's cache cold, as after
// each boot under the unit's PrivateTmp). Packages are not bundled: they load from node_modules as
// before. If bundling fails, the server loads through tsx as before, with a one-line notice on
// stderr. CALIOPEN_TSX=1 forces tsx: stack traces then name the .ts files and their lines (bundled,
// they show `caliopen-bundle:server/cli.ts` and the bundle's lines).
//
// libuv's thread pool runs SQLite queries and fsyncs side by side; 4 threads (the default) let a
// few slow fsyncs hold up every query. It must be sized before its first use. Measured on Node
// 20.20: this file is an ES module, and the ESM loader reads it through that pool, so the pool is
// already running with 4 threads when this line runs; it only reaches child processes and the
// in-process benches (bench/lib/threadpool.ts reads it). For 16 threads in the appliance itself,
// set UV_THREADPOOL_SIZE in its environment.
process.env.UV_THREADPOOL_SIZE ??= '16';
// V8 lets the old generation grow to up to 4 × what survived the last full GC (its factor for a
// box with plenty of RAM), so a busy MX sat on 100–200 MB of garbage. 1.2 × keeps the heap near
// what is live: ingest bench VmHWM 488 → 270 MB for 20,000 messages, for ≈ 5–10 % more CPU in GC
// (bench/README.md). It is only a GC trigger, not a limit: a 50 MB message still fits. Heap limits
// (--max-old-space-size) cannot be changed once V8 runs; this factor is read at every GC, so
// setting it here works. `node --heap-growing-percent=0 bin/caliopen.js …` restores V8's own.
if (!process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))) {
  (await import('node:v8')).default.setFlagsFromString('--heap-growing-percent=20');
}

const CLI = new URL('../server/cli.ts', import.meta.url);

async function loadBundled() {
  const { bundleUrl, stopEsbuildWhenIdle } = await import('../server/boot/bundle.js');
  // tsx is not registered (yet): nothing else uses esbuild's service, which can stop between builds.
  stopEsbuildWhenIdle(true);
  try {
    const { fileURLToPath } = await import('node:url');
    return await import((await bundleUrl(fileURLToPath(CLI))).href);
  } catch (err) {
    stopEsbuildWhenIdle(false); // tsx is about to use it
    throw err;
  }
}

async function loadWithTsx() {
  const { register } = await import('tsx/esm/api');
  register();
  return import(CLI.href);
}

let cli;
if (process.env.CALIOPEN_TSX === '1') cli = await loadWithTsx();
else {
  try {
    cli = await loadBundled();
  } catch (err) {
    process.stderr.write(`caliopen: could not bundle the server (${String(err?.message ?? err).split('\n')[0]}); loading it through tsx\n`);
    cli = await loadWithTsx();
  }
}
await cli.main(process.argv.slice(2));
