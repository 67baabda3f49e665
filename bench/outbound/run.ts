/**
 * Outbound delivery throughput: N messages (10,000 by default) queued to D recipient domains (100)
 * whose MX hosts all resolve to one Postfix smtp-sink on loopback, then delivered by the real
 * appliance (child process) with connection reuse per destination. Reports:
 *   - queueing: messages/s through the send path (checks, DKIM-sign ed25519 + RSA, raw file fsync,
 *     group-committed queue rows, Sent copy through ingest), in-process, appliance not started;
 *   - delivery: messages/s from the appliance's start to an empty queue, and between the first and
 *     last delivery; peak RSS of the appliance; smtp-sink's own count of what it received.
 *
 *   node --import tsx bench/outbound/run.ts [--messages 10000] [--domains 100] [--concurrency 20]
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { applianceEnv, setupBox, startAppliance, ADMIN } from '../lib/appliance.js';
import { cleanupAll, fmt, freePort, intArg, machineInfo, onCleanup, runBench, sampleRss, table, tempDir, waitForPort } from '../lib/common.js';
import { startDnsServer, type Zones } from '../../tests/helpers/dns-server.js';
import { loadConfig } from '../../server/config.js';
import { createApp } from '../../server/app.js';
import { openReadDb } from '../../server/store/db.js';

const argv = process.argv.slice(2);
const MESSAGES = intArg(argv, '--messages', 10_000);
const DOMAINS = intArg(argv, '--domains', 100);
const CONCURRENCY = intArg(argv, '--concurrency', 20);

/** Bodies of mixed sizes (1–40 KB, most small), deterministic: message i always has the same size. */
function body(i: number): string {
  const kb = [1, 2, 2, 4, 4, 8, 8, 16, 24, 40][(i * 7) % 10]!;
  const line = `Ligne ${i} du message de test, avec un peu de texte accentué : é à ç ù. `.padEnd(76, '.') + '\r\n';
  return line.repeat(Math.ceil((kb * 1024) / line.length));
}

function message(i: number, to: string): Buffer {
  return Buffer.from(
    [
      `From: Alice <${ADMIN.address}>`, `To: <${to}>`, `Subject: Outbound bench ${i}`,
      `Date: ${new Date(Date.UTC(2026, 10, 24, 10, 0, i % 60)).toUTCString()}`, 'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', body(i),
    ].join('\r\n'),
  );
}

await runBench(async () => {
  const info = machineInfo();
  process.stdout.write(`outbound bench: ${MESSAGES} messages to ${DOMAINS} domains, ${info.cores} cores, load ${info.loadavg}, node ${info.node}\n\n`);

  // remote side: one smtp-sink, every domain's MX a distinct name resolving to it
  const sinkPort = await freePort();
  const asRoot = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const sink = spawn('/usr/sbin/smtp-sink', [...asRoot, '-c', '-h', 'sink.bench.test', `127.0.0.1:${sinkPort}`, '1024'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let sinkOut = '';
  sink.stdout!.on('data', (c) => (sinkOut += c));
  onCleanup('smtp-sink', () => void sink.kill('SIGKILL'));
  await waitForPort(sinkPort, 5000);
  const zones: Zones = {};
  const domains = Array.from({ length: DOMAINS }, (_, i) => `d${String(i).padStart(3, '0')}.bench.test`);
  for (const d of domains) {
    zones[d] = { MX: [{ exchange: `mx.${d}`, priority: 10 }] };
    zones[`mx.${d}`] = { A: ['127.0.0.1'] };
  }
  const dns = await startDnsServer(zones);
  onCleanup('dns', () => dns.close());

  const dataDir = tempDir('caliopen-bench-outbound-');
  const configFile = path.join(dataDir, 'bench-config.json');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(configFile, JSON.stringify({ delivery: { mxPort: sinkPort, rateLimitPerHour: 1_000_000, rateLimitPerDay: 1_000_000 }, logLevel: 'warn' }));
  const env = { ...applianceEnv(dataDir, dns.address), CALIOPEN_CONFIG: configFile };
  await setupBox(env);

  // 1. queue, in-process, with the appliance not started (nothing is delivered yet)
  const config = loadConfig({ ...env, CALIOPEN_HTTP_PORT: '0', CALIOPEN_SMTP_PORT: '0' }, {}, dataDir);
  const app = await createApp(config);
  const userId = ((await app.services.deps.db('users').where({ username: ADMIN.username }).first('id')) as { id: number }).id;
  const q0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < MESSAGES; i = next++) {
        const to = `user${i}@${domains[i % DOMAINS]}`;
        await app.services.sender.submit({ userId, raw: message(i, to), envelope: { mailFrom: ADMIN.address, rcptTo: [to] }, source: 'api' });
      }
    }),
  );
  const queueSecs = (performance.now() - q0) / 1000;
  await app.stop();

  // 2. deliver: the real appliance, started on the queued data dir
  const readDb = openReadDb(dataDir);
  onCleanup('read db', () => readDb.destroy());
  const waiting = async () => Number(((await readDb('outbound_queue').whereIn('status', ['queued', 'delivering']).count({ n: '*' }).first()) as { n: number }).n);
  const d0 = performance.now();
  const appliance = await startAppliance(env);
  onCleanup('appliance', () => appliance.stop().then(() => undefined));
  const rss = sampleRss(appliance.pid);
  const ready = performance.now();
  let left = await waiting();
  const deadline = Date.now() + 30 * 60_000;
  while (left > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = await waiting();
  }
  const done = performance.now();
  const mem = rss.stop();
  const byStatus = (await readDb('outbound_queue').groupBy('status').select('status').count({ n: '*' })) as Array<{ status: string; n: number }>;
  const span = (await readDb('outbound_queue').where({ status: 'delivered' }).min({ first: 'last_attempt_at' }).max({ last: 'last_attempt_at' }).first()) as { first: number; last: number };
  await appliance.stop();
  sink.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  const delivered = byStatus.find((s) => s.status === 'delivered')?.n ?? 0;
  const sinkCount = /(\d+)\s*$/.exec(sinkOut.trim())?.[1];

  const deliverSecs = (done - ready) / 1000;
  const activeSecs = Math.max(0.001, (span.last - span.first) / 1000);
  process.stdout.write(
    table(['step', 'value'], [
      ['queued (send path, in-process)', `${MESSAGES} in ${fmt(queueSecs)} s = ${fmt(MESSAGES / queueSecs, 0)} msg/s`],
      ['appliance start → ready', `${fmt((ready - d0) / 1000)} s`],
      ['delivered (ready → queue empty)', `${delivered} in ${fmt(deliverSecs)} s = ${fmt(delivered / deliverSecs, 0)} msg/s`],
      ['first → last delivery', `${fmt(activeSecs)} s = ${fmt(delivered / activeSecs, 0)} msg/s`],
      ['queue rows by status', byStatus.map((s) => `${s.status} ${s.n}`).join(', ')],
      ['smtp-sink count (-c)', sinkCount ?? 'n/a'],
      ['appliance peak RSS', `${fmt(mem.peakRssMb)} MB (VmHWM ${fmt(mem.hwmMb)} MB)`],
    ]) + '\n\n',
  );
  process.stdout.write(JSON.stringify({
    bench: 'outbound', messages: MESSAGES, domains: DOMAINS, queueMsgPerSec: MESSAGES / queueSecs, deliveredMsgPerSec: delivered / deliverSecs,
    firstToLastMsgPerSec: delivered / activeSecs, peakRssMb: mem.peakRssMb, byStatus, machine: info,
  }) + '\n');
  if (left > 0 || delivered !== MESSAGES) process.exitCode = 1;
  await cleanupAll();
});
