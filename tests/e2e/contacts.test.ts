/**
 * The contacts screens in real headless Chromium: log in and name the device, add a contact by hand
 * (and the same address again: 409, offered to open the first), see it in the list with its PI badge,
 * search it, edit it (a phone), put it in a group and filter by that group, import a two-card vCard
 * file written here, export the book and find both cards and the hand-made one in the download,
 * delete one. No console error (but the checked ones), no request to anything but 127.0.0.1.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startApi, ALICE } from '../helpers/api-app.js';
import { chromiumSkip } from '../helpers/browser.js';
import { catalogue, deskLoggedIn, field } from '../helpers/web-app.js';
import { generateKeyPair } from '../../web/js/pgp/index.js';

const c = catalogue('en');

const VCARDS = [
  'BEGIN:VCARD', 'VERSION:4.0', 'FN:Ada Lovelace', 'N:Lovelace;Ada;;;', 'EMAIL;TYPE=home:ada@analytical.test', 'ORG:Analytical Engines', 'END:VCARD',
  'BEGIN:VCARD', 'VERSION:3.0', 'FN:Grace Hopper', 'N:Hopper;Grace;;;', 'EMAIL;TYPE=INTERNET,WORK:grace@navy.test', 'TEL;TYPE=CELL:+1 555 0100', 'END:VCARD',
].join('\r\n') + '\r\n';


t.test('contacts: add, list with PI, search, edit, group, import, export, delete', { skip: chromiumSkip() }, async (t) => {
  const h = await startApi(t);
  const base = `http://127.0.0.1:${h.http}`;
  const { desk, page } = await deskLoggedIn(t, base, c, ALICE);

  // --- add a contact by hand ----------------------------------------------------------------------
  await page.getByRole('link', { name: c['nav.contacts'] }).click();
  await page.getByRole('heading', { name: c['contacts.title'] }).waitFor();
  await page.getByText(c['contacts.empty']!).waitFor();
  await page.getByRole('button', { name: c['contacts.add'] }).click();
  await field(page, c['contact.display_name']!).fill('Zoé Martin');
  await field(page, c['contact.email']!).fill('zoe@elsewhere.test');
  await field(page, c['contact.org_name']!).fill('Atelier Martin');
  await page.getByRole('button', { name: c['contacts.add_submit'] }).click();
  await page.getByRole('heading', { name: 'Zoé Martin' }).waitFor();
  t.match(new URL(page.url()).hash, /^#\/contacts\/\d+$/, 'the new card opens');
  const zoeHash = new URL(page.url()).hash;
  // --- her key: pasted, then verified by its fingerprint; the contact's PI rises -----------------------
  await page.getByText(c['contact.keys_none']!).waitFor();
  const openpgp = await import('openpgp');
  // dated before the test box's clock (2026-03-01), which judges whether a key is valid yet
  const zoeKey = await generateKeyPair(openpgp, { name: 'Zoé Martin', email: 'zoe@elsewhere.test', passphrase: 'zoe passphrase', date: new Date('2026-01-01T00:00:00Z') });
  const piBefore = Number(await page.locator('.contact-head button.pi .pi-score').textContent());
  await field(page, c['contact.key_paste']!).fill(zoeKey.publicKey);
  await page.getByRole('button', { name: c['contact.key_add'] }).click();
  const keyItem = page.locator('li.contact-key');
  await keyItem.waitFor();
  t.equal((await keyItem.locator('.fingerprint').textContent())!.replace(/\s/g, ''), zoeKey.fingerprint, 'her key, by its fingerprint');
  await keyItem.getByText(c['contact.key_unverified']!).waitFor();
  await keyItem.getByRole('button', { name: c['contact.key_verify'] }).click();
  await keyItem.getByRole('button', { name: c['contact.key_verify_yes'] }).click();
  await keyItem.getByText(c['contact.key_verified']!, { exact: true }).waitFor();
  await page.waitForFunction((before) => Number(document.querySelector('.contact-head button.pi .pi-score')?.textContent) > before, piBefore);
  t.pass('a verified key raises the contact PI');

  // Its PI badge opens the reasons and links to the help.
  await page.locator('.contact-head button.pi').click();
  await page.locator('.contact-head .pi-pop').getByRole('link', { name: c['pi.help_link'] }).waitFor();
  await page.keyboard.press('Escape');

  // --- the list: the row with its PI badge --------------------------------------------------------
  await page.getByRole('link', { name: c['contact.back'] }).click();
  const rows = page.locator('li.contact-item');
  const zoe = rows.filter({ hasText: 'Zoé Martin' });
  await zoe.waitFor();
  t.match(await zoe.textContent(), 'zoe@elsewhere.test', 'emails in the row');
  t.match(await zoe.textContent(), 'Atelier Martin', 'organisation in the row');
  t.equal(await zoe.locator('.pi').count(), 1, 'a PI badge in the row');

  // The same address again: 409, and a link to the contact that has it.
  await page.getByRole('button', { name: c['contacts.add'] }).click();
  await field(page, c['contact.email']!).fill('ZOE@elsewhere.test');
  await page.getByRole('button', { name: c['contacts.add_submit'] }).click();
  await page.getByText(c['contacts.exists']!).waitFor();
  t.equal(await page.getByRole('link', { name: c['contacts.open_existing'] }).getAttribute('href'), zoeHash, 'offers the existing contact');
  await page.getByRole('button', { name: c['contact.cancel'] }).click();

  // --- search -----------------------------------------------------------------------------------------
  const search = page.getByRole('searchbox', { name: c['contacts.search'] });
  await search.fill('zoe');
  await page.getByRole('button', { name: c['contacts.search_go'], exact: true }).click();
  await zoe.waitFor();
  await search.fill('nobody-here');
  await page.getByRole('button', { name: c['contacts.search_go'], exact: true }).click();
  await page.getByText(c['contacts.none_found']!).waitFor();
  await search.fill('');
  await page.getByRole('button', { name: c['contacts.search_go'], exact: true }).click();
  await zoe.waitFor();

  // --- edit: add a phone --------------------------------------------------------------------------------
  await zoe.getByRole('link').click();
  await page.getByRole('heading', { name: 'Zoé Martin' }).waitFor();
  await page.getByRole('button', { name: c['contact.edit'] }).click();
  await field(page, c['contact.phone']!).fill('+33 1 23 45 67 89');
  await field(page, c['contact.phone_type']!).fill('cell');
  await page.getByRole('button', { name: c['contact.save'] }).click();
  await page.locator('.contact-facts').getByText('+33 1 23 45 67 89').waitFor();
  t.match(await page.locator('.contact-facts').textContent(), 'zoe@elsewhere.test', 'the email kept');

  // --- a group (tag) ---------------------------------------------------------------------------------------
  await field(page, c['contact.tag_name']!).fill('Family');
  await page.getByRole('button', { name: c['contact.tag_add'] }).click();
  await page.locator('.contact-tags .chip', { hasText: 'Family' }).waitFor();
  await page.getByRole('link', { name: c['contact.back'] }).click();
  await zoe.locator('.chip', { hasText: 'Family' }).waitFor();

  // --- import a two-card file ------------------------------------------------------------------------------
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caliopen-vcf-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'two.vcf');
  fs.writeFileSync(file, VCARDS);
  await page.locator('.file-button input[type=file]').setInputFiles(file);
  await page.getByText(c['contacts.import_done']!.replace('{created}', '2').replace('{updated}', '0').replace('{skipped}', '0').replace('{errors}', '0')).waitFor();
  await rows.filter({ hasText: 'Ada Lovelace' }).waitFor();
  await rows.filter({ hasText: 'Grace Hopper' }).waitFor();
  t.equal(await rows.count(), 3, 'three contacts');

  // The group filter shows only Zoé.
  await field(page, c['contacts.group']!).selectOption('Family');
  await rows.filter({ hasText: 'Ada Lovelace' }).waitFor({ state: 'detached' });
  t.equal(await rows.count(), 1, 'one contact in the group');
  await field(page, c['contacts.group']!).selectOption('');
  await rows.filter({ hasText: 'Ada Lovelace' }).waitFor();

  // --- export ---------------------------------------------------------------------------------------------------
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: c['contacts.export'] }).click()]);
  const exported = fs.readFileSync((await download.path())!, 'utf8');
  t.match(exported, /VERSION:4\.0/, 'vCard 4.0 by default');
  for (const name of ['Ada Lovelace', 'Grace Hopper', 'Zoé Martin']) t.match(exported, `FN:${name}`, `${name} exported`);
  t.equal(exported.match(/BEGIN:VCARD/g)?.length, 3, 'three cards');

  // --- delete one -------------------------------------------------------------------------------------------------
  await rows.filter({ hasText: 'Grace Hopper' }).getByRole('link').click();
  await page.getByRole('heading', { name: 'Grace Hopper' }).waitFor();
  await page.getByRole('button', { name: c['contact.delete'], exact: true }).click();
  await page.getByRole('button', { name: c['contact.delete_confirm'] }).click();
  await page.getByRole('heading', { name: c['contacts.title'] }).waitFor();
  await rows.filter({ hasText: 'Ada Lovelace' }).waitFor();
  t.equal(await rows.filter({ hasText: 'Grace Hopper' }).count(), 0, 'Grace deleted');
  t.equal(await rows.count(), 2);

  // --- what the page did --------------------------------------------------------------------------------------------
  t.same(desk.log.pageErrors, [], 'no uncaught exception');
  const expected = /^Failed to load resource: the server responded with a status of (401|409)/;
  t.same(desk.log.consoleErrors.filter((e) => !expected.test(e)), [], 'no console error');
  t.same(desk.log.failedRequests, [], 'no failed request');
  t.same(desk.log.errorResponses, [`401 GET ${base}/api/v1/me`, `409 POST ${base}/api/v1/contacts`], 'only the logged-out visit and the duplicate address');
  const foreign = desk.log.requests.filter((u) => !u.startsWith('data:') && new URL(u).hostname !== '127.0.0.1');
  t.same(foreign, [], 'nothing requested but 127.0.0.1');
});
