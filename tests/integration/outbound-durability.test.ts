/**
 * Outbound durability: a mail client submits messages to five remote domains; a slow remote MX (a
 * Node smtp-server in this process, so it outlives the appliance) takes them 30–50 ms each; the
 * appliance is killed with SIGKILL while its queue is busy. After a restart on the same data dir,
 * every message that got a 250 at submission reaches the peer, and the only copies sent twice are
 * rows claimed ('delivering') at the crash whose message the peer had already accepted: the
 * at-least-once edge documented in server/delivery/queue.ts. Nothing is left waiting afterwards.
 * The peer holds its greeting until every message is submitted: submission (DKIM, fsync, Sent copy)
 * is slower than four sessions to the peer, so otherwise the queue would never fill up.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { tempDir } from '../helpers/deps.js';
import { runCli } from '../helpers/cli.js';
import { startAppliance, type ApplianceProcess } from '../helpers/appliance-process.js';
import { startDnsServer, type Zones } from '../helpers/dns-server.js';

const T = { timeout: 90_000 };
const MESSAGES = 150;
const DOMAINS = ['remote1.test', 'remote2.test', 'remote3.test', 'remote4.test', 'remote5.test'];
const PASSWORD = 'outbound durability 123';
/** The worker's default maxInFlight (server/delivery/worker.ts): no more rows can be claimed at once. */
const MAX_IN_FLIGHT = 256;
const IN_FLIGHT_WARNING = 'messages in flight at the last stop are queued again (at-least-once)';

interface Peer {
  port: number;
  /** Message-ID + envelope recipient of every transaction the peer answered 250 to, in order */
  accepted: string[];
  /** transactions whose connection was gone before the peer could answer: a real MTA drops those */
  lost: number;
  maxSessions: number;
  lastAt: number;
  /** the peer greets nobody before this: the queue fills up as a slow remote MX would make it */
  openGate(): void;
}

/** A remote MX that takes 30–50 ms to accept each message and records what it accepted. */
async function startPeer(t: Test): Promise<Peer> {
  let openGate = () => {};
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const peer: Peer = { port: 0, accepted: [], lost: 0, maxSessions: 0, lastAt: 0, openGate: () => openGate() };
  const open = new Set<string>();
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true, disableReverseLookup: true, logger: false, closeTimeout: 1000,
    onConnect(session, cb) {
      open.add(session.id);
      peer.maxSessions = Math.max(peer.maxSessions, open.size);
      void gate.then(() => cb());
    },
    onClose(session) {
      open.delete(session.id);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', () => undefined);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('latin1');
        const id = /^Message-ID:[ \t]*<([^>\r\n]+)>/im.exec(raw.slice(0, raw.indexOf('\r\n\r\n')))?.[1] ?? '(none)';
        const keys = session.envelope.rcptTo.map((r) => `${id} ${r.address}`);
        setTimeout(() => {
          if (!open.has(session.id)) {
            peer.lost++;
            return cb(new Error('connection lost'));
          }
          peer.accepted.push(...keys);
          peer.lastAt = Date.now();
          cb(null, `queued as ${peer.accepted.length}`);
        }, 30 + Math.random() * 20);
      });
    },
  });
  // a killed appliance resets its sockets: that is the point of the test, not an error of the peer
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  peer.port = (server.server.address() as AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return peer;
}

function remoteZones(): Zones {
  const zones: Zones = {};
  for (const d of DOMAINS) {
    zones[d] = { MX: [{ exchange: `mx.${d}`, priority: 10 }] };
    zones[`mx.${d}`] = { A: ['127.0.0.1'] };
  }
  return zones;
}

async function until(what: () => boolean, ms: number, label: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function submissionPort(app: ApplianceProcess): Promise<number> {
  let port = 0;
  await until(() => {
    port = Number(/Mail clients: submission port (\d+) \(STARTTLS\)/.exec(app.output())?.[1] ?? 0);
    return port > 0;
  }, 10_000, 'the submission port');
  return port;
}

/** Submits every message over pooled STARTTLS sessions; resolves with the keys that got a 250. */
async function submitAll(port: number, runTag: string): Promise<{ accepted: string[]; refused: number }> {
  const mailer = nodemailer.createTransport({
    host: '127.0.0.1', port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false },
    auth: { user: 'alice', pass: PASSWORD }, pool: true, maxConnections: 4, maxMessages: Infinity, name: 'client.test',
  });
  const accepted: string[] = [];
  let refused = 0;
  await Promise.all(
    Array.from({ length: MESSAGES }, async (_, i) => {
      const to = `user${i}@${DOMAINS[i % DOMAINS.length]}`;
      const id = `od-${i}-${runTag}@example.test`;
      try {
        await mailer.sendMail({ from: 'Alice <alice@example.test>', to, subject: `outbound ${i}`, messageId: `<${id}>`, text: `message ${i} `.repeat(40) });
        accepted.push(`${id} ${to}`); // only once the box answered 250
      } catch {
        refused++; // counted, and the check below fails: every message should be taken
      }
    }),
  );
  mailer.close();
  return { accepted, refused };
}

function queueLines(stdout: string): string[][] {
  return stdout.split('\n').slice(1).filter(Boolean).map((l) => l.split('\t'));
}

t.test('kill -9 while the outbound queue is busy: every accepted message is delivered, only in-flight ones twice', T, async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dns = await startDnsServer(remoteZones());
  t.teardown(() => dns.close());
  const peer = await startPeer(t);

  const configFile = path.join(dir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify({
    submission: { port: 0, implicitTlsPort: 0 },
    // the peer holds its greeting while the client submits: give the box time to wait for it
    delivery: { mxPort: peer.port, connectTimeoutMs: 60_000, rateLimitPerHour: 100_000, rateLimitPerDay: 100_000 },
  }));
  const env = { CALIOPEN_DATA_DIR: dir, CALIOPEN_CONFIG: configFile, CALIOPEN_RESOLVER: dns.address, CALIOPEN_HOSTNAME: 'mx.example.test' };
  fs.writeFileSync(path.join(dir, 'pw'), PASSWORD);
  t.equal((await runCli(['setup', '--domain', 'example.test', '--admin', 'alice', '--password-file', path.join(dir, 'pw')], env)).code, 0, 'setup');

  const running = new Set<ApplianceProcess>();
  t.teardown(async () => {
    for (const p of running) await p.kill9();
  });
  const first = await startAppliance(env);
  running.add(first);
  const { accepted, refused } = await submitAll(await submissionPort(first), String(Date.now()));
  t.equal(accepted.length, MESSAGES, `every submission answered 250 (${refused} refused)`);

  // the kill: deliveries under way, the peer has some of the messages but not all
  const t0 = Date.now();
  peer.openGate();
  await until(() => peer.accepted.length >= MESSAGES / 3, 30_000, `the peer to get ${MESSAGES / 3} messages`);
  await first.kill9();
  running.delete(first);
  const atKill = peer.accepted.length;
  t.ok(atKill < accepted.length, `killed while busy: the peer had ${atKill} of ${accepted.length} after ${Date.now() - t0} ms`);

  // what the crash left: rows still waiting, and rows claimed by the worker (the at-least-once edge)
  const list = await runCli(['queue', 'list'], env);
  t.equal(list.code, 0, 'queue list after the crash');
  const rows = queueLines(list.stdout);
  const inFlight = rows.filter((r) => r[1] === 'delivering').length;
  const waiting = rows.filter((r) => r[1] === 'queued').length;
  t.ok(inFlight + waiting > 0, `the crash left work: ${inFlight} rows claimed, ${waiting} waiting`);

  // read now, not at the kill: a reply written as the socket died is only counted once its timer ran.
  // Every message has its own recipient, which `queue list` shows as "address(status)".
  const hadBefore = new Set(peer.accepted.map((k) => k.split(' ')[1]));
  const alreadyThere = rows.filter((r) => hadBefore.has(r[5]!.replace(/\(\w+\)$/, ''))).length;

  const second = await startAppliance(env);
  running.add(second);
  const want = new Set(accepted);
  await until(() => [...want].every((k) => peer.accepted.includes(k)), 45_000, 'every accepted message at the peer');
  // late second copies of rows re-queued at the restart
  await until(() => Date.now() - peer.lastAt > 1500, 10_000, 'the peer to fall quiet');
  const output = second.output();
  running.delete(second);
  t.equal(await second.stop(), 0, 'clean stop after the restart');

  const counts = new Map<string, number>();
  for (const k of peer.accepted) counts.set(k, (counts.get(k) ?? 0) + 1);
  const missing = accepted.filter((k) => !counts.has(k));
  const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
  t.same(missing, [], `every accepted message delivered (${accepted.length})`);
  t.equal(counts.size, accepted.length, 'and nothing else');
  t.comment(`accepted ${accepted.length}, peer transactions ${peer.accepted.length}, distinct ${counts.size}, duplicates ${duplicates}, ` +
    `peer had ${atKill} at the kill, claimed at the crash ${inFlight}, replies lost with the connection ${peer.lost}, peer sessions at once ≤ ${peer.maxSessions}`);
  t.ok(duplicates <= inFlight, `duplicates (${duplicates}) only among rows claimed at the crash (${inFlight} ≤ ${MAX_IN_FLIGHT})`);
  // Exactly the rows the crash left active although the peer had already answered 250 go twice: the
  // window between the peer's reply and the commit of 'delivered' (RSET, then a group commit while
  // the session carries the next messages). Each of them once more, nothing recorded delivered again.
  t.equal(duplicates, alreadyThere, `duplicates: the ${alreadyThere} rows claimed at the crash whose message the peer already had`);

  // the restart says so, once, exactly when there was something to send again
  const warnings = output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; msg: string; count?: number })
    .filter((l) => l.msg === IN_FLIGHT_WARNING);
  t.equal(warnings.length, inFlight > 0 ? 1 : 0, `${warnings.length} in-flight warning(s) at the restart`);
  if (inFlight > 0) t.match(warnings[0], { level: 'warn', count: inFlight }, 'with the count of rows queued again');

  const after = await runCli(['queue', 'list'], env);
  t.equal(after.code, 0);
  t.match(after.stdout, /nothing waiting/, 'the queue is empty');
});
