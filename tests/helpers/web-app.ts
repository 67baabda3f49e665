/**
 * The web app's side of the end-to-end tests: its string catalogues (tests find elements by the
 * words a user reads, in either language) and logging in from a fresh browser, naming the device.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';

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
