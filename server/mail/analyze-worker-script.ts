/**
 * The analyzer worker's code as one plain ES module, made at start with esbuild (a dependency of
 * tsx) from analyze-worker.ts and the few files it imports (server/boot/bundle.js: packages stay
 * outside the bundle, imported by absolute file URL resolved as the main thread resolves them,
 * and the module lives in a data: URL, so nothing is written to disk: the systemd unit's file
 * system is read-only). A worker thread does not inherit the main thread's tsx hooks: loading
 * TypeScript there means registering tsx again, which on Node 20 starts one more hooks thread with
 * its own V8 isolate (~20 MB of RSS, bench/ingest/rss.ts) for nothing but these few files. This
 * works the same whether the main thread runs through tsx (tests) or bundled (bin/caliopen.js):
 * esbuild reads the TypeScript itself. If bundling fails, the worker boots through tsx as before
 * (analyze-worker-boot.js).
 *
 * Never call esbuild.stop() here: under tsx the main thread's TypeScript is transformed through
 * the same esbuild service, and stopping it leaves whatever it was transforming hanging (a module
 * import that never resolves). bundle.js stops it only when the bin says tsx is not in use.
 */
import { fileURLToPath } from 'node:url';
import { bundleUrl } from '../boot/bundle.js';

const ENTRY = new URL('./analyze-worker.ts', import.meta.url);
export const BOOT_WITH_TSX = new URL('./analyze-worker-boot.js', import.meta.url);

const BUILD_TIMEOUT_MS = 30_000;
let made: Promise<URL> | undefined;

/**
 * Made once per process: apps started side by side (tests) share it. A build that takes over BUILD_TIMEOUT_MS
 * fails, and the worker boots through tsx instead of waiting.
 */
export function analyzeWorkerScript(): Promise<URL> {
  made ??= new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('analyzer worker bundle timed out')), BUILD_TIMEOUT_MS).unref();
    bundleUrl(fileURLToPath(ENTRY)).then(resolve, reject).finally(() => clearTimeout(timer));
  });
  return made;
}
