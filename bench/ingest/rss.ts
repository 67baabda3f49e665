/**
 * What the appliance's resident memory is made of before it handles any mail: bare node, the tsx
 * loader, each heavy dependency, the server's own modules, then a started app (store open, SMTP
 * and HTTP listening). The idle figure is most of the 200 MB RSS budget, so it is worth knowing
 * which part is which. Each step's RSS is read after a full GC (--expose-gc, re-run if missing).
 * This process loads the server through tsx; since 32070bd the appliance itself does not (bin/caliopen.js
 * runs an esbuild bundle): its idle figure is ~30–35 MB under this script's last step, see the ingest
 * bench's "idle RSS" and its anonymous / file-backed split.
 *
 *   node --import tsx bench/ingest/rss.ts
 */
import { spawnSync } from 'node:child_process';
import { fmt, runBench, table, tempDir } from '../lib/common.js';

type Gc = () => void;
const gc = (globalThis as { gc?: Gc }).gc;
if (!gc) {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const mb = (n: number) => n / 2 ** 20;

await runBench(async () => {
  const bare = spawnSync(process.execPath, ['-e', 'console.log(process.memoryUsage().rss)'], { encoding: 'utf8' });
  const rows: Array<[string, number, number]> = [['bare node (separate process)', mb(Number(bare.stdout.trim())), NaN]];
  const step = (name: string) => {
    gc!();
    const m = process.memoryUsage();
    rows.push([name, mb(m.rss), mb(m.heapUsed)]);
  };
  step('node + tsx loader (this process)');
  // The server's heavy dependencies first, one by one, so each one's own cost shows; the server's
  // modules then only add theirs. (selfsigned is loaded only when a certificate must be made.)
  for (const dep of ['knex', 'sqlite3', 'zod', 'mailparser', 'mailauth', 'smtp-server', 'nodemailer', 'koa', '@koa/router', 'sanitize-html']) {
    try {
      await import(dep);
      step(`+ ${dep}`);
    } catch {
      rows.push([`+ ${dep} (not importable)`, NaN, NaN]);
    }
  }
  const { createApp } = await import('../../server/app.js');
  step('+ server/app.ts and everything it imports');
  const { loadConfig } = await import('../../server/config.js');
  // Started twice on one data dir: first analysing on the main thread, then with the analyzer
  // worker thread (the default), so the worker's own isolate shows as the second step.
  const dir = tempDir('caliopen-bench-rss-');
  for (const analyzerThreads of [0, 1]) {
    const config = loadConfig(
      { CALIOPEN_DATA_DIR: dir, CALIOPEN_HTTP_PORT: '0', CALIOPEN_SMTP_PORT: '0', CALIOPEN_SUBMISSION_PORT: '0', CALIOPEN_SUBMISSIONS_PORT: '0', CALIOPEN_HOSTNAME: 'mx.example.test', CALIOPEN_RESOLVER: '127.0.0.1:9' },
      { smtp: { host: '127.0.0.1' }, http: { host: '127.0.0.1' }, logLevel: 'warn', ingest: { analyzerThreads } },
      dir,
    );
    const app = await createApp(config);
    await app.start();
    await new Promise((r) => setTimeout(r, 2000)); // the worker loads its modules after start
    step(analyzerThreads === 0 ? '+ createApp().start(), analysis on the main thread' : '+ again with the analyzer worker thread (default)');
    if (analyzerThreads === 1) {
      const m = process.memoryUsage();
      rows.push(['  (RSS before stop; heap of the main thread only)', mb(m.rss), mb(m.heapUsed)]);
    }
    await app.stop();
  }

  process.stdout.write(
    table(['step', 'RSS MB', 'step adds MB', 'JS heap used MB'], rows.map(([name, rss, heap], i) => {
      const prev = rows.slice(0, i).reverse().find((r) => !Number.isNaN(r[1]));
      return [name, fmt(rss), i === 0 || !prev ? '' : fmt(rss - prev[1]), fmt(heap)];
    })) + '\n\n',
  );
  process.stdout.write(JSON.stringify({ bench: 'rss-breakdown', steps: rows.map(([step, rssMb, heapMb]) => ({ step, rssMb, heapMb })) }) + '\n');
});
