/**
 * Import first. An in-process benchmark must run with the libuv thread-pool size the appliance
 * gets from bin/caliopen.js (SQLite statements and fsyncs share that pool, so it changes the
 * figures), and the size only counts if set before the pool's first use: when the environment
 * does not set it, this re-runs the current command with the appliance's default and exits.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/caliopen.js');
const m = /UV_THREADPOOL_SIZE\s*\?\?=\s*'(\d+)'/.exec(fs.readFileSync(bin, 'utf8'));

if (m && process.env.UV_THREADPOOL_SIZE === undefined) {
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, UV_THREADPOOL_SIZE: m[1] },
  });
  process.exit(r.status ?? 1);
}

export const threadPoolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
