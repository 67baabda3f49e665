/**
 * The web app in real headless Chromium, once per language (browser locale en-US, then fr-FR):
 * first run with the console code → naming this device → the timeline; log out and back in from
 * the same browser (recognised: no naming step); a second browser context logs in as the same
 * user and becomes a second device; the first removes it from the devices screen and the second's
 * live stream says its session ended, which brings it back to the login screen at once; the first then removes itself
 * and is logged out. Along the way: keyboard shortcuts, the PI badge's reasons, the greyed "coming
 * soon" buttons, a phone-sized viewport without sideways scrolling, no untranslated string on any
 * screen, no console error or uncaught exception, and no request to anything but 127.0.0.1.
 */
import t from 'tap';
import { startApi } from '../helpers/api-app.js';
import { makeMessage } from '../helpers/deps.js';
import { chromiumSkip, startBrowser, type Device } from '../helpers/browser.js';
import { assertTranslated, catalogue, field } from '../helpers/web-app.js';

const catalogues = { en: catalogue('en'), fr: catalogue('fr') };
const PASSWORD = 'a long admin password';

for (const lang of ['en', 'fr'] as const) {
  const c = catalogues[lang];
  const locale = lang === 'fr' ? 'fr-FR' : 'en-US';

  t.test(`first run, login, two devices, removal (${locale})`, { skip: chromiumSkip() }, async (t) => {
    const h = await startApi(t, { setUp: false });
    const code = h.app.services.setup.code!;
    const base = `http://127.0.0.1:${h.http}`;
    const browser = await startBrowser(t);
    const devices: Device[] = [];

    // --- first run -------------------------------------------------------------------------
    const desk = await browser.device('desk', { locale });
    devices.push(desk);
    await desk.page.goto(base + '/');
    await desk.page.getByRole('heading', { name: c['setup.title'] }).waitFor();
    t.equal(await desk.page.evaluate(() => document.documentElement.lang), lang, 'the browser language before anyone logs in');
    await assertTranslated(t, desk.page, 'setup');
    await field(desk.page, c['setup.code']!).fill(code);
    await field(desk.page, c['setup.domain']!).fill('family.test');
    await field(desk.page, c['setup.admin']!).fill('root');
    await field(desk.page, c['setup.password']!).fill(PASSWORD);
    await field(desk.page, c['setup.lang']!).selectOption(lang);
    await desk.page.getByRole('button', { name: c['setup.submit'] }).click();

    // --- naming this device --------------------------------------------------------------------
    await desk.page.getByRole('heading', { name: c['device.title'] }).waitFor();
    await assertTranslated(t, desk.page, 'device naming');
    t.match(await field(desk.page, c['device.name']!).inputValue(), lang === 'fr' ? / sur / : / on /, 'a suggested name');
    await field(desk.page, c['device.name']!).fill('Kitchen desktop');
    await field(desk.page, c['device.type']!).selectOption('desktop');
    await desk.page.getByRole('button', { name: c['device.submit'] }).click();

    // --- the timeline ------------------------------------------------------------------------
    await desk.page.getByRole('heading', { name: c['mail.title'] }).waitFor();
    t.equal(new URL(desk.page.url()).hash, '#/timeline');
    await desk.page.getByText(c['mail.empty']!).waitFor();
    const root = await h.app.services.deps.db('users').where({ username: 'root' }).first();
    await h.ingest(makeMessage({ to: 'root@family.test', subject: 'Les confitures', body: 'Bonjour !' }), [root.id]);
    await desk.page.getByRole('button', { name: c['mail.refresh'] }).click();
    await desk.page.getByText('Les confitures').waitFor();
    await assertTranslated(t, desk.page, 'timeline');
    const soon = desk.page.getByRole('button', { name: c['nav.calendar'] });
    t.equal(await soon.getAttribute('aria-disabled'), 'true', 'calendar is greyed');
    t.equal(await soon.getAttribute('title'), c['nav.soon'], 'with a "coming soon" tooltip');
    t.equal(await desk.page.getByRole('button', { name: c['nav.files'] }).getAttribute('title'), c['nav.soon']);

    // --- keyboard: / focuses search, c opens compose ---------------------------------------------
    await desk.page.locator('body').click({ position: { x: 5, y: 300 } });
    await desk.page.keyboard.press('/');
    t.equal(await desk.page.evaluate(() => document.activeElement?.id), 'search', '/ focuses the search box');
    await desk.page.keyboard.type('c');
    t.equal(new URL(desk.page.url()).hash, '#/timeline', 'typing in the search box is not a shortcut');
    await desk.page.locator('#search').fill('');
    await desk.page.locator('body').click({ position: { x: 5, y: 300 } });
    await desk.page.keyboard.press('c');
    await desk.page.waitForURL(/#\/compose$/);
    await desk.page.getByRole('heading', { name: c['compose.title'] }).waitFor();
    await assertTranslated(t, desk.page, 'compose');

    // --- log out and in again: this browser is recognised ------------------------------------------
    await desk.page.getByRole('button', { name: c['nav.logout'] }).click();
    await desk.page.getByRole('heading', { name: c['login.title'] }).waitFor();
    await assertTranslated(t, desk.page, 'login');
    await field(desk.page, c['login.username']!).fill('root');
    await field(desk.page, c['login.password']!).fill(PASSWORD);
    await desk.page.getByRole('button', { name: c['login.submit'] }).click();
    await desk.page.locator('.shell').waitFor();
    t.equal(await desk.page.getByRole('heading', { name: c['device.title'] }).count(), 0, 'no naming step for a known device');

    // --- a second browser: a second device, phone-sized ------------------------------------------
    const phone = await browser.device('phone', { locale, viewport: { width: 390, height: 800 }, isMobile: true, hasTouch: true });
    devices.push(phone);
    await phone.page.goto(base + '/');
    await phone.page.getByRole('heading', { name: c['login.title'] }).waitFor();
    await field(phone.page, c['login.username']!).fill('root@family.test');
    await field(phone.page, c['login.password']!).fill(PASSWORD);
    await phone.page.getByRole('button', { name: c['login.submit'] }).click();
    await phone.page.getByRole('heading', { name: c['device.title'] }).waitFor();
    await field(phone.page, c['device.name']!).fill('My phone');
    await field(phone.page, c['device.type']!).selectOption('phone');
    await phone.page.getByRole('button', { name: c['device.submit'] }).click();
    await phone.page.getByText('Les confitures').waitFor();
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    t.ok(overflow <= 0, `no sideways scrolling on a phone (overflow ${overflow}px)`);
    await assertTranslated(t, phone.page, 'timeline on a phone');
    await phone.page.locator('.account button.pi').click();
    const box = (await phone.page.locator('.account .pi-pop').boundingBox())!;
    t.ok(box.x >= 0 && box.x + box.width <= 390, 'the account PI reasons fit the phone screen');
    await phone.page.keyboard.press('Escape');
    await phone.page.locator('.pi-pop').waitFor({ state: 'detached' });

    // --- the devices screen on the first browser ------------------------------------------------
    await desk.page.getByRole('link', { name: c['nav.devices'] }).click();
    await desk.page.getByRole('heading', { name: c['devices.title'] }).waitFor();
    const items = desk.page.locator('li.device');
    await t.resolves(items.filter({ hasText: 'My phone' }).waitFor(), 'the phone is listed');
    t.equal(await items.count(), 2);
    const mine = items.filter({ hasText: 'Kitchen desktop' });
    t.equal(await mine.locator('.tag-current').textContent(), c['devices.current'], 'this device is marked');
    t.match(await mine.textContent(), c['device.type.desktop']!);
    t.match(await items.filter({ hasText: 'My phone' }).textContent(), c['device.type.phone']!);
    t.match(await mine.textContent(), '127.0.0.1', 'last address shown');
    await assertTranslated(t, desk.page, 'devices');

    // The PI badge opens its reasons, in the user's language, and links to the help; opening one
    // closes the other.
    await desk.page.locator('.account button.pi').click();
    await desk.page.locator('.account .pi-pop').waitFor();
    await mine.locator('button.pi').click();
    const pop = mine.locator('.pi-pop');
    await pop.waitFor();
    await desk.page.locator('.account .pi-pop').waitFor({ state: 'detached' });
    t.equal(await desk.page.locator('.pi-pop').count(), 1, 'one popover at a time');
    t.match(await pop.textContent(), lang === 'fr' ? /ne peuvent pas encore être vérifiés/ : /cannot be verified yet/, 'reasons from the server');
    t.match(await pop.textContent(), /\+20/, 'the desktop type earns 20 points');
    await assertTranslated(t, desk.page, 'PI reasons');
    await pop.getByRole('link', { name: c['pi.help_link'] }).click();
    await desk.page.getByRole('heading', { name: c['help.title'] }).waitFor();
    await assertTranslated(t, desk.page, 'help');

    // Rename the phone.
    await desk.page.getByRole('link', { name: c['nav.devices'] }).click();
    const phoneItem = items.filter({ hasText: 'My phone' });
    await phoneItem.getByRole('button', { name: c['devices.rename'] }).click();
    await phoneItem.getByLabel(c['device.name']!, { exact: true }).fill('Old phone');
    await phoneItem.getByRole('button', { name: c['devices.save'] }).click();
    const renamed = items.filter({ hasText: 'Old phone' });
    await renamed.waitFor();

    // Remove it: its session ends at once.
    await renamed.getByRole('button', { name: c['devices.remove'] }).click();
    await assertTranslated(t, desk.page, 'removal confirmation');
    await renamed.getByRole('button', { name: c['devices.remove_confirm'] }).click();
    await items.filter({ hasText: 'Old phone' }).waitFor({ state: 'detached' });
    t.equal(await items.count(), 1, 'one device left');

    // The phone is told over its live stream and returns to login with no action of its own.
    await phone.page.getByRole('heading', { name: c['login.title'] }).waitFor({ timeout: 5000 });
    const refused = await phone.page.evaluate(async () => (await fetch('/api/v1/discussions?limit=50')).status);
    t.equal(refused, 401, "the removed device's calls are refused");
    await phone.page.getByText(c['error.unauthorized']!).waitFor();
    await assertTranslated(t, phone.page, 'login after the session ended');

    // --- removing the current device logs out ------------------------------------------------------
    await mine.getByRole('button', { name: c['devices.remove'] }).click();
    await mine.getByText(c['devices.confirm_current']!).waitFor();
    await mine.getByRole('button', { name: c['devices.remove_confirm'] }).click();
    await desk.page.getByRole('heading', { name: c['login.title'] }).waitFor();
    await desk.page.getByText(c['devices.removed_current']!).waitFor();
    const cookies = (await desk.context.cookies()).map((k) => k.name);
    t.same(cookies, [], 'session and device cookies cleared');
    t.equal(await h.app.services.deps.db('devices').count({ n: '*' }).first().then((r) => Number(r!.n)), 0);

    // --- what the pages did ----------------------------------------------------------------------
    for (const d of devices) {
      t.same(d.log.pageErrors, [], `${d.name}: no uncaught exception`);
      // Chromium logs every HTTP error response as "Failed to load resource"; those are checked
      // one by one below, every other console error is a bug.
      t.same(d.log.consoleErrors.filter((e) => !e.startsWith('Failed to load resource: the server responded with a status of 401')), [], `${d.name}: no console error`);
      t.same(d.log.failedRequests, [], `${d.name}: no failed request`);
      const foreign = d.log.requests.filter((u) => !u.startsWith('data:') && new URL(u).hostname !== '127.0.0.1');
      t.same(foreign, [], `${d.name}: nothing requested but 127.0.0.1`);
    }
    t.same(desk.log.errorResponses, [`401 GET ${base}/api/v1/me`], 'desk: only the first visit, logged out, is refused');
    t.same(phone.log.errorResponses, [`401 GET ${base}/api/v1/me`, `401 GET ${base}/api/v1/discussions?limit=50`], 'phone: first visit, and after its removal');
  });
}
