/**
 * Issue 4's journey in one go, in real headless Chromium against one box on loopback with Postfix's
 * smtp-sink as remote.test's MX: first run with the console code → the timeline; a message sent in
 * over SMTP appears live with its PI → open it → reply → the reply reaches the sink → tag the
 * message → click the tag → its results tab → save the tab → a second browser context logs in (a
 * second device) and has its own saved tabs (none, then its own) → the first removes the second,
 * whose session ends at once (it is back on the login screen without doing anything).
 */
import t from 'tap';
import nodemailer from 'nodemailer';
import { startApi, remoteMx } from '../helpers/api-app.js';
import { startSink, waitFor } from '../helpers/smtp-sink.js';
import { chromiumSkip, startBrowser } from '../helpers/browser.js';
import { catalogue, field, logIn } from '../helpers/web-app.js';

const c = catalogue('en');
const ADMIN = { username: 'ada', password: 'a long admin passphrase' };

t.test('first run → live mail with PI → reply to a remote MX → tag → tag tab saved → second device → removed', { timeout: 180_000, skip: chromiumSkip() }, async (t) => {
  const sink = await startSink(t);
  const h = await startApi(t, { ...remoteMx(sink.port), setUp: false });
  const base = `http://127.0.0.1:${h.http}`;
  const browser = await startBrowser(t);
  const desk = await browser.device('desk');
  const page = desk.page;

  // --- first run --------------------------------------------------------------------------------
  await page.goto(base + '/');
  await page.getByRole('heading', { name: c['setup.title'] }).waitFor();
  await field(page, c['setup.code']!).fill(h.app.services.setup.code!);
  await field(page, c['setup.domain']!).fill('family.test');
  await field(page, c['setup.admin']!).fill(ADMIN.username);
  await field(page, c['setup.password']!).fill(ADMIN.password);
  await page.getByRole('button', { name: c['setup.submit'] }).click();
  await page.getByRole('heading', { name: c['device.title'] }).waitFor();
  await field(page, c['device.name']!).fill('Desk');
  await page.getByRole('button', { name: c['device.submit'] }).click();
  await page.getByText(c['mail.empty']!).waitFor();

  // --- a message over SMTP appears live, with its PI ---------------------------------------------
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: h.smtp, secure: false, ignoreTLS: true, name: 'mx.remote.test' });
  await transport.sendMail({ from: 'Bob <bob@remote.test>', to: 'ada@family.test', subject: 'Cabin weekend', text: 'Are you coming to the cabin?', messageId: '<cabin@remote.test>' });
  transport.close();
  const row = page.locator('li.discussion', { hasText: 'Cabin weekend' });
  await row.waitFor();
  const badge = row.locator('button.pi');
  t.match(await badge.getAttribute('title'), /\d/, 'the PI badge shows a score');

  // --- open, reply; the reply reaches the remote MX ---------------------------------------------
  await row.locator('a.summary').click();
  await page.getByRole('heading', { name: 'Cabin weekend' }).waitFor();
  await page.locator('#quick-reply').fill('Yes, count me in.');
  await page.getByRole('button', { name: c['discussion.send'] }).click();
  await waitFor(() => sink.dumps().some((d) => d.text.includes('count me in')), 20_000, 'the reply at the sink');
  t.match(sink.dumps().find((d) => d.text.includes('count me in'))!.text, /In-Reply-To: <cabin@remote\.test>/, 'the reply reached the MX, threaded');

  // --- tag it, click the tag, save the results tab -------------------------------------------------
  const first = page.locator('article.message').first();
  await first.getByLabel(c['message.tag_add']!, { exact: true }).fill('Cabin');
  await first.getByLabel(c['message.tag_add']!, { exact: true }).press('Enter');
  const chip = first.locator('.tag-chip', { hasText: 'Cabin' });
  await chip.waitFor();
  await chip.click();
  await page.waitForURL(/#\/search\?q=tag%3ACabin$/);
  await page.locator('li.hit', { hasText: 'Cabin weekend' }).first().waitFor();
  await page.getByRole('button', { name: c['search.save'] }).click();
  await page.locator('.tabs .tab[data-tab] a', { hasText: 'tag:Cabin' }).waitFor();

  // --- a second browser is a second device, with its own tabs --------------------------------------
  const phone = await browser.device('phone', { viewport: { width: 390, height: 800 }, isMobile: true, hasTouch: true });
  await phone.page.goto(base + '/');
  await logIn(phone.page, c, ADMIN, 'Phone');
  t.equal(await phone.page.locator('.tabs .tab[data-tab]').count(), 0, 'the phone starts with no saved tab');
  await phone.page.goto(`${base}/#/search?q=${encodeURIComponent('weekend')}`);
  await phone.page.locator('li.hit', { hasText: 'Cabin weekend' }).first().waitFor();
  await phone.page.getByRole('button', { name: c['search.save'] }).click();
  await phone.page.locator('.tabs .tab[data-tab] a', { hasText: 'weekend' }).waitFor();
  await page.reload();
  await page.locator('.tabs .tab[data-tab] a', { hasText: 'tag:Cabin' }).waitFor();
  t.same(await page.locator('.tabs .tab[data-tab] a').allTextContents(), ['tag:Cabin'], "the desk keeps its own tab, not the phone's");

  // --- the desk removes the phone: the phone's session ends at once --------------------------------
  await page.getByRole('link', { name: c['nav.devices'] }).click();
  const phoneItem = page.locator('li.device', { hasText: 'Phone' });
  await phoneItem.getByRole('button', { name: c['devices.remove'] }).click();
  await phoneItem.getByRole('button', { name: c['devices.remove_confirm'] }).click();
  await phoneItem.waitFor({ state: 'detached' });
  await phone.page.getByRole('heading', { name: c['login.title'] }).waitFor({ timeout: 5000 });
  await phone.page.getByText(c['error.unauthorized']!).waitFor();
  t.pass('the removed device is back on the login screen, by itself');

  for (const d of [desk, phone]) {
    t.same(d.log.pageErrors, [], `${d.name}: no uncaught exception`);
    t.same(d.log.requests.filter((u) => !u.startsWith('data:') && new URL(u).hostname !== '127.0.0.1'), [], `${d.name}: nothing requested but 127.0.0.1`);
  }
});
