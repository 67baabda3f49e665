/**
 * The web app's three targets (issue 4), on a box with 10,000 discussions served by the real
 * appliance (`caliopen start`, a child process, loopback only) and read by headless Chromium:
 *
 *  1. first-load budget: every response of a real load of #/timeline after login; JS + CSS (+ the
 *     i18n catalogue) summed raw and gzip -9, target ≤ 150 KB gzipped; code that must stay out of
 *     the first load (OpenPGP) must not be requested; V8/CSS coverage says what ships unused;
 *  2. first timeline render: navigation start → 50 discussion rows in the DOM (and the frame after),
 *     page loads with a logged-in session, target p50/p95 ≤ 500 ms; plus the route change to a
 *     discussion and back, and the infinite scroll to the second page;
 *  3. GET /api/v1/discussions?limit=50 over HTTP with the browser's session, first page and a
 *     `before=` cursor page, target p95 ≤ 30 ms.
 *
 *   node --import tsx bench/web/run.ts [--discussions 10000] [--loads 20] [--api-runs 100]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Test } from 'tap';
import { startDnsServer } from '../../tests/helpers/dns-server.js';
import { apiClient } from '../../tests/helpers/api-client.js';
import { startBrowser } from '../../tests/helpers/browser.js';
import { catalogue, logIn } from '../../tests/helpers/web-app.js';
import { cpuSeconds, fmt, intArg, machineInfo, onCleanup, percentile, runBench, schedstat, table, tempDir } from '../lib/common.js';
import { ADMIN, applianceEnv, startAppliance } from '../lib/appliance.js';
import { cachedBox } from './mailbox.js';
import { ROWS, coverageOfLoad, loadOnce, preparePages, type Fetched, type LoadTiming, type SpaTiming } from './page.js';

const argv = process.argv.slice(2);
const DISCUSSIONS = intArg(argv, '--discussions', 10_000);
const LOADS = intArg(argv, '--loads', 20);
const API_RUNS = intArg(argv, '--api-runs', 100);
const WARMUPS = 3;
const BUDGET_KB = 150;
const RENDER_MS = 500;
const API_P95_MS = 30;
/** must be loaded lazily, never on the first load (the OpenPGP library and the app's pgp modules) */
const LAZY = [/^\/vendor\/openpgp/, /^\/js\/pgp\//];

const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const kb = (bytes: number) => fmt(bytes / 1024, 1);

// ---------------------------------------------------------------------------------------------
// 1. First-load budget

interface FileSize {
  path: string;
  kind: 'js' | 'css' | 'i18n' | 'html' | 'api';
  raw: number;
  gzip: number;
  transferred: number;
  encoding: string | null;
}

function kindOf(p: string): FileSize['kind'] {
  if (p.startsWith('/api/')) return 'api';
  if (p.endsWith('.js')) return 'js';
  if (p.endsWith('.css')) return 'css';
  if (p.startsWith('/i18n/')) return 'i18n';
  return 'html';
}

function sizes(fetched: Fetched[]): FileSize[] {
  return fetched.map((f) => ({ path: f.path, kind: kindOf(f.path), raw: f.body.length, gzip: zlib.gzipSync(f.body, { level: 9 }).length, transferred: f.transferred, encoding: f.encoding }));
}

// ---------------------------------------------------------------------------------------------
// 3. Timeline API

async function timeApi(client: ReturnType<typeof apiClient>, url: string): Promise<{ p50: number; p95: number; max: number; items: number; bytes: number }> {
  for (let i = 0; i < WARMUPS; i++) await client.get(url);
  const samples: number[] = [];
  let items = 0;
  let bytes = 0;
  for (let i = 0; i < API_RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = await client.get(url);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 200) throw new Error(`GET ${url}: ${r.status}`);
    items = (r.body as { items: unknown[] }).items.length;
    bytes = r.raw.length;
  }
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), max: Math.max(...samples), items, bytes };
}

// ---------------------------------------------------------------------------------------------

function stats(values: number[]): { p50: number; p95: number; min: number; max: number } {
  return { p50: percentile(values, 50), p95: percentile(values, 95), min: Math.min(...values), max: Math.max(...values) };
}

await runBench(async () => {
  const info = machineInfo();
  const dns = await startDnsServer({}); // every name NXDOMAIN, answered at once, nothing leaves loopback
  onCleanup('dns server', () => dns.close());
  const box = await cachedBox(DISCUSSIONS, dns.address);

  // A fresh copy per run: the runs add a device and sessions, the cached box stays as imported.
  const dataDir = tempDir('caliopen-bench-web-');
  fs.cpSync(box.dataDir, dataDir, { recursive: true });
  const configFile = path.join(dataDir, 'bench-config.json');
  fs.writeFileSync(configFile, JSON.stringify({ http: { host: '127.0.0.1' }, smtp: { host: '127.0.0.1' }, submission: { enabled: false }, logLevel: 'warn' }));
  const app = await startAppliance({ ...applianceEnv(dataDir, dns.address), CALIOPEN_CONFIG: configFile });
  const base = `http://127.0.0.1:${app.ports.http}`;

  // tests/helpers/browser.ts closes the browser in a tap teardown; here the cleanup registry does.
  const harness = await startBrowser({ teardown: (fn: () => Promise<void>) => onCleanup('chromium', fn) } as unknown as Test);
  const desk = await harness.device('bench desktop');
  await desk.page.goto(`${base}/`);
  await logIn(desk.page, catalogue('en'), ADMIN, 'bench desktop');
  await desk.page.close();
  await preparePages(desk.context);

  // 2. page loads: warm-ups, then the timed ones; the first timed one also records every response
  const timings: LoadTiming[] = [];
  let cpu0 = 0;
  let wait0 = 0;
  const spas: SpaTiming[] = [];
  let fetched: Fetched[] = [];
  for (let i = 0; i < WARMUPS + LOADS; i++) {
    const timed = i >= WARMUPS;
    const r = await loadOnce(desk.context, base, { record: i === WARMUPS, spa: true });
    await r.page.close();
    if (i === WARMUPS) fetched = r.fetched;
    if (i === WARMUPS - 1) [cpu0, wait0] = [cpuSeconds(app.pid) ?? NaN, schedstat(app.pid)?.waiting ?? NaN];
    if (!timed) continue;
    timings.push(r.timing);
    spas.push(r.spa!);
    process.stderr.write(`  load ${i - WARMUPS + 1}/${LOADS}: ${ROWS} rows at ${fmt(r.timing.rows, 0)} ms, renderer busy ${fmt(r.timing.cpu.task, 0)} ms\n`);
  }
  const server = { cpu: (cpuSeconds(app.pid) ?? NaN) - cpu0, wait: (schedstat(app.pid)?.waiting ?? NaN) - wait0 };
  const coverage = await coverageOfLoad(desk.context, base);

  // 3. the API with the browser's own session cookie
  const client = apiClient(app.ports.http);
  for (const c of await desk.context.cookies(base)) client.cookies.set(c.name, c.value);
  const first = await client.get('/api/v1/discussions?limit=50');
  const next = (first.body as { next: string | null }).next;
  if (!next) throw new Error('the first page has no cursor: fewer than 50 discussions?');
  const apiFirst = await timeApi(client, '/api/v1/discussions?limit=50');
  const apiNext = await timeApi(client, `/api/v1/discussions?limit=50&before=${encodeURIComponent(next)}`);
  await app.stop();

  // ---------------------------------------------------------------------------------------------
  // Report
  const files = sizes(fetched);
  const compressed = files.some((f) => f.encoding);
  const sum = (list: FileSize[], k: 'raw' | 'gzip') => list.reduce((a, f) => a + f[k], 0);
  const ofKind = (...k: FileSize['kind'][]) => files.filter((f) => k.includes(f.kind));
  const budgetFiles = ofKind('js', 'css', 'i18n');
  const budgetGzip = sum(budgetFiles, 'gzip');
  const lazyHits = files.filter((f) => LAZY.some((re) => re.test(f.path))).map((f) => f.path);
  const used = new Map(coverage.map((c) => [c.path, c]));

  const out = (s: string) => process.stdout.write(s + '\n');
  out(`web bench ${info.date} — ${info.cores} × ${info.cpus}, ${info.memGb} GB, node ${info.node}, load average ${info.loadavg} at start`);
  out(`box: ${box.discussions} discussions, ${box.messages} messages for ${ADMIN.username} (${box.importSeconds === null ? 'cached' : `imported in ${fmt(box.importSeconds, 0)} s`}: ${box.importLine}); Chromium headless 1280×800, ${WARMUPS} warm-up + ${LOADS} timed page loads\n`);

  const statuses = [...new Set(fetched.map((f) => f.status))].map((st) => `${st} × ${fetched.filter((f) => f.status === st).length}`).join(', ');
  out(`### 1. First load of #/timeline after login (${files.length} responses, HTTP ${statuses}; server compression: ${compressed ? 'yes (' + [...new Set(files.map((f) => f.encoding).filter(Boolean))].join(', ') + ')' : 'none, sizes gzipped here with zlib level 9'})\n`);
  const kindRow = (label: string, list: FileSize[]) => [label, list.length, kb(sum(list, 'raw')), kb(sum(list, 'gzip'))];
  out(table(['what', 'files', 'raw KB', 'gzip -9 KB'], [
    kindRow('JS (/app.js, /js/*, /vendor/*)', ofKind('js')),
    kindRow('CSS (/style.css)', ofKind('css')),
    kindRow('i18n catalogue (/i18n/*.json)', ofKind('i18n')),
    kindRow('**JS + CSS + i18n (budget)**', budgetFiles),
    kindRow('HTML (/index.html)', ofKind('html')),
    kindRow('API answers (/api/v1/…, not in the budget)', ofKind('api')),
  ]) + '\n');
  out(`target JS + CSS (+ i18n) ≤ ${BUDGET_KB} KB gzipped: ${kb(budgetGzip)} KB → **${budgetGzip <= BUDGET_KB * 1024 ? 'met' : 'MISSED'}** (JS + CSS alone ${kb(sum(ofKind('js', 'css'), 'gzip'))} KB)`);
  out(`must be lazy (${LAZY.map((r) => r.source).join(', ')}): ${lazyHits.length ? '**REQUESTED on first load: ' + lazyHits.join(', ') + '**' : 'not requested ✓'}\n`);
  const biggest = [...budgetFiles].sort((a, b) => b.gzip - a.gzip).slice(0, 12);
  out(table(['biggest files', 'raw KB', 'gzip -9 KB', 'used on this load (coverage)'], biggest.map((f) => {
    const c = used.get(f.path.split('?')[0]!);
    return [f.path, kb(f.raw), kb(f.gzip), c ? `${fmt((100 * c.usedBytes) / c.bytes, 0)} %` : '–'];
  })) + '\n');
  const unused = coverage.reduce((a, c) => a + c.bytes - c.usedBytes, 0);
  const totalCov = coverage.reduce((a, c) => a + c.bytes, 0);
  out(`coverage of one load: ${kb(totalCov - unused)} of ${kb(totalCov)} KB of JS + CSS ran or matched (${fmt((100 * unused) / totalCov, 0)} % unused on the timeline)\n`);

  out(`### 2. Timeline render (ms from navigation start, ${LOADS} page loads)\n`);
  const row = (label: string, values: number[]) => {
    const s = stats(values);
    return [label, fmt(s.p50, 0), fmt(s.p95, 0), fmt(s.min, 0), fmt(s.max, 0)];
  };
  const col = (k: Exclude<keyof LoadTiming, 'api' | 'cpu'>) => timings.map((t) => t[k]);
  out(table(['milestone', 'p50', 'p95', 'min', 'max'], [
    row('HTML response end', col('htmlEnd')),
    row('DOMContentLoaded', col('domContentLoaded')),
    row('last JS module fetched', col('lastModuleEnd')),
    row('GET /api/v1/me sent', col('meSent')),
    row('GET /api/v1/discussions?limit=50 sent', col('discussionsSent')),
    row('… its response end', col('discussionsEnd')),
    row(`**${ROWS} rows in the DOM**`, col('rows')),
    row('next animation frame (painted)', col('frame')),
  ]) + '\n');
  // Where the time goes: the API calls of the median load (each of the first two waits for the
  // last), the renderer's own busy time, and the appliance's CPU and run-queue wait.
  const mid = [...timings].sort((a, b) => a.rows - b.rows)[Math.ceil(timings.length / 2) - 1]!; // the p50 one
  out(table([`API calls of the median load (${fmt(mid.rows, 0)} ms)`, 'start', 'end', 'duration'], mid.api.map((a) => [a.path, fmt(a.start, 0), fmt(a.end, 0), fmt(a.end - a.start, 0)])) + '\n');
  const cpu = (k: keyof LoadTiming['cpu']) => fmt(percentile(timings.map((t) => t.cpu[k]), 50), 0);
  out(table(['CPU per load (p50 ms)', 'value'], [
    ['Chromium renderer main thread busy until the rows (CDP TaskDuration)', cpu('task')],
    ['… of which script (ScriptDuration) / layout / style', `${cpu('script')} / ${cpu('layout')} / ${cpu('style')}`],
    ['appliance CPU per page load incl. its scroll and route changes (utime+stime)', fmt((1000 * server.cpu) / LOADS, 0)],
    ['appliance main thread runnable but waiting for a CPU, per page load', fmt((1000 * server.wait) / LOADS, 0)],
  ]) + '\n');
  out(table(['SPA step (ms from the action)', 'p50 DOM', 'p95 DOM', 'p50 next frame', 'p95 next frame'], ([
    ['scroll the sentinel into view → 100 rows', spas.map((s) => s.scroll)],
    [`click the first row → discussion shown (${spas[0]?.open.detail ?? '?'})`, spas.map((s) => s.open)],
    [`history.back() → timeline with ${ROWS} rows`, spas.map((s) => s.back)],
  ] as Array<[string, Array<{ dom: number; frame: number }>]>).map(([label, v]) => [label, fmt(percentile(v.map((x) => x.dom), 50), 0), fmt(percentile(v.map((x) => x.dom), 95), 0), fmt(percentile(v.map((x) => x.frame), 50), 0), fmt(percentile(v.map((x) => x.frame), 95), 0)])) + '\n');
  const render = stats(col('rows'));
  out(`target navigation → ${ROWS} rows ≤ ${RENDER_MS} ms: p50 ${fmt(render.p50, 0)} / p95 ${fmt(render.p95, 0)} ms → **${render.p95 <= RENDER_MS ? 'met' : render.p50 <= RENDER_MS ? 'met at p50, MISSED at p95' : 'MISSED'}**\n`);

  out(`### 3. Timeline API over HTTP (browser's session, ${WARMUPS} warm-ups + ${API_RUNS} runs)\n`);
  out(table(['request', 'p50 ms', 'p95 ms', 'max ms', 'items', 'bytes'], [
    ['GET /api/v1/discussions?limit=50', fmt(apiFirst.p50, 2), fmt(apiFirst.p95, 2), fmt(apiFirst.max, 1), apiFirst.items, apiFirst.bytes],
    ['… &before=<cursor of the first page>', fmt(apiNext.p50, 2), fmt(apiNext.p95, 2), fmt(apiNext.max, 1), apiNext.items, apiNext.bytes],
  ]) + '\n');
  out(`target p95 ≤ ${API_P95_MS} ms: first page ${fmt(apiFirst.p95, 1)} ms → **${apiFirst.p95 <= API_P95_MS ? 'met' : 'MISSED'}**, cursor page ${fmt(apiNext.p95, 1)} ms → **${apiNext.p95 <= API_P95_MS ? 'met' : 'MISSED'}**\n`);

  const end = loadavg();
  out(`load average at the end: ${end}`);
  const r1 = (n: number) => +n.toFixed(1);
  out(JSON.stringify({
    bench: 'web', ...info, loadavgEnd: end, discussions: box.discussions, messages: box.messages, loads: LOADS, apiRuns: API_RUNS,
    firstLoad: { responses: files.length, serverCompression: compressed, jsCssI18nRaw: sum(budgetFiles, 'raw'), jsCssI18nGzip: budgetGzip, jsCssGzip: sum(ofKind('js', 'css'), 'gzip'), lazyRequested: lazyHits, unusedPct: r1((100 * unused) / totalCov) },
    render: { rowsP50: r1(render.p50), rowsP95: r1(render.p95), frameP95: r1(stats(col('frame')).p95), discussionsSentP50: r1(stats(col('discussionsSent')).p50), discussionsEndP50: r1(stats(col('discussionsEnd')).p50),
      scrollP50: r1(percentile(spas.map((s) => s.scroll.dom), 50)), openP50: r1(percentile(spas.map((s) => s.open.dom), 50)), backP50: r1(percentile(spas.map((s) => s.back.dom), 50)) },
    api: { firstP50: r1(apiFirst.p50), firstP95: r1(apiFirst.p95), cursorP50: r1(apiNext.p50), cursorP95: r1(apiNext.p95) },
    targets: { budget: budgetGzip <= BUDGET_KB * 1024, render: render.p95 <= RENDER_MS, api: apiFirst.p95 <= API_P95_MS && apiNext.p95 <= API_P95_MS },
  }));
});
