/**
 * The inbound MX's rules, byte-exact over a raw socket: smuggling, syntax errors and the error
 * limit, SIZE, recipient and connection limits, idle timeout, reply ordering against deliver().
 */
import t from 'tap';
import { AppError } from '../../server/errors.js';
import { HOSTNAME, startInbound, testTlsMaterial, type Harness } from '../helpers/inbound-harness.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';

const TIMEOUT = { timeout: 15_000 };

const tls = await testTlsMaterial(t);
const h = await startInbound(t, tls, { maxErrors: 5, maxRecipients: 3, maxMessageSize: 4096 });

t.beforeEach(() => {
  h.delivered.length = 0;
  h.deliverError = null;
  h.deliverGate = null;
  h.classifyError = null;
});

/** Opens a session that has said EHLO; the socket is destroyed with the test. */
async function session(t: { teardown(fn: () => void): void }, harness: Harness = h): Promise<RawSmtpClient> {
  const { client, banner } = await RawSmtpClient.open(harness.port);
  t.teardown(() => client.destroy());
  if (!banner.startsWith('220 ')) throw new Error(`unexpected banner ${banner}`);
  await client.command('EHLO client.test');
  return client;
}

/** MAIL + RCPT alice + DATA; leaves the client where message bytes are expected. */
async function startData(client: RawSmtpClient): Promise<void> {
  await client.command('MAIL FROM:<sender@remote.test>');
  await client.command('RCPT TO:<alice@caliopen.test>');
  const go = await client.command('DATA');
  if (!go.startsWith('354')) throw new Error(`DATA refused: ${go}`);
}

t.test('banner and EHLO name this box, capabilities are complete', TIMEOUT, async (t) => {
  const { client, banner } = await RawSmtpClient.open(h.port);
  t.teardown(() => client.destroy());
  t.equal(banner, `220 ${HOSTNAME} ESMTP`);
  const ehlo = (await client.command('EHLO client.test')).split('\r\n');
  t.match(ehlo[0], new RegExp(`^250-${HOSTNAME} `));
  t.same(ehlo.slice(1).map((l) => l.slice(4)), ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'STARTTLS', 'SIZE 4096']);
  t.match(await client.command('AUTH PLAIN AGFsaWNlAHNlY3JldA=='), /^5\d\d /, 'AUTH is not a command on the MX');
});

t.test('smuggling: bare LF before the dot is refused with 550 5.6.0, nothing delivered', TIMEOUT, async (t) => {
  const client = await session(t);
  await startData(client);
  // a peer ending DATA at <LF>.<CR><LF> would see a second transaction from a forged sender here
  client.write('Subject: one\r\n\r\nhello\n.\r\nMAIL FROM:<ceo@caliopen.test>\r\nRCPT TO:<bob@caliopen.test>\r\nDATA\r\nforged\r\n.\r\n');
  t.equal(await client.reply(), '550 5.6.0 Bare CR or LF in message; lines must end with CRLF');
  t.equal(h.delivered.length, 0);
  t.match(await client.command('NOOP'), /^250 /, 'the session goes on');
});

t.test('smuggling: bare CR, and <CR><LF>.<LF>, are refused too', TIMEOUT, async (t) => {
  const client = await session(t);
  await startData(client);
  client.write('Subject: two\r\n\r\nline one\rline two\r\n.\r\n');
  t.match(await client.reply(), /^550 5\.6\.0 /);
  await startData(client);
  client.write('Subject: three\r\n\r\nhello\r\n.\nMAIL FROM:<x@y.test>\r\n.\r\n');
  t.match(await client.reply(), /^550 5\.6\.0 /);
  t.equal(h.delivered.length, 0);
});

t.test('CRLF split across TCP segments is not a bare CR', TIMEOUT, async (t) => {
  const client = await session(t);
  await startData(client);
  client.write('Subject: split\r\n\r\nabc\r');
  await new Promise((r) => setTimeout(r, 50));
  client.write('\ndef\r');
  await new Promise((r) => setTimeout(r, 50));
  client.write('\n..leading dot\r\n.\r\n');
  t.match(await client.reply(), /^250 2\.0\.0 /);
  t.equal(h.delivered[0]?.raw.toString('latin1'), 'Subject: split\r\n\r\nabc\r\ndef\r\n.leading dot\r\n');
});

t.test('malformed commands get 5xx, the session survives until maxErrors, then 421', TIMEOUT, async (t) => {
  const client = await session(t);
  t.match(await client.command('HELLO THERE'), /^500 5\.5\.2 /);
  t.match(await client.command('MAIL FROM:sender@remote.test'), /^501 5\.1\.7 /, 'MAIL without angle brackets');
  t.match(await client.command('RCPT TO:<alice@caliopen.test>'), /^503 5\.5\.1 /, 'RCPT before MAIL');
  t.match(await client.command('NOOP'), /^250 /, 'still alive after 3 errors');
  t.match(await client.command('DATA'), /^503 /);
  t.match(await client.command('\x01\x02garbage'), /^500 /, 'the fifth error');
  t.equal(await client.reply(), '421 4.7.0 mx.caliopen.test Error: too many errors');
  await client.closed();
});

t.test('recipients: unknown 550 5.1.1, relay 554 5.7.1, limit 452 4.5.3, then DATA with the accepted ones', TIMEOUT, async (t) => {
  const client = await session(t);
  await client.command('MAIL FROM:<>');
  t.equal(await client.command('RCPT TO:<nobody@caliopen.test>'), '550 5.1.1 No such mailbox here');
  t.equal(await client.command('RCPT TO:<victim@elsewhere.test>'), '554 5.7.1 Relay access denied');
  for (const who of ['alice', 'bob', 'carol']) t.match(await client.command(`RCPT TO:<${who}@caliopen.test>`), /^250 2\.1\.5 /);
  t.match(await client.command('RCPT TO:<dave@caliopen.test>'), /^452 4\.5\.3 /, 'RFC 5321 §4.5.3.1.10');
  await client.command('DATA');
  t.match(await client.command('Subject: bounce\r\n\r\nx\r\n.'), /^250 /);
  t.same(h.delivered[0]?.envelope, { mailFrom: null, rcptTo: ['alice@caliopen.test', 'bob@caliopen.test', 'carol@caliopen.test'] });
});

t.test('classifyRecipient failing gives 451 4.3.0, never a 5xx', TIMEOUT, async (t) => {
  const client = await session(t);
  await client.command('MAIL FROM:<sender@remote.test>');
  h.classifyError = new Error('database locked');
  t.match(await client.command('RCPT TO:<alice@caliopen.test>'), /^451 4\.3\.0 /);
});

t.test('deliver() errors: plain Error → 451 4.3.0, AppError → its own reply', TIMEOUT, async (t) => {
  const client = await session(t);
  h.deliverError = new Error('fsync failed');
  await startData(client);
  t.match(await client.command('Subject: a\r\n\r\nx\r\n.'), /^451 4\.3\.0 /);
  h.deliverError = new AppError('unknown_recipient', 'mailbox was deleted');
  await startData(client);
  t.equal(await client.command('Subject: b\r\n\r\nx\r\n.'), '550 5.1.1 mailbox was deleted');
  t.equal(h.delivered.length, 0);
});

t.test('250 is sent only after deliver() resolves', TIMEOUT, async (t) => {
  const client = await session(t);
  let release!: () => void;
  h.deliverGate = new Promise((r) => (release = r));
  await startData(client);
  client.write('Subject: durable\r\n\r\nx\r\n.\r\n');
  t.ok(await client.silentFor(300), 'no reply while the message is not stored');
  t.equal(h.delivered.length, 0);
  release();
  t.match(await client.reply(), /^250 2\.0\.0 /);
  t.equal(h.delivered.length, 1);
});

t.test('SIZE: declared too big → 552 at MAIL; sent too big → 552 5.3.4 after DATA', TIMEOUT, async (t) => {
  const client = await session(t);
  t.match(await client.command('MAIL FROM:<sender@remote.test> SIZE=5000'), /^552 5\.3\.4 /);
  await startData(client);
  client.write('Subject: big\r\n\r\n' + ('x'.repeat(98) + '\r\n').repeat(50) + '.\r\n');
  t.equal(await client.reply(), '552 5.3.4 Message exceeds the fixed maximum message size');
  t.equal(h.delivered.length, 0);
});

t.test('connection limit: the connection over maxConnections gets 421', TIMEOUT, async (t) => {
  const small = await startInbound(t, tls, { maxConnections: 2 });
  const a = await RawSmtpClient.open(small.port);
  const b = await RawSmtpClient.open(small.port);
  const c = await RawSmtpClient.connect(small.port);
  t.teardown(() => [a, b].forEach((x) => x.client.destroy()));
  t.teardown(() => c.destroy());
  t.match(await c.reply(), /^421 /);
  await c.closed();
  a.client.destroy();
  await a.client.closed();
  await new Promise((r) => setTimeout(r, 50)); // let the server see the close
  const d = await RawSmtpClient.open(small.port);
  t.teardown(() => d.client.destroy());
  t.match(d.banner, /^220 /, 'a slot frees up when a session ends');
});

t.test('idle sessions are closed after socketTimeoutMs with 421', TIMEOUT, async (t) => {
  const quick = await startInbound(t, tls, { socketTimeoutMs: 300 });
  const client = await session(t, quick);
  const started = Date.now();
  t.match(await client.reply(3000), /^421 /);
  await client.closed(2000);
  t.ok(Date.now() - started < 2000, 'closed within the timeout');
});
