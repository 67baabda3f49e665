#!/usr/bin/env node
// Runs the whole suite with tap and ends with one plain line: "N passed, N failed[, N skipped]".
// Extra arguments are passed to tap (e.g. a single test file).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const tapBin = path.join(path.dirname(require.resolve('tap/package.json')), 'dist/esm/run.mjs');
const child = spawn(process.execPath, [tapBin, ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'] });
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
});
child.on('close', (code) => {
  const m = tail.match(/# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?(?:, todo: (\d+))?(?:, skip: (\d+))?/);
  const total = m ? Number(m[1]) : 0;
  const pass = m ? Number(m[2] ?? 0) : 0;
  const skip = m ? Number(m[5] ?? 0) : 0;
  let fail = m ? Number(m[3] ?? 0) : 0;
  if (code !== 0 && fail === 0) fail = 1; // a crashed file or runner error still counts as a failure
  const line = `${pass} passed, ${fail} failed` + (skip ? `, ${skip} skipped` : '');
  if (total === 0 && code === 0) console.log('no test ran');
  console.log(line);
  process.exit(code ?? 1);
});
