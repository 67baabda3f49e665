/**
 * External accounts in real headless Chromium against a real Dovecot: from the settings screen to
 * #/accounts, add an account (the self-signed certificate is refused and its fingerprint shown,
 * then trusted), the import starts, and the progress bar moves (live import-progress events) until
 * the account is up to date with every message stored. Nothing requested but 127.0.0.1.
 * Then an account's sending server set from its panel (self-signed certificate trusted by its
 * fingerprint), its address chosen as From in the composer, and the message leaving through the
 * provider's submission server (a Node smtp-server with AUTH).
 */
import t from 'tap';
import { startApi, ALICE } from '../helpers/api-app.js';
import { chromiumSkip, startBrowser } from '../helpers/browser.js';
import { dovecotMissing, startDovecot } from '../helpers/dovecot.js';
import { catalogue, field, logIn, assertTranslated } from '../helpers/web-app.js';
import { mail } from '../helpers/imap-harness.js';
import { startProviderSubmission } from '../helpers/submission-peer.js';

const en = catalogue('en');
const skip = chromiumSkip() || dovecotMissing();
if (skip) t.comment(skip);

t.test('add an external account and watch the import progress bar move', { skip }, async (t) => {
  const N = 600;
  const dovecot = await startDovecot(t);
  const body = 'A line of text in a message body, long enough to weigh something.\r\n'.repeat(20);
  for (let i = 0; i < N; i++) dovecot.add('alice', 'INBOX', mail(`import ${i}`, { body }));
  const h = await startApi(t, { config: { imports: { enabled: false, batchMessages: 25, concurrency: 4 } } });
  const browser = await startBrowser(t);
  const { page, log } = await browser.device('desk');
  await page.goto(`http://127.0.0.1:${h.http}/`);
  await logIn(page, en, ALICE, 'Desk');

  await page.getByRole('link', { name: en['nav.settings'] }).click();
  await page.getByRole('link', { name: en['settings.accounts_link'] }).click();
  await page.getByRole('heading', { name: en['accounts.title'] }).waitFor();
  await page.getByText(en['accounts.none']!).waitFor();
  await page.getByRole('button', { name: en['accounts.add_button'] }).click();
  // the server first, so that leaving the address field does not look the domain up (autoconfig)
  await field(page, en['accounts.host']!).fill('127.0.0.1');
  await field(page, en['accounts.port']!).fill(String(dovecot.imapsPort));
  await field(page, en['accounts.username']!).fill('alice');
  await field(page, en['accounts.password']!).fill('alicepass');
  await field(page, en['accounts.address']!).fill('alice@remote.test');
  await page.getByRole('button', { name: en['accounts.test'] }).click();
  const fingerprint = page.locator('code.fingerprint');
  await fingerprint.waitFor();
  t.equal(await fingerprint.getAttribute('data-fingerprint'), dovecot.fingerprint, 'the certificate fingerprint is shown to compare');
  t.equal((await fingerprint.innerText()).replace(/\s+/g, ':'), dovecot.fingerprint, 'in full, on two lines');
  await page.getByRole('button', { name: en['accounts.trust'] }).click();
  await page.getByRole('button', { name: en['accounts.test'] }).click();
  await page.getByText(/Connection works: \d+ folders found/).waitFor();
  await assertTranslated(t, page, 'add form');
  await page.getByRole('button', { name: en['accounts.add'] }).click();

  const bar = page.locator('.account progress');
  await bar.waitFor({ timeout: 20_000 });
  const seen: number[] = [];
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    const value = Number(await bar.getAttribute('value'));
    if (seen.at(-1) !== value) seen.push(value);
    if (value >= N) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(seen.filter((v) => v > 0 && v < N).length >= 2, `the bar moved through intermediate values (${seen.slice(0, 8).join(', ')}…)`);
  t.same([...seen].sort((a, b) => a - b), seen, 'and only forward');
  t.equal(seen.at(-1), N, 'to the end');
  t.equal(Number(await bar.getAttribute('max')), N);
  await page.locator('.account').getByText(en['accounts.status.idle']!).waitFor();
  await page.locator('.account').getByText(`${N} imported`).waitFor();
  t.equal(Number((await h.app.services.deps.db('messages').count({ n: '*' }))[0]!.n), N, 'every message stored');
  await assertTranslated(t, page, 'accounts list');
  t.same(log.pageErrors, [], 'no page error');
  t.same(log.requests.filter((u) => !u.startsWith(`http://127.0.0.1:${h.http}/`)), [], 'nothing requested off the box');
});

t.test('set up a sending server, then write from the external address', { skip }, async (t) => {
  const dovecot = await startDovecot(t);
  const provider = await startProviderSubmission(t, { tls: 'implicit', users: { alice: 'smtp pass' } });
  const h = await startApi(t, { config: { imports: { enabled: false } } });
  const api = h.client();
  await api.login(ALICE.username, ALICE.password);
  const added = await api.post('/api/v1/external-accounts', { address: 'alice@remote.test', host: '127.0.0.1', port: dovecot.imapsPort, tls: 'implicit', username: 'alice', password: 'alicepass', trusted_fingerprint: dovecot.fingerprint });
  t.equal(added.status, 201);
  const browser = await startBrowser(t);
  const { page, log } = await browser.device('desk');
  await page.goto(`http://127.0.0.1:${h.http}/#/accounts`);
  await logIn(page, en, ALICE, 'Desk');
  await page.goto(`http://127.0.0.1:${h.http}/#/accounts`);
  await page.getByText(en['accounts.smtp_off']!).waitFor();
  await page.getByRole('button', { name: en['accounts.smtp_button'] }).click();
  await field(page, en['accounts.smtp_host']!).fill('127.0.0.1');
  await field(page, en['accounts.port']!).fill(String(provider.port));
  t.equal(await field(page, en['accounts.username']!).inputValue(), 'alice', 'the IMAP login as a start');
  await field(page, en['accounts.password']!).fill('smtp pass');
  await page.getByRole('button', { name: en['accounts.save'] }).click();
  const fingerprint = page.locator('code.fingerprint');
  await fingerprint.waitFor();
  t.equal(await fingerprint.getAttribute('data-fingerprint'), provider.fingerprint, 'the sending server\'s certificate to compare');
  await page.getByRole('button', { name: en['accounts.trust'] }).click();
  await page.getByRole('button', { name: en['accounts.save'] }).click();
  await page.getByText(`Sends as this address through 127.0.0.1:${provider.port}`).waitFor();
  await assertTranslated(t, page, 'accounts with a sending server');

  await page.goto(`http://127.0.0.1:${h.http}/#/compose`);
  await page.getByRole('heading', { name: en['compose.title'] }).waitFor();
  const from = page.locator('#compose-from');
  await from.locator('option[value="alice@remote.test"]').waitFor({ state: 'attached' });
  t.equal(await from.locator('option[value="alice@remote.test"]').innerText(), 'alice@remote.test (through its own server)');
  await from.selectOption('alice@remote.test');
  const to = page.locator('.recipients input').first();
  await to.fill('carol@far.test');
  await to.press('Enter');
  await field(page, en['compose.subject']!).fill('Through my provider');
  await field(page, en['compose.body']!).fill('Written on the box, sent by my old provider.');
  await page.getByRole('button', { name: en['compose.send'], exact: true }).click();
  await page.getByRole('heading', { name: en['send.title'] }).waitFor();
  const until = Date.now() + 15_000;
  while (!provider.received.length && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  t.match(provider.received[0], { user: 'alice', mailFrom: 'alice@remote.test', rcpt: ['carol@far.test'] }, 'left through the provider, logged in');
  t.match(provider.received[0]?.raw, /Subject: Through my provider/);
  t.same(log.pageErrors, [], 'no page error');
  t.same(log.requests.filter((u) => !u.startsWith(`http://127.0.0.1:${h.http}/`)), [], 'nothing requested off the box');
});
