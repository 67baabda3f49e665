/**
 * Settings, tags, search tabs and the PI help in real headless Chromium: the language switches the
 * UI at once, the time zone and the password change (then logging in with the new one); a tag is
 * created, renamed and recoloured; a message with that tag is found by clicking it, the results tab
 * is saved and shows in the tabs bar — and a second browser (a second device) has no saved tabs;
 * the help page shows every signal with the points GET /help/pi gives. No console error beyond
 * the checked refusals, nothing requested but 127.0.0.1.
 */
import t from 'tap';
import type { Page } from 'playwright-core';
import { startApi, ALICE } from '../helpers/api-app.js';
import { makeMessage } from '../helpers/deps.js';
import { chromiumSkip, startBrowser, type Device } from '../helpers/browser.js';
import { catalogue, field, logIn, type Catalogue } from '../helpers/web-app.js';

const en = catalogue('en');
const fr = catalogue('fr');
const NEW_PASSWORD = 'a brand new passphrase';

async function waitFor(ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 50));
}

/** Alice, with the password of the moment, on the login screen (and naming a new device). */
const logInAs = (page: Page, c: Catalogue, password: string, deviceName?: string) => logIn(page, c, { username: ALICE.username, password }, deviceName);

t.test('settings, tags, saved search tabs per device, PI help', { skip: chromiumSkip() }, async (t) => {
  const h = await startApi(t);
  const base = `http://127.0.0.1:${h.http}`;
  const db = h.app.services.deps.db;
  const browser = await startBrowser(t);
  const devices: Device[] = [];
  const desk = await browser.device('desk');
  devices.push(desk);
  const page = desk.page;
  await page.goto(base + '/');
  await logInAs(page, en, ALICE.password, 'Desk');

  // --- language: the UI switches at once, and it is saved -------------------------------------------
  await page.getByRole('link', { name: en['nav.settings'] }).click();
  await page.getByRole('heading', { name: en['settings.title'] }).waitFor();
  await field(page, en['settings.language']!).selectOption('fr');
  await page.getByRole('heading', { name: fr['settings.title'] }).waitFor();
  await page.getByRole('link', { name: fr['nav.timeline'] }).waitFor();
  t.equal(await page.evaluate(() => document.documentElement.lang), 'fr');
  t.equal((await db('users').where({ id: h.users.alice }).first()).lang, 'fr', 'the language is saved');
  const c = fr;

  // --- time zone and a display preference --------------------------------------------------------
  await field(page, c['settings.timezone']!).selectOption('Europe/Paris');
  await page.getByText(c['settings.saved']!).waitFor();
  const alice = () => db('users').where({ id: h.users.alice }).first();
  await waitFor(async () => (await alice()).timezone === 'Europe/Paris');
  t.equal((await alice()).timezone, 'Europe/Paris', 'the time zone is saved');
  await field(page, c['settings.pref.theme']!).selectOption('dark');
  await waitFor(async () => JSON.parse((await alice()).settings_json || '{}').theme === 'dark');
  t.equal(JSON.parse((await alice()).settings_json).theme, 'dark', 'a display preference is saved');

  // --- password: the errors in plain words, then the change ---------------------------------------
  await field(page, c['settings.password_current']!).fill(ALICE.password);
  await field(page, c['settings.password_new']!).fill('short');
  await field(page, c['settings.password_again']!).fill('short');
  await page.getByRole('button', { name: c['settings.password_submit'] }).click();
  await page.getByText(c['settings.password_short']!.replace('{n}', '10')).waitFor();
  await field(page, c['settings.password_current']!).fill('not the password');
  await field(page, c['settings.password_new']!).fill(NEW_PASSWORD);
  await field(page, c['settings.password_again']!).fill(NEW_PASSWORD);
  await page.getByRole('button', { name: c['settings.password_submit'] }).click();
  await page.getByText(c['settings.password_wrong']!).waitFor();
  await field(page, c['settings.password_current']!).fill(ALICE.password);
  await page.getByRole('button', { name: c['settings.password_submit'] }).click();
  await page.locator('.password-form .saved').waitFor();
  await page.getByRole('button', { name: c['nav.logout'] }).click();
  await logInAs(page, c, NEW_PASSWORD);
  t.pass('logged in again with the new password (same device, no naming step)');

  // --- tags: create, rename, recolour --------------------------------------------------------------
  await page.getByRole('link', { name: c['nav.tags'] }).click();
  await page.getByRole('heading', { name: c['tags.title'] }).waitFor();
  await field(page, c['tags.new_name']!).fill('voyage');
  await page.getByRole('button', { name: c['tags.create'] }).click();
  const item = page.locator('li.tag-item').filter({ hasText: 'voyage' });
  await item.waitFor();
  await field(page, c['tags.new_name']!).fill('voyage');
  await page.getByRole('button', { name: c['tags.create'] }).click();
  await page.getByText(c['error.tag_exists']!).waitFor();
  await item.getByRole('button', { name: c['tags.edit'] }).click();
  await item.getByLabel(c['tags.name']!, { exact: true }).fill('vacances');
  await item.getByLabel(c['tags.colour']!, { exact: true }).fill('#ff8800');
  await item.getByRole('button', { name: c['tags.save'] }).click();
  const renamed = page.locator('li.tag-item').filter({ hasText: 'vacances' });
  await renamed.waitFor();
  const tag = await db('tags').where({ user_id: h.users.alice, name: 'vacances' }).first();
  t.equal(tag?.color, '#ff8800', 'renamed and recoloured');
  t.equal(await renamed.locator('.tag-chip').evaluate((el) => getComputedStyle(el).borderLeftColor), 'rgb(255, 136, 0)', 'shown in its colour');

  // --- a message with that tag: click the tag → results tab → save it --------------------------------
  await h.ingest(makeMessage({ to: ALICE.address, subject: 'Le gîte est réservé', body: 'À bientôt' }), [h.users.alice], { tags: ['vacances'] });
  await renamed.locator('.tag-chip').click();
  await page.waitForURL(/#\/search\?q=tag%3Avacances$/);
  await page.getByText('Le gîte est réservé').waitFor();
  t.equal(await page.locator('.tabs .tab.unsaved').count(), 1, 'an open, unsaved results tab');
  await page.getByRole('button', { name: c['search.save'] }).click();
  await page.getByText(c['search.saved']!).waitFor();
  const saved = page.locator('.tabs .tab[data-tab]');
  await saved.waitFor();
  t.equal(await saved.locator('a').textContent(), 'tag:vacances', 'the saved tab is in the tabs bar');
  t.equal(await page.locator('.tabs .tab.unsaved').count(), 0);
  await saved.getByRole('button', { name: c['tabs.rename'] }).click();
  await page.getByLabel(c['tabs.title']!, { exact: true }).fill('Vacances');
  await page.getByRole('button', { name: c['tabs.save'] }).click();
  await page.locator('.tabs .tab[data-tab] a', { hasText: 'Vacances' }).waitFor();
  await page.getByRole('link', { name: c['nav.timeline'] }).click();
  await page.locator('.tabs .tab[data-tab] a', { hasText: 'Vacances' }).click();
  await page.getByText('Le gîte est réservé').waitFor();
  t.pass('the saved tab reopens its results');

  // --- a second browser is a second device: no saved tabs ------------------------------------------
  const phone = await browser.device('phone', { locale: 'fr-FR', viewport: { width: 390, height: 800 }, isMobile: true, hasTouch: true });
  devices.push(phone);
  await phone.page.goto(base + '/');
  await logInAs(phone.page, fr, NEW_PASSWORD, 'Phone');
  const tabs = await phone.page.evaluate(async () => (await (await fetch('/api/v1/tabs')).json()).items.length);
  t.equal(tabs, 0, 'the second device has no saved tabs');
  t.equal(await phone.page.locator('.tabs-bar').count(), 0, 'and no tabs bar');
  t.equal(await page.locator('.tabs .tab[data-tab]').count(), 1, 'the first still has its own');

  // --- the help page: the server's tables ----------------------------------------------------------
  const help = await page.evaluate(async () => (await fetch('/api/v1/help/pi?lang=fr')).json());
  const first = help.device.signals[0].signal as string;
  await page.goto(`${base}/#/help/${first}`);
  await page.getByRole('heading', { name: c['help.title'] }).waitFor();
  await page.locator('.signal.highlight').waitFor();
  t.equal(await page.locator('.signal.highlight').first().getAttribute('data-signal'), first, '#/help/SIGNAL highlights it');
  for (const section of ['message', 'account', 'device'] as const) {
    const shown = await page.locator(`#help-${section} .signal`).evaluateAll((els) => els.map((el) => [el.getAttribute('data-signal'), el.querySelector('.pts')!.textContent]));
    const expected = (help[section].signals as Array<{ signal: string; points: number }>).map((s) => [s.signal, s.points > 0 ? `+${s.points}` : String(s.points)]);
    t.same(shown.sort(), expected.sort(), `${section}: every signal with its points`);
  }
  t.ok(help.device.tips.length > 0);
  for (const tip of help.device.tips as string[]) await page.getByText(tip, { exact: true }).waitFor();

  // --- what the pages did ------------------------------------------------------------------------
  for (const d of devices) {
    t.same(d.log.pageErrors, [], `${d.name}: no uncaught exception`);
    t.same(d.log.consoleErrors.filter((e) => !/^Failed to load resource: the server responded with a status of (401|403|409)/.test(e)), [], `${d.name}: no console error`);
    // The live event stream is cut when the page logs out or navigates away: that is not a failure.
    t.same(d.log.failedRequests, [], `${d.name}: no failed request`);
    const foreign = d.log.requests.filter((u) => !u.startsWith('data:') && new URL(u).hostname !== '127.0.0.1');
    t.same(foreign, [], `${d.name}: nothing requested but 127.0.0.1`);
  }
  t.same(desk.log.errorResponses, [
    `401 GET ${base}/api/v1/me`,
    `403 POST ${base}/api/v1/me/password`,
    `409 POST ${base}/api/v1/tags`,
  ], 'desk: first visit, the wrong password, the duplicate tag');
  t.same(phone.log.errorResponses, [`401 GET ${base}/api/v1/me`], 'phone: only its first visit');
});
