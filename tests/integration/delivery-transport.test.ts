/**
 * The outbound transport against real peers on loopback: Postfix's smtp-sink (envelope dumps,
 * injected 4xx/5xx/dropped connections) and Node smtp-server peers (STARTTLS with certificates
 * from a test CA, AUTH, per-recipient refusals, connection counting).
 */
import net from 'node:net';
import t from 'tap';
import { generate } from 'selfsigned';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { createTransport, type TransportOptions } from '../../server/delivery/transport.js';
import { addRelayRoute } from '../../server/delivery/relay-routes.js';
import { createLogger } from '../../server/log.js';
import type { DeliveryJob, HttpsFetcher } from '../../server/delivery/types.js';
import { makeMessage, testDeps, type TestDeps } from '../helpers/deps.js';
import { startSink, freePort, waitFor } from '../helpers/smtp-sink.js';
import type { Zones } from '../helpers/dns.js';

const T = { timeout: 30_000 };

type Teardown = { teardown(fn: () => unknown): void };

interface Peer {
  port: number;
  connections: number;
  open: number;
  maxOpen: number;
  received: Array<{ mailFrom: string; rcpt: string[]; secure: boolean; tlsVersion: string | null; user: string | null; raw: string }>;
}

/** A Node smtp-server on 127.0.0.1:0 that counts connections and keeps what it receives. */
async function startPeer(t: Teardown, opts: Partial<SMTPServerOptions> & { refuse?: Record<string, [number, string]> } = {}): Promise<Peer> {
  const { refuse = {}, ...options } = opts;
  const peer: Peer = { port: 0, connections: 0, open: 0, maxOpen: 0, received: [] };
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    authMethods: ['PLAIN', 'LOGIN'],
    onConnect(_s, cb) {
      peer.connections++;
      peer.open++;
      peer.maxOpen = Math.max(peer.maxOpen, peer.open);
      cb();
    },
    onClose(_s, cb) {
      peer.open--;
      cb?.();
    },
    onAuth(auth, _s, cb) {
      if (auth.username === 'tester' && auth.password === 's@cret') return cb(null, { user: 'tester' });
      cb(new Error('Invalid username or password'));
    },
    onRcptTo(address, _s, cb) {
      const r = refuse[address.address];
      if (!r) return cb();
      cb(Object.assign(new Error(r[1]), { responseCode: r[0] }));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const tlsInfo = session.tlsOptions as { version?: string } | false;
        peer.received.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcpt: session.envelope.rcptTo.map((r) => r.address),
          secure: session.secure,
          tlsVersion: tlsInfo ? tlsInfo.version ?? null : null,
          user: (session.user as string | undefined) ?? null,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb(null, `Queued as ${peer.received.length}`);
      });
    },
    ...options,
  } as SMTPServerOptions);
  server.on('error', () => undefined); // failed handshakes are part of some tests
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  peer.port = (server.server.address() as net.AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return peer;
}

// One test CA; certificates for the names the tests use (RSA: ~0.3 s each).
const ca = await generate([{ name: 'commonName', value: 'Caliopen Test CA' }], {
  algorithm: 'sha256',
  extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }],
});
async function leaf(...names: string[]): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: names[0]! }], {
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2 as const, value })) },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
const goodCert = await leaf('mx.sts.test', 'relay.example.test');
const otherCert = await leaf('other.example.test');

const SINK_ZONES: Zones = {
  'sink.test': { MX: [{ exchange: 'mx.sink.test', priority: 10 }] },
  'mx.sink.test': { A: ['127.0.0.1'] },
};

async function setup(t: Teardown, zones: Zones, mxPort: number, delivery: Record<string, number> = {}, opts: TransportOptions = {}) {
  const deps: TestDeps = await testDeps(zones);
  Object.assign(deps.config.delivery, { mxPort, connectTimeoutMs: 5000 }, delivery);
  const logLines: string[] = [];
  deps.log = createLogger('info', {}, (l) => logLines.push(l));
  const transport = createTransport(deps, { tlsCa: ca.cert, commandTimeoutMs: 10_000, ...opts });
  t.teardown(async () => {
    await transport.close();
    await deps.close();
  });
  return { deps, transport, logLines };
}

function job(domain: string, recipients: string[], mailFrom = 'carol@remote.test', subject = 'Hello'): DeliveryJob {
  return { domain, mailFrom, recipients, raw: makeMessage({ subject, to: recipients.join(', ') }) };
}

t.test('smtp-sink: delivered, envelope and EHLO as sent, null reverse-path for DSNs', T, async (t) => {
  const sink = await startSink(t);
  const { transport } = await setup(t, SINK_ZONES, sink.port);
  const r = await transport.deliver(job('sink.test', ['a@sink.test', 'b@sink.test']));
  t.same(r.travel, { host: 'mx.sink.test', tls: null, mtaSts: false, route: 'direct' });
  t.match(r.recipients, [
    { address: 'a@sink.test', status: 'delivered', code: '250 2.0.0', response: /^250 2\.0\.0/ },
    { address: 'b@sink.test', status: 'delivered', code: '250 2.0.0' },
  ]);
  const dsn = await transport.deliver(job('sink.test', ['c@sink.test'], ''));
  t.equal(dsn.recipients[0]!.status, 'delivered');
  await waitFor(() => sink.dumps().length === 2);
  const dumps = sink.dumps().sort((x, y) => y.rcpt.length - x.rcpt.length);
  t.match(dumps[0], { helo: 'mx.example.test', mailFrom: '<carol@remote.test>', rcpt: ['<a@sink.test>', '<b@sink.test>'], text: /Subject: Hello/ });
  t.match(dumps[1], { mailFrom: '<>', rcpt: ['<c@sink.test>'] }, 'MAIL FROM:<>');
});

t.test('smtp-sink refusals: 4xx at RCPT is temp_fail, 5xx is perm_fail, with the reply', T, async (t) => {
  const soft = await startSink(t, ['-r', 'rcpt']);
  const hard = await startSink(t, ['-f', 'rcpt']);
  const a = await setup(t, SINK_ZONES, soft.port);
  const ra = await a.transport.deliver(job('sink.test', ['a@sink.test']));
  t.match(ra.recipients[0], { status: 'temp_fail', code: /^4\d\d/, response: /^4\d\d / });
  t.equal(ra.travel, null, 'nobody accepted: no travel info');
  const b = await setup(t, SINK_ZONES, hard.port);
  const rb = await b.transport.deliver(job('sink.test', ['a@sink.test', 'b@sink.test']));
  t.match(rb.recipients, [{ status: 'perm_fail', code: /^5\d\d/ }, { status: 'perm_fail', code: /^5\d\d/ }]);
});

t.test('smtp-sink drops the connection at DATA: temp_fail with a plain reason', T, async (t) => {
  const sink = await startSink(t, ['-q', 'data']);
  const { transport } = await setup(t, SINK_ZONES, sink.port);
  const r = await transport.deliver(job('sink.test', ['a@sink.test', 'b@sink.test']));
  for (const rc of r.recipients) {
    t.same(rc, { address: rc.address, status: 'temp_fail', code: null, response: `connection to mx.sink.test [127.0.0.1]:${sink.port} lost during DATA` });
  }
  t.equal(r.travel, null);
});

t.test('connection refused is temp_fail; the next MX is tried after a refusal or a 421 greeting', T, async (t) => {
  const closed = await freePort();
  const a = await setup(t, SINK_ZONES, closed);
  const ra = await a.transport.deliver(job('sink.test', ['a@sink.test']));
  t.match(ra.recipients[0], { status: 'temp_fail', code: null, response: `connection to mx.sink.test [127.0.0.1]:${closed} refused` });

  const sink = await startSink(t);
  const zones: Zones = {
    'two.test': { MX: [{ exchange: 'mx2.two.test', priority: 20 }, { exchange: 'mx1.two.test', priority: 10 }] },
    'mx1.two.test': { AAAA: ['::1'] }, // nothing listens on [::1]:port
    'mx2.two.test': { A: ['127.0.0.1'] },
  };
  const b = await setup(t, zones, sink.port);
  const rb = await b.transport.deliver(job('two.test', ['a@two.test']));
  t.match(rb, { recipients: [{ status: 'delivered' }], travel: { host: 'mx2.two.test' } }, 'refused by mx1, taken by mx2');

  // mx1 now answers with a 421 greeting on [::1]:port
  const busy = net.createServer((s) => s.end('421 4.3.2 mx1 busy, try later\r\n'));
  await new Promise<void>((resolve) => busy.listen(sink.port, '::1', resolve));
  t.teardown(() => new Promise((resolve) => busy.close(resolve)));
  const rc = await b.transport.deliver(job('two.test', ['b@two.test']));
  t.match(rc, { recipients: [{ status: 'delivered' }], travel: { host: 'mx2.two.test' } }, '421 greeting from mx1, taken by mx2');
  await waitFor(() => sink.dumps().length === 2);

  const only = await setup(t, { 'busy.test': { MX: [{ exchange: 'mx1.two.test', priority: 10 }] }, 'mx1.two.test': { AAAA: ['::1'] } }, sink.port);
  const rd = await only.transport.deliver(job('busy.test', ['a@busy.test']));
  t.match(rd.recipients[0], { status: 'temp_fail', code: '421 4.3.2', response: /greeted with: 421 4\.3\.2 mx1 busy/ }, 'the only MX is busy');
});

t.test('DNS verdicts: null MX, NXDOMAIN, no MX and no address, DNS failure', T, async (t) => {
  const zones: Zones = {
    'nullmx.test': { MX: [{ exchange: '.', priority: 0 }] },
    'noaddr.test': { TXT: [['v=spf1 -all']] },
    'dangling.test': { MX: [{ exchange: 'mx.gone.test', priority: 10 }] },
  };
  const { transport } = await setup(t, zones, 1);
  t.match((await transport.deliver(job('nullmx.test', ['a@nullmx.test']))).recipients[0], { status: 'perm_fail', code: '556 5.1.10', response: /does not accept mail/ });
  t.match((await transport.deliver(job('nxdomain.test', ['a@nxdomain.test']))).recipients[0], { status: 'perm_fail', code: '550 5.1.2' });
  t.match((await transport.deliver(job('noaddr.test', ['a@noaddr.test']))).recipients[0], { status: 'perm_fail', code: '550 5.4.4' });
  t.match((await transport.deliver(job('dangling.test', ['a@dangling.test']))).recipients[0], { status: 'temp_fail', response: /mx\.gone\.test has no address/ });
  const flaky = await setup(t, {}, 1);
  flaky.deps.dns = async () => {
    throw Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
  };
  const f = createTransport(flaky.deps);
  t.teardown(() => f.close());
  t.match((await f.deliver(job('slow.test', ['a@slow.test']))).recipients[0], { status: 'temp_fail', response: /ETIMEOUT/ });
});

t.test('STARTTLS peer: protocol and cipher reported, per-recipient results on partial acceptance', T, async (t) => {
  const peer = await startPeer(t, {
    ...goodCert,
    refuse: { 'nobody@peer.test': [550, '5.1.1 No such user here'], 'later@peer.test': [450, '4.2.1 Mailbox busy, try later'] },
  });
  const zones: Zones = { 'peer.test': { MX: [{ exchange: 'mx.peer.test', priority: 5 }] }, 'mx.peer.test': { A: ['127.0.0.1'] } };
  const { transport } = await setup(t, zones, peer.port);
  const r = await transport.deliver(job('peer.test', ['ok@peer.test', 'nobody@peer.test', 'later@peer.test', 'also@peer.test']));
  t.match(r.recipients, [
    { address: 'ok@peer.test', status: 'delivered', code: '250', response: /Queued as 1/ },
    { address: 'nobody@peer.test', status: 'perm_fail', code: '550 5.1.1', response: '550 5.1.1 No such user here' },
    { address: 'later@peer.test', status: 'temp_fail', code: '450 4.2.1', response: '450 4.2.1 Mailbox busy, try later' },
    { address: 'also@peer.test', status: 'delivered' },
  ]);
  t.match(r.travel, { host: 'mx.peer.test', route: 'direct', mtaSts: false, tls: { protocol: 'TLSv1.3', cipher: /^TLS_/ } });
  t.equal(peer.received.length, 1);
  t.match(peer.received[0], { secure: true, tlsVersion: 'TLSv1.3', rcpt: ['ok@peer.test', 'also@peer.test'] }, 'sent to the accepted recipients only');
});

t.test('connections are reused: per host, per-destination and global caps, messages per connection, idle close', T, async (t) => {
  const zones: Zones = { 'peer.test': { MX: [{ exchange: 'mx.peer.test', priority: 5 }] }, 'mx.peer.test': { A: ['127.0.0.1'] } };
  const seq = await startPeer(t, { hideSTARTTLS: true });
  const a = await setup(t, zones, seq.port, { perDestination: 2, messagesPerConnection: 4 });
  for (let i = 0; i < 10; i++) t.equal((await a.transport.deliver(job('peer.test', [`u${i}@peer.test`]))).recipients[0]!.status, 'delivered');
  t.equal(seq.received.length, 10);
  t.equal(seq.connections, 3, '10 sequential messages, 4 per connection: 3 connections');

  const par = await startPeer(t, { hideSTARTTLS: true });
  const b = await setup(t, zones, par.port, { perDestination: 3, concurrency: 20 }, { idleMs: 300 });
  const rs = await Promise.all(Array.from({ length: 24 }, (_, i) => b.transport.deliver(job('peer.test', [`p${i}@peer.test`]))));
  t.ok(rs.every((r) => r.recipients[0]!.status === 'delivered'));
  t.equal(par.received.length, 24);
  t.ok(par.connections <= 3 && par.maxOpen <= 3, `24 concurrent messages over ${par.connections} connections (at most 3 per host)`);
  await waitFor(() => par.open === 0, 3000);
  t.pass('idle connections closed after idleMs');

  const cap = await startPeer(t, { hideSTARTTLS: true });
  const capZones: Zones = { ...zones, 'other.test': { MX: [{ exchange: 'mx.other.test', priority: 5 }] }, 'mx.other.test': { A: ['127.0.0.1'] } };
  const c = await setup(t, capZones, cap.port, { perDestination: 4, concurrency: 2 });
  const jobs = Array.from({ length: 16 }, (_, i) => c.transport.deliver(job(i % 2 ? 'peer.test' : 'other.test', [`c${i}@x.test`])));
  t.ok((await Promise.all(jobs)).every((r) => r.recipients[0]!.status === 'delivered'));
  t.ok(cap.maxOpen <= 2, `global cap: at most 2 open at once (saw ${cap.maxOpen})`);
});

t.test('a pooled connection the server closed meanwhile is replaced, not reported as a failure', T, async (t) => {
  const peer = await startPeer(t, { hideSTARTTLS: true, socketTimeout: 200 } as Partial<SMTPServerOptions>);
  const zones: Zones = { 'peer.test': { MX: [{ exchange: 'mx.peer.test', priority: 5 }] }, 'mx.peer.test': { A: ['127.0.0.1'] } };
  const { transport } = await setup(t, zones, peer.port, { perDestination: 1 });
  t.equal((await transport.deliver(job('peer.test', ['a@peer.test']))).recipients[0]!.status, 'delivered');
  await waitFor(() => peer.open === 0, 3000); // the peer timed the idle session out (421)
  t.equal((await transport.deliver(job('peer.test', ['b@peer.test']))).recipients[0]!.status, 'delivered');
  t.equal(peer.connections, 2);
});

t.test('a pooled connection that dies under the next MAIL FROM is retried on a fresh one', T, async (t) => {
  // a minimal SMTP server (no PIPELINING) that drops every connection at its second MAIL FROM
  let connections = 0;
  const delivered: string[] = [];
  const server = net.createServer((s) => {
    connections++;
    let mails = 0;
    let inData = false;
    let buf = '';
    s.write('220 flaky.test ESMTP\r\n');
    s.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (inData) {
          if (line === '.') (inData = false), delivered.push('msg'), s.write('250 2.0.0 queued\r\n');
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') s.write('250-flaky.test\r\n250 8BITMIME\r\n');
        else if (verb === 'MAIL' && ++mails === 2) return void s.destroy();
        else if (verb === 'DATA') (inData = true), s.write('354 go ahead\r\n');
        else if (verb === 'QUIT') s.end('221 bye\r\n');
        else s.write('250 2.0.0 ok\r\n');
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const port = (server.address() as net.AddressInfo).port;
  const zones: Zones = { 'flaky.test': { MX: [{ exchange: 'mx.flaky.test', priority: 5 }] }, 'mx.flaky.test': { A: ['127.0.0.1'] } };
  const { transport } = await setup(t, zones, port, { perDestination: 1 });
  t.equal((await transport.deliver(job('flaky.test', ['a@flaky.test']))).recipients[0]!.status, 'delivered');
  t.match((await transport.deliver(job('flaky.test', ['b@flaky.test']))).recipients[0], { status: 'delivered', code: '250 2.0.0' });
  t.equal(connections, 2, 'the broken reused connection was replaced once');
  t.equal(delivered.length, 2);
});

t.test('opportunistic TLS that fails its handshake is retried once in plain text', T, async (t) => {
  // a peer whose TLS offer no modern client accepts: the handshake fails
  const peer = await startPeer(t, { ...goodCert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' } as Partial<SMTPServerOptions>);
  const zones: Zones = { 'old.test': { MX: [{ exchange: 'mx.old.test', priority: 5 }] }, 'mx.old.test': { A: ['127.0.0.1'] } };
  const { transport, logLines } = await setup(t, zones, peer.port);
  const r = await transport.deliver(job('old.test', ['a@old.test']));
  t.match(r, { recipients: [{ status: 'delivered' }], travel: { tls: null } });
  t.equal(peer.received[0]?.secure, false);
  t.match(logLines.join('\n'), /opportunistic TLS failed, retrying in plain text/);
});

function stsZones(domain: string, mx: string): Zones {
  return {
    [domain]: { MX: [{ exchange: mx, priority: 10 }] },
    [mx]: { A: ['127.0.0.1'] },
    [`_mta-sts.${domain}`]: { TXT: [['v=STSv1; id=20260301']] },
  };
}
const policy = (mode: string, mx: string): HttpsFetcher => async (url) => {
  if (!url.startsWith('https://mta-sts.')) return { status: 404, body: '' };
  return { status: 200, body: `version: STSv1\r\nmode: ${mode}\r\nmx: ${mx}\r\nmax_age: 604800\r\n`, headers: { 'content-type': 'text/plain' } };
};

t.test('MTA-STS enforce: verified TLS to a listed MX is reported; anything less is temp_fail, never plain text', T, async (t) => {
  const good = await startPeer(t, goodCert);
  const a = await setup(t, stsZones('sts.test', 'mx.sts.test'), good.port);
  a.deps.fetch = policy('enforce', '*.sts.test');
  const ra = await a.transport.deliver(job('sts.test', ['a@sts.test']));
  t.match(ra, { recipients: [{ status: 'delivered' }], travel: { host: 'mx.sts.test', mtaSts: true, tls: { protocol: 'TLSv1.3' } } });

  const wrong = await startPeer(t, otherCert);
  const b = await setup(t, stsZones('sts.test', 'mx.sts.test'), wrong.port);
  b.deps.fetch = policy('enforce', 'mx.sts.test');
  const rb = await b.transport.deliver(job('sts.test', ['a@sts.test']));
  t.match(rb.recipients[0], { status: 'temp_fail', code: null, response: /MTA-STS policy of sts\.test requires TLS with a valid certificate for mx\.sts\.test: TLS with mx\.sts\.test .* failed: Hostname\/IP does not match/ });
  t.equal(wrong.received.length, 0, 'nothing sent in plain text');

  const plain = await startSink(t); // smtp-sink has no STARTTLS
  const c = await setup(t, stsZones('sts.test', 'mx.sts.test'), plain.port);
  c.deps.fetch = policy('enforce', 'mx.sts.test');
  t.match((await c.transport.deliver(job('sts.test', ['a@sts.test']))).recipients[0], { status: 'temp_fail', response: /mx\.sts\.test \[127\.0\.0\.1\]:\d+ does not offer STARTTLS: 5\d\d/ });
  await new Promise((r) => setTimeout(r, 100));
  t.equal(plain.dumps().length, 0);

  const d = await setup(t, stsZones('sts.test', 'mx.sts.test'), good.port);
  d.deps.fetch = policy('enforce', 'mx.elsewhere.test');
  const before = good.connections;
  t.match((await d.transport.deliver(job('sts.test', ['a@sts.test']))).recipients[0], { status: 'temp_fail', response: /names none of its MX hosts \(mx\.sts\.test; policy mx: mx\.elsewhere\.test\)/ });
  t.equal(good.connections, before, 'no connection to an MX the policy does not name');
});

t.test('MTA-STS testing: a violation is logged and the mail still goes', T, async (t) => {
  const wrong = await startPeer(t, otherCert);
  const { deps, transport, logLines } = await setup(t, stsZones('sts.test', 'mx.sts.test'), wrong.port);
  deps.fetch = policy('testing', 'mx.sts.test');
  const r = await transport.deliver(job('sts.test', ['a@sts.test']));
  t.match(r, { recipients: [{ status: 'delivered' }], travel: { mtaSts: false, tls: { protocol: 'TLSv1.3' } } });
  t.match(logLines.join('\n'), /mta-sts testing: policy violated.*certificate not valid for the MX name/);
});

t.test('relay routes: STARTTLS + AUTH, implicit TLS, verified certificates, bad credentials kept for retry', T, async (t) => {
  const zones: Zones = { 'relay.example.test': { A: ['127.0.0.1'] }, 'far.test': { MX: [{ exchange: 'mx.far.test', priority: 1 }] }, 'mx.far.test': { A: ['127.0.0.1'] } };
  const submission = await startPeer(t, { ...goodCert, authOptional: false, allowInsecureAuth: false });
  const a = await setup(t, zones, 1);
  await addRelayRoute(a.deps, { domain: '*', url: `smtp+starttls://tester:s%40cret@relay.example.test:${submission.port}` });
  const ra = await a.transport.deliver(job('far.test', ['x@far.test']));
  t.match(ra, { recipients: [{ status: 'delivered' }], travel: { host: 'relay.example.test', route: 'relay', mtaSts: false, tls: { protocol: 'TLSv1.3' } } });
  t.match(submission.received[0], { user: 'tester', secure: true, rcpt: ['x@far.test'] });
  t.notMatch(a.logLines.join('\n'), /s@cret|s%40cret/, 'the password is never logged');

  const implicit = await startPeer(t, { ...goodCert, secure: true, authOptional: false });
  const b = await setup(t, zones, 1);
  await addRelayRoute(b.deps, { domain: 'far.test', url: `smtps://tester:s%40cret@relay.example.test:${implicit.port}` });
  t.match(await b.transport.deliver(job('far.test', ['y@far.test'])), { recipients: [{ status: 'delivered' }], travel: { route: 'relay' } });
  t.match(implicit.received[0], { user: 'tester', secure: true });

  const c = await setup(t, zones, 1);
  await addRelayRoute(c.deps, { domain: '*', url: `smtps://tester:wrong@relay.example.test:${implicit.port}` });
  t.match((await c.transport.deliver(job('far.test', ['z@far.test']))).recipients[0], { status: 'temp_fail', code: /^535/, response: /refused our credentials: 535/ });

  const d = await setup(t, zones, 1, {}, { tlsCa: undefined });
  await addRelayRoute(d.deps, { domain: '*', url: `smtps://tester:s%40cret@relay.example.test:${implicit.port}` });
  t.match((await d.transport.deliver(job('far.test', ['z@far.test']))).recipients[0], { status: 'temp_fail', response: /TLS with relay\.example\.test .* failed/ }, 'an unknown CA is refused');
  t.equal(implicit.received.length, 1);
});

t.test('CALIOPEN_RELAY is the default route; a domain route wins over it', T, async (t) => {
  const sink = await startSink(t);
  const peer = await startPeer(t, { hideSTARTTLS: true });
  const { deps, transport } = await setup(t, {}, 1);
  deps.config.relay = `smtp://127.0.0.1:${sink.port}`;
  const viaConfig = createTransport(deps);
  t.teardown(() => viaConfig.close());
  await addRelayRoute(deps, { domain: 'partner.test', url: `smtp://127.0.0.1:${peer.port}` });
  t.match(await viaConfig.deliver(job('anywhere.test', ['a@anywhere.test'])), { recipients: [{ status: 'delivered' }], travel: { host: '127.0.0.1', route: 'relay', tls: null } });
  t.match(await viaConfig.deliver(job('partner.test', ['b@partner.test'])), { recipients: [{ status: 'delivered' }] });
  t.equal(peer.received.length, 1);
  await waitFor(() => sink.dumps().length === 1);
  t.throws(() => createTransport({ ...deps, config: { ...deps.config, relay: 'ftp://nope' } }), { code: 'invalid_config' });
  void transport;
});
