/**
 * Real headless Chromium for end-to-end tests: Debian's /usr/bin/chromium driven by playwright-core
 * (no browser download). Each "device" is a new browser context (its own cookies and storage, its
 * own locale and viewport), so two contexts are two devices of the box. Everything a page does that
 * a test may want to refuse is recorded: console errors, uncaught exceptions, failed requests,
 * HTTP error responses and every URL requested. The browser is closed in the test's teardown.
 *
 * When the binary is absent (a machine without the chromium package), `chromiumSkip()` gives the
 * reason to pass as tap's `skip`, so the run shows "# SKIP" with it instead of passing silently.
 * CALIOPEN_CHROMIUM points at another binary.
 */
import fs from 'node:fs';
import type { Test } from 'tap';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CALIOPEN_CHROMIUM || '/usr/bin/chromium';

// From TESTING.md §4: no sandbox (containers), no GPU, and none of Chromium's own background
// traffic (component updates, sync, field trials), so the only requests are the page's.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-features=Translate,OptimizationHints,MediaRouter',
];

/** false when Chromium can be launched, else the reason to skip (shown by tap). */
export function chromiumSkip(): string | false {
  try {
    fs.accessSync(CHROMIUM_PATH, fs.constants.X_OK);
    return false;
  } catch {
    return `end-to-end browser test skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CALIOPEN_CHROMIUM)`;
  }
}

export interface PageLog {
  /** console.error calls and uncaught exceptions, as text */
  consoleErrors: string[];
  pageErrors: string[];
  /** requests that got no response at all (refused, aborted, blocked), except the live stream being closed */
  failedRequests: string[];
  /** responses with status >= 400: "401 GET http://…/api/v1/me" */
  errorResponses: string[];
  /** every URL the page asked for */
  requests: string[];
}

export interface Device {
  name: string;
  context: BrowserContext;
  page: Page;
  log: PageLog;
}

export interface DeviceOptions {
  /** e.g. 'fr-FR': navigator.language and Accept-Language */
  locale?: string;
  viewport?: { width: number; height: number };
  isMobile?: boolean;
  hasTouch?: boolean;
}

export interface BrowserHarness {
  browser: Browser;
  /** a new context (a new device) with one page, its log wired */
  device(name: string, opts?: DeviceOptions): Promise<Device>;
}

function watch(page: Page): PageLog {
  const log: PageLog = { consoleErrors: [], pageErrors: [], failedRequests: [], errorResponses: [], requests: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') log.consoleErrors.push(`${msg.text()} (${msg.location().url || 'page'})`);
  });
  page.on('pageerror', (err) => log.pageErrors.push(err.stack || String(err)));
  page.on('request', (req) => log.requests.push(req.url()));
  page.on('requestfailed', (req) => {
    const line = `${req.method()} ${req.url()}: ${req.failure()?.errorText ?? '?'}`;
    // The live stream (GET /events) ends as "aborted" whenever the page closes it (logout, leaving
    // the page): that is how an EventSource ends, not a failure.
    if (/^GET \S+\/api\/v1\/events: net::ERR_ABORTED$/.test(line)) return;
    log.failedRequests.push(line);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) log.errorResponses.push(`${res.status()} ${res.request().method()} ${res.url()}`);
  });
  return log;
}

export async function startBrowser(t: Test): Promise<BrowserHarness> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS, timeout: 60_000 });
  t.teardown(() => browser.close());
  return {
    browser,
    async device(name, opts = {}) {
      const context = await browser.newContext({
        locale: opts.locale ?? 'en-US',
        viewport: opts.viewport ?? { width: 1280, height: 800 },
        isMobile: opts.isMobile ?? false,
        hasTouch: opts.hasTouch ?? false,
        serviceWorkers: 'block',
      });
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      return { name, context, page, log: watch(page) };
    },
  };
}
