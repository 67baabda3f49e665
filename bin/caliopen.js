#!/usr/bin/env node
// The `caliopen` command. The sources are TypeScript, loaded through tsx (no build step to forget).
// libuv's thread pool runs SQLite queries and fsyncs side by side; 4 threads (the default) let a
// few slow fsyncs hold up every query. It must be sized before its first use, hence before imports.
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
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../server/cli.ts');
await main(process.argv.slice(2));
