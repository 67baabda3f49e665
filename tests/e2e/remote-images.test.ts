/**
 * Remote images in real Chromium. An HTML message whose images live on a loopback HTTP server (it
 * stands for a sender's tracking server and counts the requests): nothing is fetched until asked;
 * "show images this time" fetches them for that view only; "always from this sender" fetches them
 * on every later view, until withdrawn in the message or in the settings. The message's own image
 * (cid:) always shows, and its inline styles apply: the body is its own document with its own CSP.
 */
import t, { type Test } from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startApi, ALICE } from '../helpers/api-app.js';
import { chromiumSkip } from '../helpers/browser.js';
import { catalogue, deskLoggedIn } from '../helpers/web-app.js';

const c = catalogue('en');
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

/** A sender's image server on loopback: serves a PNG and counts what was asked. */
async function imageServer(t: Test): Promise<{ port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' });
    res.end(PNG);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, hits };
}

function newsletter(port: number): Buffer {
  return Buffer.from([
    'From: Garden News <news@garden.test>', `To: ${ALICE.address}`, 'Subject: Spring seeds',
    'Date: Sun, 01 Mar 2026 09:00:00 +0000', 'Message-ID: <seeds@garden.test>', 'MIME-Version: 1.0',
    'Content-Type: multipart/related; boundary="r1"', '',
    '--r1', 'Content-Type: text/html; charset=utf-8', '',
    `<p style="color: rgb(200, 0, 0)">Seeds are here</p><img src="cid:logo@garden.test" alt="logo"><img src="http://127.0.0.1:${port}/banner.png" alt="banner">`,
    '--r1', 'Content-Type: image/png', 'Content-ID: <logo@garden.test>', 'Content-Transfer-Encoding: base64', '', PNG.toString('base64'),
    '--r1--', '',
  ].join('\r\n'));
}

t.test('remote images: blocked, shown once, always for the sender, withdrawn', { timeout: 120_000, skip: chromiumSkip() }, async (t) => {
  const images = await imageServer(t);
  const h = await startApi(t);
  const id = await h.ingest(newsletter(images.port), [h.users.alice]);
  const discussion = (await h.app.services.deps.db('messages').where({ id }).first('discussion_id')).discussion_id as number;
  const base = `http://127.0.0.1:${h.http}`;
  const { page, desk: { log } } = await deskLoggedIn(t, base, c, ALICE);

  const open = async () => {
    await page.goto(`${base}/#/timeline`);
    await page.goto(`${base}/#/discussions/${discussion}`);
    await body().getByText('Seeds are here').waitFor();
  };
  const body = () => page.frameLocator('.message-html iframe');
  const settle = () => page.waitForTimeout(800);

  await open();
  t.equal(await page.locator('.message-html iframe').getAttribute('sandbox'), 'allow-popups allow-popups-to-escape-sandbox', 'no scripts, no same-origin');
  t.equal(await body().getByText('Seeds are here').evaluate((el) => getComputedStyle(el).color), 'rgb(200, 0, 0)', "the mail's inline style applies");
  t.ok(await body().locator('img[alt=logo]').evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth === 1), 'its own cid: image shows');
  t.equal(await body().locator('img[alt=banner]').count(), 0, 'the remote image is not in the document');
  await page.getByText('1 remote images or trackers were blocked.').waitFor();
  await settle();
  t.same(images.hits, [], 'nothing fetched from the sender');

  await page.getByRole('button', { name: c['message.show_images'] }).click();
  await body().locator('img[alt=banner]').waitFor();
  for (let i = 0; i < 50 && images.hits.length === 0; i++) await page.waitForTimeout(100);
  t.same(images.hits, ['/banner.png'], 'shown once when asked');

  await open();
  await settle();
  t.equal(images.hits.length, 1, 'only that time: blocked again on the next view');

  await page.getByRole('button', { name: c['message.show_images_sender']!.replace('{sender}', 'news@garden.test') }).click();
  await page.getByText(c['message.remote_trusted']!.replace('{sender}', 'news@garden.test')).waitFor();
  await body().locator('img[alt=banner]').waitFor();
  await open();
  await body().locator('img[alt=banner]').waitFor();
  for (let i = 0; i < 50 && images.hits.length < 3; i++) await page.waitForTimeout(100);
  t.equal(images.hits.length, 3, 'always for this sender: fetched on every view');

  await page.getByRole('button', { name: c['message.remote_untrust'] }).click();
  await page.getByRole('button', { name: c['message.show_images'] }).waitFor();
  t.equal(await body().locator('img[alt=banner]').count(), 0, 'withdrawn in the message');

  await page.getByRole('button', { name: c['message.show_images_sender']!.replace('{sender}', 'news@garden.test') }).click();
  await page.getByText(c['message.remote_trusted']!.replace('{sender}', 'news@garden.test')).waitFor();
  await page.goto(`${base}/#/settings`);
  await page.getByRole('heading', { name: c['settings.image_senders'] }).waitFor();
  await page.getByRole('button', { name: c['settings.image_senders_remove']!.replace('{sender}', 'news@garden.test') }).click();
  await page.getByText(c['settings.image_senders_none']!).waitFor();
  const before = images.hits.length;
  await open();
  await settle();
  t.equal(images.hits.length, before, 'withdrawn in the settings');
  t.same(log.pageErrors, [], 'no uncaught exception');
  // the one expected: GET /me before logging in is a 401
  t.same(log.consoleErrors.filter((e) => !/401 \(Unauthorized\) \(http:\S+\/api\/v1\/me\)$/.test(e)), [], 'no other console error (a CSP refusal would show here)');
});
