/**
 * The inbound MX against real clients: nodemailer, swaks and Postfix's smtp-source, on 127.0.0.1.
 * Byte-exact and limit cases are in smtp-inbound-rules.test.ts.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import nodemailer from 'nodemailer';
import { LOCAL, makeTempDir, startInbound, testTlsMaterial, type Harness } from '../helpers/inbound-harness.js';

const TIMEOUT = { timeout: 20_000 };

interface Run {
  code: number;
  out: string;
}

/** Runs a command with a hard time limit; resolves with its exit code and stdout+stderr. */
function run(cmd: string, args: string[], timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

function swaks(h: Harness, args: string[]): Promise<Run> {
  return run('swaks', ['--server', `127.0.0.1:${h.port}`, '--helo', 'client.test', '--timeout', '10', ...args]);
}

function transport(h: Harness, extra: Record<string, unknown> = {}) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: h.port,
    secure: false,
    name: 'client.test',
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: 10_000,
    ...extra,
  });
}

const tls = await testTlsMaterial(t);
const h = await startInbound(t, tls, { maxMessageSize: 64 * 1024 });

t.beforeEach(() => {
  h.delivered.length = 0;
  h.deliverError = null;
});

t.test('nodemailer, plain: several recipients and an attachment', TIMEOUT, async (t) => {
  const info = await transport(h, { ignoreTLS: true }).sendMail({
    from: 'sender@remote.test',
    to: ['alice@caliopen.test', 'bob@caliopen.test'],
    cc: 'carol@caliopen.test',
    subject: 'plain hello',
    text: 'body marker 7f3a',
    attachments: [{ filename: 'notes.txt', content: 'attached bytes' }],
  });
  t.match(info.response, /^250 2\.0\.0 /);
  t.equal(h.delivered.length, 1);
  const msg = h.delivered[0]!;
  t.same(msg.envelope, { mailFrom: 'sender@remote.test', rcptTo: ['alice@caliopen.test', 'bob@caliopen.test', 'carol@caliopen.test'] });
  t.same(msg.transport, { tls: null, clientIp: '127.0.0.1', helo: 'client.test' });
  const raw = msg.raw.toString('latin1');
  t.match(raw, /Subject: plain hello/);
  t.match(raw, /filename=notes\.txt/);
  t.match(raw, /\r\n$/, 'the message ends with its last CRLF, the terminating dot is not part of it');
  t.notMatch(raw, /[^\r]\n/, 'CRLF line endings delivered untouched');
  t.ok(msg.receivedAt instanceof Date);
});

t.test('nodemailer, STARTTLS: TLS 1.3 protocol and cipher are recorded', TIMEOUT, async (t) => {
  const info = await transport(h, { requireTLS: true, tls: { rejectUnauthorized: false } }).sendMail({
    from: 'sender@remote.test',
    to: 'alice@caliopen.test',
    subject: 'over tls',
    text: 'secret',
  });
  t.match(info.response, /^250 /);
  const tlsInfo = h.delivered[0]?.transport.tls;
  t.equal(tlsInfo?.protocol, 'TLSv1.3');
  t.match(tlsInfo?.cipher, /^TLS_(AES_\d+_GCM_SHA\d+|CHACHA20_POLY1305_SHA256)$/);
  t.equal(h.delivered[0]?.transport.helo, 'client.test', 'HELO is the one given after STARTTLS');
});

t.test('nodemailer: unknown recipient refused, the others delivered', TIMEOUT, async (t) => {
  const info = await transport(h, { ignoreTLS: true }).sendMail({
    from: 'sender@remote.test',
    to: ['alice@caliopen.test', 'nobody@caliopen.test'],
    subject: 'partial',
    text: 'x',
  });
  t.same(info.rejected, ['nobody@caliopen.test']);
  t.match(info.rejectedErrors?.[0]?.message ?? '', /550 5\.1\.1/);
  t.same(h.delivered[0]?.envelope.rcptTo, ['alice@caliopen.test']);
});

t.test('nodemailer: deliver() failing with a plain Error gives 451 4.3.0', TIMEOUT, async (t) => {
  h.deliverError = new Error('disk on fire');
  const err = (await t.rejects(
    transport(h, { ignoreTLS: true }).sendMail({ from: 'a@remote.test', to: 'alice@caliopen.test', text: 'x' }),
  )) as unknown;
  t.match(String((err as { response?: string }).response), /^451 4\.3\.0 /);
  t.equal(h.delivered.length, 0);
  t.match(h.logLines.join('\n'), /smtp handler failed.*disk on fire/);
});

t.test('swaks: EHLO extensions, pipelining and an attachment', TIMEOUT, async (t) => {
  const dir = makeTempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'report.csv');
  fs.writeFileSync(file, 'a,b\n1,2\n');
  const r = await swaks(h, ['-f', 'sender@remote.test', '-t', 'alice@caliopen.test,dave@caliopen.test', '--pipeline',
    '--h-Subject', 'swaks pipelined', '--attach-type', 'text/csv', '--attach', `@${file}`]);
  t.equal(r.code, 0, 'exit code 0', { out: r.out });
  for (const ext of ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'STARTTLS', `SIZE ${64 * 1024}`]) {
    t.match(r.out, new RegExp(`<[-~] +250[- ]${ext}\\b`), `EHLO announces ${ext}`);
  }
  t.notMatch(r.out, /250[- ]AUTH/, 'no AUTH on the MX port');
  t.match(r.out, /<[-~] +250 2\.0\.0 Ok/);
  t.same(h.delivered[0]?.envelope.rcptTo, ['alice@caliopen.test', 'dave@caliopen.test']);
  t.match(h.delivered[0]?.raw.toString('latin1'), /Content-Type: text\/csv/);
});

t.test('swaks --tls', TIMEOUT, async (t) => {
  const r = await swaks(h, ['--tls', '-f', 'sender@remote.test', '-t', 'bob@caliopen.test']);
  t.equal(r.code, 0, 'exit code 0', { out: r.out });
  t.equal(h.delivered[0]?.transport.tls?.protocol, 'TLSv1.3');
});

t.test('swaks: unknown recipient 550 5.1.1 and relay 554 5.7.1 at RCPT', TIMEOUT, async (t) => {
  const unknown = await swaks(h, ['-f', 'sender@remote.test', '-t', 'nobody@caliopen.test', '--quit-after', 'RCPT']);
  t.equal(unknown.code, 24, 'swaks: no recipient accepted');
  t.match(unknown.out, /<\*\* +550 5\.1\.1 /);
  const relay = await swaks(h, ['-f', 'alice@caliopen.test', '-t', 'victim@elsewhere.test']);
  t.equal(relay.code, 24);
  t.match(relay.out, /<\*\* +554 5\.7\.1 Relay access denied/);
  t.equal(h.delivered.length, 0, 'never an open relay');
});

t.test('swaks: a message over SIZE gets 552 5.3.4 after DATA', TIMEOUT, async (t) => {
  const body = ('z'.repeat(76) + '\n').repeat(1000); // 77 kB against a 64 KiB SIZE
  const r = await swaks(h, ['-f', 'sender@remote.test', '-t', 'alice@caliopen.test', '--body', body]);
  t.not(r.code, 0);
  t.match(r.out, /354 End data[\s\S]*<\*\* +552 5\.3\.4 /, 'refused once the data is in, not at MAIL');
  t.equal(h.delivered.length, 0);
});

t.test('smtp-source: parallel sessions', TIMEOUT, async (t) => {
  const r = await run('smtp-source', ['-s', '5', '-m', '20', '-l', '2000', '-f', 'sender@remote.test', '-t', 'alice@caliopen.test',
    '-M', 'client.test', `127.0.0.1:${h.port}`]);
  t.equal(r.code, 0, 'exit code 0', { out: r.out });
  t.equal(h.delivered.length, 20);
  t.ok(h.delivered.every((m) => m.envelope.rcptTo[0] === LOCAL[0] && m.raw.length >= 2000));
});

t.test('logs hold one line per transaction, with no bodies or addresses', TIMEOUT, async (t) => {
  h.logLines.length = 0;
  await transport(h, { ignoreTLS: true }).sendMail({ from: 'sender@remote.test', to: 'alice@caliopen.test', text: 'body marker 7f3a' });
  const lines = h.logLines.filter((l) => l.includes('smtp transaction'));
  t.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
  t.match(entry, { reply: 250, recipients: 1, recipientDomains: 1, tls: 'none', clientIp: '127.0.0.1' });
  t.notMatch(h.logLines.join('\n'), /7f3a|alice|sender@/);
});
