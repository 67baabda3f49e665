/**
 * The web app's side of the end-to-end tests: its string catalogues (tests find elements by the
 * words a user reads, in either language) and logging in from a fresh browser, naming the device.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import type { Page } from 'playwright-core';
import { startBrowser, type BrowserHarness, type Device } from './browser.js';

export type Catalogue = Record<string, string>;

const WEB = path.resolve(import.meta.dirname, '../../web');

export function catalogue(lang: 'en' | 'fr'): Catalogue {
  return JSON.parse(fs.readFileSync(path.join(WEB, `i18n/${lang}.json`), 'utf8')) as Catalogue;
}

export const field = (page: Page, label: string) => page.getByLabel(label, { exact: true });

/**
 * On the login screen: username and password, then (a browser the box does not know yet) the
 * device's name; resolves once the logged-in shell shows.
 */
export async function logIn(page: Page, c: Catalogue, who: { username: string; password: string }, deviceName?: string): Promise<void> {
  await page.getByRole('heading', { name: c['login.title'] }).waitFor();
  await field(page, c['login.username']!).fill(who.username);
  await field(page, c['login.password']!).fill(who.password);
  await page.getByRole('button', { name: c['login.submit'] }).click();
  if (deviceName) {
    await page.getByRole('heading', { name: c['device.title'] }).waitFor();
    await field(page, c['device.name']!).fill(deviceName);
    await page.getByRole('button', { name: c['device.submit'] }).click();
  }
  await page.locator('.shell').waitFor();
}

/** A browser with one device ("desk") logged in as `who` on the box at `base`, the timeline showing. */
export async function deskLoggedIn(t: Test, base: string, c: Catalogue, who: { username: string; password: string }): Promise<{ browser: BrowserHarness; desk: Device; page: Page }> {
  const browser = await startBrowser(t);
  const desk = await browser.device('desk');
  await desk.page.goto(base + '/');
  await logIn(desk.page, c, who, 'Desk');
  return { browser, desk, page: desk.page };
}

// A catalogue key on screen ("login.title") means a t() call found no string.
const KEY_PREFIXES = [...new Set(Object.keys(catalogue('en')).filter((k) => k.includes('.')).map((k) => k.split('.')[0]!))];
const KEY_PATTERN = new RegExp(`\\b(?:${KEY_PREFIXES.join('|')})\\.[a-z0-9_]+(?:\\.[a-z0-9_]+)*\\b`);

/** Visible text plus the attributes people read (placeholder, title, aria-label, values of inputs). */
export async function screenText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const parts = [document.body.innerText, document.title];
    for (const el of document.querySelectorAll('[placeholder],[title],[aria-label],[data-tip],input,option')) {
      for (const a of ['placeholder', 'title', 'aria-label', 'data-tip']) {
        const v = el.getAttribute(a);
        if (v) parts.push(v);
      }
      if (el instanceof HTMLInputElement && el.type !== 'password') parts.push(el.value);
    }
    return parts.join('\n');
  });
}

/** No catalogue key and no unfilled {placeholder} anywhere a user reads. */
export async function assertTranslated(t: Test, page: Page, where: string): Promise<void> {
  const text = await screenText(page);
  t.notMatch(text, KEY_PATTERN, `${where}: no catalogue key shown instead of its string`);
  t.notMatch(text, /\{[a-z_]+\}/, `${where}: no unfilled {placeholder}`);
}

/** Nothing wider than the screen: a phone never scrolls sideways. */
export async function assertFitsWidth(t: Test, page: Page, where: string): Promise<void> {
  const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  t.ok(scroll <= client, `${where}: fits the screen's width (${scroll} <= ${client})`);
}
