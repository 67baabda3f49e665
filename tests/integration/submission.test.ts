/**
 * Submission (587 STARTTLS, 465 implicit TLS) against real clients, swaks and nodemailer, on
 * loopback, with in-memory handlers: users with scrypt hashes, submit() pushing into an array.
 * A third server on ::1 shares the throttle, so per-IP and per-login limits can be told apart.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import nodemailer from 'nodemailer';
import t from 'tap';
import { createThrottle, FAILURE_WINDOW_MS, MAX_FAILURES } from '../../server/accounts/sessions.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../../server/accounts/passwords.js';
import { normalizeAddress } from '../../server/accounts/users.js';
import { FakeClock } from '../../server/clock.js';
import { loadConfig } from '../../server/config.js';
import type { OutgoingMessage } from '../../server/delivery/types.js';
import { AppError } from '../../server/errors.js';
import { createLogger } from '../../server/log.js';
import { checkHeaderSenders, createSubmissionServer, type SubmissionHandlers } from '../../server/smtp/submission-server.js';
import { SmtpRejection } from '../../server/smtp/replies.js';
import { HOSTNAME, makeTempDir, testTlsMaterial } from '../helpers/inbound-harness.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';

const TIMEOUT = { timeout: 30_000 };
const ALICE_PW = 'alice-password-1';
const BOB_PW = 'bob-password-22';
const MAX_SIZE = 64 * 1024;
const MAX_RCPT = 5;

interface TestUser {
  id: number;
  hash: string;
  addresses: string[];
}

const users = new Map<string, TestUser>([
  // one alias in mixed case and one on an internationalised domain, stored in Unicode
  ['alice', { id: 1, hash: await hashPassword(ALICE_PW), addresses: ['alice@caliopen.test', 'Alice.Smith@Caliopen.test', 'alice@exämple.test'] }],
  ['bob', { id: 2, hash: await hashPassword(BOB_PW), addresses: ['bob@caliopen.test'] }],
]);

const submitted: OutgoingMessage[] = [];
let submitError: Error | null = null;
const logLines: string[] = [];

/** Mirrors findUserByLogin + verifyPassword: login name or any address, constant time for unknown users. */
const handlers: SubmissionHandlers = {
  async authenticate(username, password) {
    const login = normalizeAddress(username);
    const user = login.includes('@')
      ? [...users.values()].find((u) => u.addresses.map(normalizeAddress).includes(login))
      : users.get(login);
    const ok = await verifyPassword(password, user?.hash ?? (await dummyPasswordHash()));
    return user && ok ? { userId: user.id } : null;
  },
  async allowedSenders(userId) {
    return [...users.values()].find((u) => u.id === userId)?.addresses ?? [];
  },
  async submit(msg) {
    if (submitError) throw submitError;
    submitted.push(msg);
    return { outboundId: 42, messageId: 7 };
  },
};

const material = await testTlsMaterial(t);
const dir = makeTempDir();
const config = loadConfig({}, { dataDir: dir, hostname: HOSTNAME, smtp: { maxMessageSize: MAX_SIZE, maxRecipients: MAX_RCPT } }, dir);
const clock = new FakeClock();
const throttle = createThrottle(clock); // shared by every server, as the app shares it between 587 and 465
const log = createLogger('info', {}, (line) => logLines.push(line));
const servers = {
  starttls: createSubmissionServer({ config, log, handlers, tls: material, mode: 'starttls', throttle }),
  implicit: createSubmissionServer({ config, log, handlers, tls: material, mode: 'implicit', throttle }),
  implicitV6: createSubmissionServer({ config, log, handlers, tls: material, mode: 'implicit', throttle }),
};
const port587 = await servers.starttls.listen(0, '127.0.0.1');
const port465 = await servers.implicit.listen(0, '127.0.0.1');
const port465v6 = await servers.implicitV6.listen(0, '::1');
t.teardown(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

t.beforeEach(() => {
  submitted.length = 0;
  submitError = null;
  logLines.length = 0;
  clock.advance(FAILURE_WINDOW_MS); // every test starts with a clean throttle
});

interface Run {
  code: number;
  out: string;
}

function swaks(port: number, args: string[]): Promise<Run> {
  const argv = ['--server', `127.0.0.1:${port}`, '--helo', 'client.test', '--timeout', '10', ...args];
  return new Promise((resolve) => {
    execFile('swaks', argv, { timeout: 20_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr });
    });
  });
}

/** swaks on 587 with STARTTLS and AUTH as alice, unless overridden. */
function swaksAlice(args: string[], auth = ['--auth', 'PLAIN', '-au', 'alice', '-ap', ALICE_PW]): Promise<Run> {
  return swaks(port587, ['--tls', ...auth, ...args]);
}

function mailer(extra: Record<string, unknown> = {}) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: port587,
    secure: false,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    name: 'client.test',
    auth: { user: 'alice', pass: ALICE_PW },
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: 10_000,
    ...extra,
  });
}

/** One session over implicit TLS: writes each step as given and collects one reply per step ('CLOSED' once closed). */
async function tlsDialog(port: number, host: string, steps: string[]): Promise<string[]> {
  const socket = tls.connect({ port, host, rejectUnauthorized: false });
  let buffer = '';
  let closed = false;
  let wake: (() => void) | null = null;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => ((buffer += d), wake?.()));
  socket.on('close', () => ((closed = true), wake?.()));
  socket.on('error', () => {});
  const reply = async (): Promise<string> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const m = /^\d{3} [^\r\n]*\r\n/m.exec(buffer);
      if (m) {
        const stop = m.index + m[0].length;
        const text = buffer.slice(0, stop - 2);
        buffer = buffer.slice(stop);
        return text;
      }
      if (closed) return 'CLOSED';
      if (Date.now() > deadline) throw new Error(`no reply (buffer ${JSON.stringify(buffer)})`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
  };
  try {
    const replies = [await reply()];
    for (const step of steps) {
      if (!closed) socket.write(step);
      replies.push(await reply());
    }
    return replies;
  } finally {
    socket.destroy();
  }
}

const plain = (user: string, pass: string, authzid = '') => Buffer.from(`${authzid}\0${user}\0${pass}`).toString('base64');

function writeTemp(name: string, data: string | Buffer): string {
  const d = makeTempDir();
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  const file = path.join(d, name);
  fs.writeFileSync(file, data);
  return file;
}

t.test('587 before STARTTLS: AUTH neither listed nor accepted, MAIL needs AUTH', TIMEOUT, async (t) => {
  const { client, banner } = await RawSmtpClient.open(port587);
  t.teardown(() => client.destroy());
  t.match(banner, /^220 mx\.caliopen\.test ESMTP/);
  const ehlo = await client.command('EHLO client.test');
  t.match(ehlo, /^250[- ]STARTTLS$/m);
  t.notMatch(ehlo, /AUTH/, 'no AUTH on a plain connection: a client must not send its password in clear');
  t.equal(await client.command(`AUTH PLAIN ${plain('alice', ALICE_PW)}`), '530 5.7.0 Must issue a STARTTLS command first');
  t.equal(await client.command('MAIL FROM:<alice@caliopen.test>'), '530 5.7.0 Authentication required');
  t.equal(submitted.length, 0);
});

t.test('587: swaks --auth without --tls finds no AUTH and sends no password', TIMEOUT, async (t) => {
  const r = await swaks(port587, ['--auth', 'PLAIN', '-au', 'alice', '-ap', ALICE_PW, '-f', 'alice@caliopen.test', '-t', 'x@elsewhere.test']);
  t.not(r.code, 0, 'swaks fails');
  t.match(r.out, /did not advertise authentication/i);
  t.notMatch(r.out, /AUTH PLAIN/, 'no AUTH command sent');
  t.equal(submitted.length, 0);
});

t.test('587: STARTTLS, then AUTH listed; MAIL without AUTH refused (no relay for the unauthenticated)', TIMEOUT, async (t) => {
  const r = await swaks(port587, ['--tls', '-f', 'alice@caliopen.test', '-t', 'someone@elsewhere.test']);
  t.not(r.code, 0);
  t.match(r.out, /<~ {2}250[- ]AUTH PLAIN LOGIN/, 'AUTH offered under TLS');
  t.match(r.out, /<~\* 530 5\.7\.0 Authentication required/);
  t.equal(submitted.length, 0);
});

t.test('587 nodemailer STARTTLS + AUTH PLAIN: relay to an outside domain, envelope and bytes reach submit', TIMEOUT, async (t) => {
  const info = await mailer().sendMail({
    from: 'Alice <alice@caliopen.test>',
    to: ['someone@elsewhere.test', 'bob@caliopen.test'],
    bcc: 'hidden@third.test',
    subject: 'from my laptop',
    text: 'body marker 91c2',
    attachments: [{ filename: 'notes.txt', content: 'attached bytes' }],
  });
  t.equal(info.response, '250 2.0.0 Ok: queued as 42', 'the queue id comes back to the client');
  t.equal(submitted.length, 1);
  const msg = submitted[0]!;
  t.equal(msg.userId, 1);
  t.equal(msg.source, 'submission');
  t.same(msg.envelope, { mailFrom: 'alice@caliopen.test', rcptTo: ['someone@elsewhere.test', 'bob@caliopen.test', 'hidden@third.test'] });
  const raw = msg.raw.toString('utf8');
  t.match(raw, /^Subject: from my laptop\r$/m);
  t.match(raw, /filename=notes\.txt/);
  t.notMatch(raw, /^Received:/im, 'no Received header: the client IP does not leave the box');
  t.notMatch(raw, /127\.0\.0\.1/);
  t.notMatch(raw, /^Bcc:/im);
});

t.test('587 swaks AUTH LOGIN by address: the raw bytes reach submit byte for byte', TIMEOUT, async (t) => {
  const message =
    'From: Alice Smith <Alice.Smith@caliopen.test>\r\nTo: <x@elsewhere.test>\r\nSubject: exact bytes\r\n' +
    'X-Originating-IP: [192.0.2.1]\r\nMessage-ID: <exact-1@caliopen.test>\r\n\r\n' +
    'line one\r\n..a line that started with a dot\r\n\tindented  with  spaces \r\n';
  const file = writeTemp('m.eml', message + '.\r\n');
  const r = await swaksAlice(['-ndf', '--data', `@${file}`, '-f', 'ALICE.SMITH@caliopen.test', '-t', 'x@elsewhere.test'],
    ['--auth', 'LOGIN', '-au', 'alice@caliopen.test', '-ap', ALICE_PW]);
  t.equal(r.code, 0, 'swaks succeeds', { out: r.out });
  t.equal(submitted.length, 1);
  const expected = message.replace('\r\n..a line', '\r\n.a line'); // dot-unstuffed (RFC 5321 §4.5.2)
  t.equal(submitted[0]!.raw.toString('latin1'), expected, 'nothing added, nothing removed');
  t.same(submitted[0]!.envelope, { mailFrom: 'ALICE.SMITH@caliopen.test', rcptTo: ['x@elsewhere.test'] }, 'envelope as the client wrote it');
});

t.test('465 implicit TLS: swaks --tls-on-connect and nodemailer secure:true', TIMEOUT, async (t) => {
  const r = await swaks(port465, ['--tls-on-connect', '--auth', 'PLAIN', '-au', 'bob', '-ap', BOB_PW, '-f', 'bob@caliopen.test',
    '-t', 'far@away.test', '--h-From', 'bob@caliopen.test', '--h-Subject', 'over 465']);
  t.equal(r.code, 0, 'swaks succeeds', { out: r.out });
  t.match(r.out, /<~ {2}250[- ]AUTH PLAIN LOGIN/);
  t.notMatch(r.out, /STARTTLS/, 'no STARTTLS once already under TLS');
  const info = await mailer({ port: port465, secure: true, requireTLS: false }).sendMail({
    from: 'alice@caliopen.test',
    to: 'far@away.test',
    subject: 'nodemailer 465',
    text: 'x',
  });
  t.match(info.response, /^250 2\.0\.0 /);
  t.same(submitted.map((m) => [m.userId, m.envelope.mailFrom]), [[2, 'bob@caliopen.test'], [1, 'alice@caliopen.test']]);
});

t.test('wrong password: 535 5.7.8, logged without the password', TIMEOUT, async (t) => {
  const r = await swaksAlice(['-f', 'alice@caliopen.test', '-t', 'x@elsewhere.test'], ['--auth', 'LOGIN', '-au', 'alice', '-ap', 'not-the-password']);
  t.equal(r.code, 28, 'swaks exit code for an authentication failure');
  t.match(r.out, /<~\* 535 5\.7\.8 Authentication credentials invalid/);
  const err = (await t.rejects(mailer({ auth: { user: 'nobody', pass: 'guess-12345' } }).sendMail({ from: 'alice@caliopen.test', to: 'x@elsewhere.test', text: 'x' }))) as {
    responseCode?: number;
  };
  t.equal(err.responseCode, 535, 'unknown user: the same reply');
  const logs = logLines.join('\n');
  t.match(logs, /"msg":"submission auth failed".*"login":"alice".*"method":"LOGIN"/);
  t.match(logs, /"login":"nobody"/);
  t.notMatch(logs, /not-the-password|guess-12345/, 'passwords never logged');
  t.equal(submitted.length, 0);
});

t.test('throttling: after 5 failures, 454 4.7.0 and close, per client IP and per login, across both ports', TIMEOUT, async (t) => {
  const fails = Array.from({ length: MAX_FAILURES }, () => `AUTH PLAIN ${plain('bob', 'wrong-password')}\r\n`);
  const replies = await tlsDialog(port465, '127.0.0.1', ['EHLO client.test\r\n', ...fails, `AUTH PLAIN ${plain('bob', BOB_PW)}\r\n`, 'NOOP\r\n']);
  t.same(replies.slice(2, 2 + MAX_FAILURES), Array(MAX_FAILURES).fill('535 5.7.8 Authentication credentials invalid'));
  t.equal(replies[2 + MAX_FAILURES], '454 4.7.0 Too many failed authentication attempts, try again later', 'even the right password');
  t.equal(replies[3 + MAX_FAILURES], 'CLOSED', 'the connection is closed after the 454');

  const alice = `AUTH PLAIN ${plain('alice', ALICE_PW)}\r\n`;
  const [, , sameIp] = await tlsDialog(port465, '127.0.0.1', ['EHLO client.test\r\n', alice]);
  t.match(sameIp, /^454 4\.7\.0 /, 'another login from the same IP is throttled too');
  const sameLogin = await swaks(port587, ['--tls', '--auth', 'PLAIN', '-au', 'bob', '-ap', BOB_PW, '--quit-after', 'AUTH']);
  t.match(sameLogin.out, /454 4\.7\.0 /, 'the 587 server shares the throttle');
  const [, , bobV6] = await tlsDialog(port465v6, '::1', ['EHLO client.test\r\n', `AUTH PLAIN ${plain('bob', BOB_PW)}\r\n`]);
  t.match(bobV6, /^454 4\.7\.0 /, 'the same login from another IP is throttled');
  const [, , aliceV6] = await tlsDialog(port465v6, '::1', ['EHLO client.test\r\n', alice]);
  t.equal(aliceV6, '235 2.7.0 Authentication successful', 'another login from another IP is not');
  t.match(logLines.join('\n'), /"msg":"submission auth throttled"/);

  clock.advance(FAILURE_WINDOW_MS);
  const [, , later] = await tlsDialog(port465, '127.0.0.1', ['EHLO client.test\r\n', `AUTH PLAIN ${plain('bob', BOB_PW)}\r\n`]);
  t.equal(later, '235 2.7.0 Authentication successful', 'allowed again once the window has passed');
});

t.test('AUTH PLAIN asking to act as another user (authzid) is refused', TIMEOUT, async (t) => {
  const replies = await tlsDialog(port465, '127.0.0.1', ['EHLO client.test\r\n', `AUTH PLAIN ${plain('alice', ALICE_PW, 'bob')}\r\n`,
    `AUTH PLAIN ${plain('alice', ALICE_PW, 'alice')}\r\n`]);
  t.equal(replies[2], '535 5.7.8 Authentication credentials invalid');
  t.equal(replies[3], '235 2.7.0 Authentication successful', 'an authzid equal to the login is fine');
});

t.test("MAIL FROM someone else's address: 553 5.7.1; own aliases in any case and IDN form accepted", TIMEOUT, async (t) => {
  const r = await swaksAlice(['-f', 'bob@caliopen.test', '-t', 'x@elsewhere.test']);
  t.not(r.code, 0);
  t.match(r.out, /<~\* 553 5\.7\.1 Sender address is not one of your addresses/);
  const nul = await swaksAlice(['-f', '<>', '-t', 'x@elsewhere.test']);
  t.match(nul.out, /<~\* 553 5\.7\.1 /, 'the null sender is not for mail clients');
  const idn = await swaksAlice(['-f', 'Alice@xn--exmple-cua.test', '-t', 'x@elsewhere.test', '--h-From', 'alice@exämple.test']);
  t.equal(idn.code, 0, 'punycode envelope, Unicode header, Unicode alias', { out: idn.out });
  t.equal(submitted.length, 1);
});

t.test('header From or Sender of someone else: 553 5.7.1; no From header: 550 5.6.0', TIMEOUT, async (t) => {
  const from = await swaksAlice(['-f', 'alice@caliopen.test', '-t', 'x@elsewhere.test', '--h-From', '"Alice" <bob@caliopen.test>']);
  t.match(from.out, /<~\* 553 5\.7\.1 From or Sender header address is not one of your addresses/);
  const sender = await swaksAlice(['-f', 'alice@caliopen.test', '-t', 'x@elsewhere.test', '--add-header', 'Sender: bob@caliopen.test']);
  t.match(sender.out, /<~\* 553 5\.7\.1 /);
  const file = writeTemp('nofrom.eml', 'To: x@elsewhere.test\r\nSubject: who am I\r\n\r\nbody\r\n.\r\n');
  const none = await swaksAlice(['-ndf', '--data', `@${file}`, '-f', 'alice@caliopen.test', '-t', 'x@elsewhere.test']);
  t.match(none.out, /<~\* 550 5\.6\.0 Message must have exactly one From header/);
  t.equal(submitted.length, 0);
});

t.test('checkHeaderSenders: the rules on their own', async (t) => {
  const own = new Set(['alice@caliopen.test', 'alice@xn--exmple-cua.test']);
  const verdict = (head: string) => {
    try {
      checkHeaderSenders(Buffer.from(`${head}\r\n\r\nbody\r\n`), own);
      return 'ok';
    } catch (err) {
      return err instanceof SmtpRejection ? `${err.reply.responseCode}` : String(err);
    }
  };
  t.equal(verdict('From: =?utf-8?q?Al=C3=AFce?= <ALICE@Caliopen.Test>'), 'ok', 'encoded name, any case');
  t.equal(verdict('From: alice@EXÄMPLE.test'), 'ok', 'Unicode domain');
  t.equal(verdict('FROM:\r\n alice@caliopen.test (me)'), 'ok', 'folded, with a comment');
  t.equal(verdict('Subject: x'), '550', 'no From');
  t.equal(verdict('From: alice@caliopen.test\r\nFrom: alice@caliopen.test'), '550', 'two From headers');
  t.equal(verdict('From: undisclosed:;'), '550', 'an empty group names nobody');
  t.equal(verdict('From: Alice'), '550', 'a name without an address');
  t.equal(verdict('From: alice@caliopen.test, mallory@evil.test'), '553', 'every author must be own');
  t.equal(verdict('From: "alice@caliopen.test" <mallory@evil.test>'), '553', 'the address counts, not the name');
  t.equal(verdict('From: alice@caliopen.test\r\nSender: mallory@evil.test'), '553');
  t.equal(verdict('To: x@y.test\r\n\r\nFrom: alice@caliopen.test'), '550', 'a From in the body is not a header');
});

t.test('recipients: anywhere, up to smtp.maxRecipients (452 4.5.3 past it)', TIMEOUT, async (t) => {
  const to = Array.from({ length: MAX_RCPT + 1 }, (_, i) => `r${i}@domain${i}.test`);
  const info = await mailer().sendMail({ from: 'alice@caliopen.test', to, subject: 'many', text: 'x' });
  t.same(info.rejected, [to[MAX_RCPT]]);
  t.match(info.rejectedErrors?.[0]?.message ?? '', /452 4\.5\.3/);
  t.same(submitted[0]?.envelope.rcptTo, to.slice(0, MAX_RCPT));
});

t.test('SIZE: a message over smtp.maxMessageSize gets 552 and is not submitted', TIMEOUT, async (t) => {
  const err = (await t.rejects(mailer().sendMail({ from: 'alice@caliopen.test', to: 'x@elsewhere.test', text: 'y'.repeat(MAX_SIZE * 2) }))) as {
    response?: string;
  };
  t.match(String(err.response), /^552 5\.3\.4 /);
  // swaks declares no SIZE= at MAIL, so this one is only caught while reading DATA
  const file = writeTemp('big.eml', `From: alice@caliopen.test\r\nSubject: big\r\n\r\n${'z'.repeat(76)}\r\n`.repeat(1000) + '.\r\n');
  const r = await swaksAlice(['-ndf', '--data', `@${file}`, '-f', 'alice@caliopen.test', '-t', 'x@elsewhere.test']);
  t.match(r.out, /<~\* 552 5\.3\.4 Message exceeds the fixed maximum message size/);
  t.equal(submitted.length, 0);
});

t.test('bare LF in DATA (SMTP smuggling) is refused with 550 5.6.0', TIMEOUT, async (t) => {
  const file = writeTemp('smuggle.eml', 'From: alice@caliopen.test\r\nSubject: s\r\n\r\nfirst\n.\nMAIL FROM:<bob@caliopen.test>\r\n.\r\n');
  const r = await swaksAlice(['-ndf', '--data', `@${file}`, '-f', 'alice@caliopen.test', '-t', 'x@elsewhere.test']);
  t.match(r.out, /<~\* 550 5\.6\.0 Bare CR or LF/);
  t.equal(submitted.length, 0);
});

t.test('errors from submit: rate_limited 450 4.7.1, sender_not_allowed 553 5.7.1, a bug 451 4.3.0', TIMEOUT, async (t) => {
  const send = async () => {
    const err = (await t.rejects(mailer().sendMail({ from: 'alice@caliopen.test', to: 'x@elsewhere.test', text: 'x' }))) as { response?: string };
    return String(err.response);
  };
  submitError = new AppError('rate_limited', 'Too many messages, try again later');
  t.equal(await send(), '450 4.7.1 Too many messages, try again later');
  submitError = new AppError('sender_not_allowed', 'not yours');
  t.equal(await send(), '553 5.7.1 not yours');
  submitError = new Error('queue on fire');
  t.equal(await send(), '451 4.3.0 Temporary local problem, please try again later');
  t.match(logLines.join('\n'), /submission handler failed.*queue on fire/);
  t.match(logLines.join('\n'), /"msg":"submission transaction".*"userId":1.*"reply":451/);
  t.equal(submitted.length, 0);
});
