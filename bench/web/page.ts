/**
 * What the web bench measures inside Chromium: the page loads of #/timeline with a logged-in
 * session (timings from the page's own clock, whose zero is the navigation start), the SPA route
 * changes and the infinite scroll, every response of a load (for the first-load budget) and V8/CSS
 * coverage of one load (what the first load ships but does not run).
 *
 * The in-page code is a string, not a function: tsx (esbuild keepNames) would wrap a serialized
 * function's inner functions in a `__name()` helper that does not exist in the page.
 */
import type { BrowserContext, Page, Response } from 'playwright-core';

export const ROWS = 50;

/**
 * Installed before any page script: a MutationObserver notes when the 50th row enters the DOM
 * (performance.now() counts from the navigation start) and the next animation frame after it
 * (the first paint that can show them); __bench.time(action) times a route change or a scroll the
 * same way.
 */
const IN_PAGE = `(() => {
  const rows = () => document.querySelectorAll('ul.timeline > li.discussion').length;
  const until = (cond) => new Promise((resolve) => {
    if (cond()) return resolve();
    const mo = new MutationObserver(() => { if (cond()) { mo.disconnect(); resolve(); } });
    mo.observe(document, { childList: true, subtree: true });
  });
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const b = window.__bench = { rowsAt: null, frameAt: null };
  b.ready = until(() => rows() >= ${ROWS}).then(() => { b.rowsAt = performance.now(); return nextFrame(); }).then(() => { b.frameAt = performance.now(); });
  b.time = async (action) => {
    const t0 = performance.now();
    let detail = null;
    if (action === 'scroll') {
      document.querySelector('.more').scrollIntoView();
      await until(() => rows() >= ${2 * ROWS});
    } else if (action === 'open') {
      const first = document.querySelector('ul.timeline > li.discussion');
      detail = 'discussion ' + first.dataset.id;
      first.querySelector('a.summary').click();
      await until(() => document.querySelector('.discussion-screen ol.messages > li'));
      detail += ', ' + document.querySelectorAll('.discussion-screen ol.messages > li').length + ' message(s)';
    } else if (action === 'back') {
      history.back();
      await until(() => !document.querySelector('.discussion-screen') && rows() >= ${ROWS});
    }
    const dom = performance.now() - t0;
    await nextFrame();
    return { dom, frame: performance.now() - t0, detail };
  };
})();`;

/** Milestones of one page load, ms from the navigation start. */
export interface LoadTiming {
  htmlEnd: number;
  domContentLoaded: number;
  lastModuleEnd: number;
  meSent: number;
  discussionsSent: number;
  discussionsEnd: number;
  rows: number;
  frame: number;
  requests: number;
  /** every API call of the load (path without query), in the order they started */
  api: Array<{ path: string; start: number; end: number }>;
  /** the renderer's main-thread busy time until then (CDP Performance: TaskDuration, ScriptDuration…), ms */
  cpu: { task: number; script: number; layout: number; style: number };
}

export interface Fetched {
  path: string;
  status: number;
  encoding: string | null;
  /** bytes on the wire (headers excluded), as Chromium counted them */
  transferred: number;
  body: Buffer;
}

export interface SpaTiming {
  scroll: { dom: number; frame: number };
  open: { dom: number; frame: number; detail: string };
  back: { dom: number; frame: number };
}

export async function preparePages(context: BrowserContext): Promise<void> {
  await context.addInitScript({ content: IN_PAGE });
}

/** Navigation and resource timing of the current page, once the rows and their frame are in. */
async function loadTiming(page: Page): Promise<LoadTiming> {
  // evaluate, not waitForFunction: a string predicate would be eval()ed in the page, which the CSP forbids
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([page.evaluate('window.__bench.ready'), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${ROWS} rows after 30 s`)), 30_000)))]);
  clearTimeout(timer);
  return (await page.evaluate(`(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource');
    const path = (e) => new URL(e.name).pathname + new URL(e.name).search;
    const find = (re) => res.find((e) => re.test(path(e)));
    const modules = res.filter((e) => /\\.js$/.test(new URL(e.name).pathname));
    const d = find(/^\\/api\\/v1\\/discussions\\?/);
    return {
      htmlEnd: nav.responseEnd, domContentLoaded: nav.domContentLoadedEventEnd,
      lastModuleEnd: Math.max(...modules.map((e) => e.responseEnd)),
      meSent: find(/^\\/api\\/v1\\/me$/)?.startTime ?? NaN,
      discussionsSent: d ? d.startTime : NaN, discussionsEnd: d ? d.responseEnd : NaN,
      rows: window.__bench.rowsAt, frame: window.__bench.frameAt, requests: res.length + 1,
      api: res.filter((e) => path(e).startsWith('/api/')).map((e) => ({ path: new URL(e.name).pathname, start: e.startTime, end: e.responseEnd })),
    };
  })()`)) as LoadTiming;
}

const isStream = (url: string) => new URL(url).pathname === '/api/v1/events';

/**
 * One load of #/timeline in a new page of the logged-in context, then (spa) the scroll to the
 * next page and the route change to the first discussion and back. With record, every response's
 * body too (the live event stream excepted: it never ends).
 */
export async function loadOnce(context: BrowserContext, base: string, opts: { record?: boolean; spa?: boolean } = {}): Promise<{ timing: LoadTiming; spa: SpaTiming | null; fetched: Fetched[]; page: Page }> {
  const page = await context.newPage();
  const pending: Array<Promise<Fetched>> = [];
  const onResponse = (res: Response) => {
    if (isStream(res.url())) return;
    pending.push((async () => {
      const u = new URL(res.url());
      const [body, sizes, enc] = await Promise.all([res.body(), res.request().sizes(), res.headerValue('content-encoding')]);
      return { path: u.pathname + u.search, status: res.status(), encoding: enc, transferred: sizes.responseBodySize, body };
    })());
  };
  if (opts.record) page.on('response', onResponse);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.goto(`${base}/#/timeline`, { waitUntil: 'commit' });
  const timing = await loadTiming(page);
  const metrics = new Map((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value * 1000]));
  timing.cpu = { task: metrics.get('TaskDuration') ?? NaN, script: metrics.get('ScriptDuration') ?? NaN, layout: metrics.get('LayoutDuration') ?? NaN, style: metrics.get('RecalcStyleDuration') ?? NaN };
  await cdp.detach();
  const fetched = await Promise.all(pending);
  page.off('response', onResponse);
  let spa: SpaTiming | null = null;
  if (opts.spa) {
    const time = (action: string) => page.evaluate(`window.__bench.time(${JSON.stringify(action)})`) as Promise<{ dom: number; frame: number; detail: string }>;
    spa = { scroll: await time('scroll'), open: await time('open'), back: await time('back') };
  }
  return { timing, spa, fetched, page };
}

export interface CoverageLine {
  path: string;
  bytes: number;
  usedBytes: number;
}

/** V8 block coverage → bytes of the source that ran at least once (innermost range wins). */
function usedJsBytes(source: string, functions: Array<{ ranges: Array<{ startOffset: number; endOffset: number; count: number }> }>): number {
  const ran = new Uint8Array(source.length);
  for (const f of functions) for (const r of f.ranges) ran.fill(r.count > 0 ? 1 : 0, r.startOffset, r.endOffset);
  return ran.reduce((a, b) => a + b, 0);
}

/** JS and CSS coverage of one load of #/timeline: what the first load ships but does not use. */
export async function coverageOfLoad(context: BrowserContext, base: string): Promise<CoverageLine[]> {
  const page = await context.newPage();
  await page.coverage.startJSCoverage({ resetOnNavigation: false });
  await page.coverage.startCSSCoverage({ resetOnNavigation: false });
  await page.goto(`${base}/#/timeline`, { waitUntil: 'commit' });
  await loadTiming(page);
  const js = await page.coverage.stopJSCoverage();
  const css = await page.coverage.stopCSSCoverage();
  await page.close();
  const lines: CoverageLine[] = [];
  for (const e of js) {
    if (!e.url.startsWith(base) || e.source === undefined) continue;
    lines.push({ path: new URL(e.url).pathname, bytes: Buffer.byteLength(e.source), usedBytes: Math.round((usedJsBytes(e.source, e.functions) / e.source.length) * Buffer.byteLength(e.source)) });
  }
  for (const e of css) {
    if (!e.url.startsWith(base) || e.text === undefined) continue;
    const used = e.ranges.reduce((a, r) => a + r.end - r.start, 0);
    lines.push({ path: new URL(e.url).pathname, bytes: Buffer.byteLength(e.text), usedBytes: Math.round((used / e.text.length) * Buffer.byteLength(e.text)) });
  }
  return lines;
}
