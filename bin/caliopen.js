#!/usr/bin/env node
// The `caliopen` command. The sources are TypeScript, loaded through tsx (no build step to forget).
// libuv's thread pool runs SQLite queries and fsyncs side by side; 4 threads (the default) let a
// few slow fsyncs hold up every query. It must be sized before its first use, hence before imports.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../server/cli.ts');
await main(process.argv.slice(2));
