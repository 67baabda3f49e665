/**
 * The analyzer worker's code as one plain ES module, made at start with esbuild (a dependency of
 * tsx) from analyze-worker.ts and the few files it imports. A worker thread does not inherit the
 * main thread's tsx hooks: loading TypeScript there means registering tsx again, which on Node 20
 * starts one more hooks thread with its own V8 isolate (~20 MB of RSS, bench/ingest/rss.ts) for
 * nothing but these few files. Packages stay outside the bundle, imported by absolute file URL
 * (resolved here as the main thread resolves them), so the module can live in a data: URL: nothing
 * is written to disk (the systemd unit's file system is read-only). If bundling fails, the worker
 * boots through tsx as before (analyze-worker-boot.js).
 */
import { fileURLToPath } from 'node:url';

const ENTRY = new URL('./analyze-worker.ts', import.meta.url);
export const BOOT_WITH_TSX = new URL('./analyze-worker-boot.js', import.meta.url);

/** Not ./x or /x: a package, resolved to where the main thread finds it, or a builtin (esbuild's filters are Go regexps: no look-ahead). */
const BARE = /^[^./]/;

const BUILD_TIMEOUT_MS = 30_000;
let made: Promise<URL> | undefined;

/**
 * Made once per process: apps started side by side (tests) share it. A build that takes over BUILD_TIMEOUT_MS
 * fails, and the worker boots through tsx instead of waiting.
 */
export function analyzeWorkerScript(): Promise<URL> {
  made ??= new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('analyzer worker bundle timed out')), BUILD_TIMEOUT_MS).unref();
    bundle().then(resolve, reject).finally(() => clearTimeout(timer));
  });
  return made;
}

async function bundle(): Promise<URL> {
  const esbuild = await import('esbuild');
  const { builtinModules } = await import('node:module');
  const builtins = new Set(builtinModules);
  // No esbuild.stop() afterwards: tsx transforms the main thread's TypeScript through the same
  // esbuild service, and stopping it leaves whatever it was transforming hanging (a module import
  // that never resolves).
  const out = await esbuild.build({
    entryPoints: [fileURLToPath(ENTRY)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
    plugins: [{
      name: 'packages-by-url',
      setup(build) {
        build.onResolve({ filter: BARE }, (args) =>
          ({ path: args.path.startsWith('node:') || builtins.has(args.path) ? args.path : import.meta.resolve(args.path), external: true }));
      },
    }],
  });
  return new URL(`data:text/javascript,${encodeURIComponent(out.outputFiles[0]!.text)}`);
}
