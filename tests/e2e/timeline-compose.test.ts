/**
 * The everyday screens in real headless Chromium, on a box holding 120 discussions: the timeline's
 * filters (tag, spam), keyboard (j/k, Enter, r), paging as the end scrolls into view; moving a
 * message to SPAM and back; compose with suggested recipients, autosave, the Drafts view, an attachment and sending to a
 * remote MX (Postfix's smtp-sink); theme and density preferences applied; saved tabs reordered and
 * closed. Then the same screens in French on a phone-sized viewport: translated, no sideways scroll.
 */
import t from 'tap';
import { startApi, remoteMx, ALICE } from '../helpers/api-app.js';
import { makeMessage } from '../helpers/deps.js';
import { startSink, waitFor } from '../helpers/smtp-sink.js';
import { chromiumSkip } from '../helpers/browser.js';
import { assertFitsWidth, assertTranslated, catalogue, deskLoggedIn, field, logIn } from '../helpers/web-app.js';

const en = catalogue('en');
const fr = catalogue('fr');
const DISCUSSIONS = 120;

t.test('timeline, spam, compose, preferences, tabs; French on a phone', { timeout: 240_000, skip: chromiumSkip() }, async (t) => {
  const sink = await startSink(t);
  const h = await startApi(t, { ...remoteMx(sink.port) });
  for (let i = 0; i < DISCUSSIONS; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0');
    const raw = makeMessage({ from: `Sender ${i} <s${i}@remote.test>`, subject: `Topic ${i}`, body: `Body of topic ${i}`, messageId: `t${i}@remote.test`, date: `${day} Jan 2026 ${String(i % 24).padStart(2, '0')}:00:00 +0000` });
    await h.ingest(raw, [h.users.alice], i % 10 === 0 ? { tags: ['Work'] } : {});
  }
  const base = `http://127.0.0.1:${h.http}`;
  const c = en;
  const { browser, desk, page } = await deskLoggedIn(t, base, c, ALICE);
  const rows = page.locator('ul.timeline > li.discussion');

  // --- paging: 50 at first, more as the end scrolls into view ---------------------------------------
  await rows.nth(49).waitFor();
  t.equal(await rows.count(), 50, 'a first page of 50');
  await page.locator('.more').scrollIntoViewIfNeeded();
  await rows.nth(99).waitFor();
  await page.locator('.more').scrollIntoViewIfNeeded();
  await rows.nth(DISCUSSIONS - 1).waitFor();
  t.equal(await rows.count(), DISCUSSIONS, 'all of them after scrolling, nothing twice');
  t.equal(await page.locator('.more').count(), 0, 'no "more" at the end');

  // --- filter by tag ---------------------------------------------------------------------------------
  await field(page, c['mail.filter_tag']!).selectOption('Work');
  await page.waitForFunction(() => document.querySelectorAll('ul.timeline > li.discussion').length === 12);
  t.same([...new Set(await rows.locator('.tag-chip').allTextContents())].filter((x) => x !== 'INBOX'), ['Work'], 'only the tagged ones');
  await field(page, c['mail.filter_tag']!).selectOption('');
  await rows.nth(49).waitFor();

  // --- keyboard: j/k move, Enter opens, r replies ------------------------------------------------------
  await page.locator('h1').first().click();
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  t.equal(await page.locator('li.discussion.selected').count(), 1);
  t.equal(await page.locator('li.discussion.selected .subject').textContent(), await rows.nth(1).locator('.subject').textContent(), 'j j k selects the second');
  const second = await rows.nth(1).getAttribute('data-id');
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`#/discussions/${second}$`));
  await page.locator('article.message').first().waitFor();
  await page.goBack();
  await rows.nth(0).waitFor();
  await page.locator('h1').first().click();
  await page.keyboard.press('r');
  await page.waitForURL(/#\/discussions\/\d+\?reply=1$/);
  await page.waitForFunction(() => document.activeElement?.id === 'quick-reply');
  t.pass('r opens the discussion with the reply box focused');

  // --- move to SPAM and back ---------------------------------------------------------------------------
  const spamSubject = (await page.locator('.discussion-screen h1').textContent())!;
  const message = page.locator('article.message').first();
  await message.getByRole('button', { name: c['message.spam'] }).click();
  await message.getByRole('button', { name: c['message.not_spam'] }).waitFor();
  const msgId = Number(await message.getAttribute('data-id'));
  t.equal((await h.app.services.deps.db('messages').where({ id: msgId }).first('spam_trained')).spam_trained, 'spam', 'the filter learnt it');
  await page.goto(`${base}/#/timeline`);
  await rows.nth(0).waitFor();
  t.equal(await rows.filter({ hasText: spamSubject }).count(), 0, 'gone from the timeline');
  await page.getByLabel(c['mail.show_spam']!).check();
  const spamRow = rows.filter({ hasText: spamSubject });
  await spamRow.waitFor();
  await spamRow.locator('a.summary').click();
  await page.locator('article.message').first().getByRole('button', { name: c['message.not_spam'] }).click();
  await page.locator('article.message').first().getByRole('button', { name: c['message.spam'] }).waitFor();
  t.equal((await h.app.services.deps.db('messages').where({ id: msgId }).first('is_spam', 'spam_trained')).spam_trained, 'ham', 'and unlearnt it');

  // --- compose: autosave, Drafts, attachment, send -------------------------------------------------
  await page.goto(`${base}/#/timeline`);
  const newest = (await rows.nth(0).locator('.who').textContent())!; // "Sender N"
  await page.locator('h1').first().click();
  await page.keyboard.press('c');
  await page.getByRole('heading', { name: c['compose.title'] }).waitFor();
  const to = page.locator('.recipients input').first();
  await to.fill(newest.slice(0, 4));
  const suggestion = `${newest} <s${newest.split(' ')[1]}@remote.test>`;
  await page.locator(`.recipients datalist option[value="${suggestion}"]`).first().waitFor({ state: 'attached' });
  t.pass('recipients are suggested from past participants');
  await to.fill('dave@remote.test');
  await to.press('Enter');
  await field(page, c['compose.subject']!).fill('Plans for spring');
  await field(page, c['compose.body']!).fill('Here is the plan, see the file.');
  await page.getByText(c['compose.saved']!).waitFor();
  await page.goto(`${base}/#/drafts`);
  const draft = page.locator('li.discussion', { hasText: 'Plans for spring' });
  await draft.waitFor();
  await draft.locator('a.summary').click();
  t.equal(await field(page, c['compose.body']!).inputValue(), 'Here is the plan, see the file.', 'the autosaved draft reopens whole');
  await page.locator('.compose-attachments input[type=file]').setInputFiles({ name: 'plan.txt', mimeType: 'text/plain', buffer: Buffer.from('step one, step two\n') });
  await page.locator('.compose-attachments li', { hasText: 'plan.txt' }).waitFor();
  await page.getByRole('button', { name: c['compose.send'], exact: true }).click();
  await page.getByRole('heading', { name: c['send.title'] }).waitFor();
  // smtp-sink writes its dump as the data comes: wait for the attachment, which comes last
  await waitFor(() => sink.dumps().some((d) => d.text.includes('Plans for spring') && /filename="?plan\.txt/.test(d.text)), 20_000, 'the message at the sink, whole');
  const dump = sink.dumps().find((d) => d.text.includes('Plans for spring'))!;
  t.match(dump.text, /filename="?plan\.txt/, 'with its attachment');
  await page.getByText(c['send.delivered']!.replace('{domain}', 'remote.test')).waitFor({ timeout: 20_000 });
  await page.goto(`${base}/#/drafts`);
  await page.getByText(c['drafts.empty']!).waitFor();
  t.pass('a sent draft leaves the Drafts view');

  // --- preferences apply at once: theme, density --------------------------------------------------
  await page.goto(`${base}/#/settings`);
  const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await field(page, c['settings.pref.theme']!).selectOption('dark');
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
  const dark = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  t.not(dark, light, 'the dark theme changes the page');
  await field(page, c['settings.pref.density']!).selectOption('compact');
  await page.waitForFunction(() => document.documentElement.dataset.density === 'compact');
  await page.goto(`${base}/#/timeline`);
  await rows.nth(0).waitFor();
  t.equal(await rows.nth(0).locator('.excerpt').isVisible(), false, 'compact: no excerpt line');
  await page.reload();
  await rows.nth(0).waitFor();
  t.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark', 'kept after a reload (stored on the account)');

  // --- tabs: reorder and close -----------------------------------------------------------------------
  for (const q of ['Topic 1', 'Topic 2']) {
    await page.locator('#search').fill(q);
    await page.locator('#search').press('Enter');
    await page.getByRole('button', { name: c['search.save'] }).click();
    await page.locator('.tabs .tab[data-tab] a', { hasText: q }).waitFor();
  }
  const tabTitles = () => page.locator('.tabs .tab[data-tab] a').allTextContents();
  t.same(await tabTitles(), ['Topic 1', 'Topic 2']);
  await page.locator('.tabs .tab[data-tab] a', { hasText: 'Topic 1' }).click(); // a tab's own buttons show when it is open
  await page.locator('.tabs .tab[data-tab]', { hasText: 'Topic 1' }).getByRole('button', { name: c['tabs.right'] }).click();
  await page.waitForFunction(() => document.querySelector('.tabs .tab[data-tab] a')?.textContent === 'Topic 2');
  await page.reload();
  await page.locator('.tabs .tab[data-tab]').first().waitFor();
  t.same(await tabTitles(), ['Topic 2', 'Topic 1'], 'the new order is stored');
  await page.getByRole('button', { name: c['tabs.close_named']!.replace('{name}', 'Topic 2') }).click();
  await page.waitForFunction(() => document.querySelectorAll('.tabs .tab[data-tab]').length === 1);
  t.same(await tabTitles(), ['Topic 1'], 'closed');

  // --- French, on a phone -----------------------------------------------------------------------------
  await h.app.services.deps.db('users').where({ id: h.users.alice }).update({ lang: 'fr' });
  const phone = await browser.device('phone', { locale: 'fr-FR', viewport: { width: 390, height: 800 }, isMobile: true, hasTouch: true });
  await phone.page.goto(base + '/');
  await logIn(phone.page, fr, ALICE, 'Téléphone');
  const p = phone.page;
  await p.locator('ul.timeline > li.discussion').nth(0).waitFor();
  const firstId = await p.locator('ul.timeline > li.discussion').nth(0).getAttribute('data-id');
  const screens: Array<[string, string, () => Promise<unknown>]> = [
    ['timeline', '#/timeline', () => p.locator('ul.timeline > li.discussion').nth(0).waitFor()],
    ['discussion', `#/discussions/${firstId}`, () => p.locator('article.message').first().waitFor()],
    ['compose', '#/compose', () => p.getByRole('heading', { name: fr['compose.title'] }).waitFor()],
    ['drafts', '#/drafts', () => p.getByRole('heading', { name: fr['drafts.title'] }).waitFor()],
    ['search', `#/search?q=${encodeURIComponent('tag:Work')}`, () => p.locator('li.hit').first().waitFor()],
    ['tags', '#/tags', () => p.locator('li.tag-item').first().waitFor()],
    ['contacts', '#/contacts', () => p.getByRole('heading', { name: fr['contacts.title'] }).waitFor()],
    ['settings', '#/settings', () => p.getByRole('heading', { name: fr['settings.title'] }).waitFor()],
    ['devices', '#/devices', () => p.getByRole('heading', { name: fr['devices.title'] }).waitFor()],
    ['help', '#/help', () => p.locator('.signal').first().waitFor()],
  ];
  for (const [name, hash, ready] of screens) {
    await p.goto(`${base}/${hash}`);
    await ready();
    await assertTranslated(t, p, `fr, phone: ${name}`);
    await assertFitsWidth(t, p, `fr, phone: ${name}`);
  }
  t.equal(await p.evaluate(() => document.documentElement.lang), 'fr');

  for (const d of [desk, phone]) {
    t.same(d.log.pageErrors, [], `${d.name}: no uncaught exception`);
    t.same(d.log.requests.filter((u) => !u.startsWith('data:') && new URL(u).hostname !== '127.0.0.1'), [], `${d.name}: nothing requested but 127.0.0.1`);
  }
});
