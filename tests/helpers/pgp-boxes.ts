/**
 * Two whole appliances on loopback, each with its own domain and one user, that mail each other
 * over their real SMTP ports (the zone resolver sends each domain's MX to 127.0.0.1 and
 * delivery.mxPort to the other box) and reach each other's web server for WKD through an injected
 * fetcher (openpgpkey.<domain> and <domain> → that box's HTTP port, Host header kept). Each user
 * gets a key pair made by the web core and stored through the API.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { Test } from 'tap';
import * as openpgp from 'openpgp';
import { createApp, type App } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { runSetup } from '../../server/setup/first-run.js';
import { FakeClock } from '../../server/clock.js';
import { silentLogger, createLogger } from '../../server/log.js';
import type { HttpsFetcher } from '../../server/delivery/types.js';
import { generateKeyPair, type KeyPair } from '../../web/js/pgp/index.js';
import { tempDir } from './deps.js';
import { zoneResolver } from './dns.js';
import { freePort } from './smtp-sink.js';
import { apiClient, type ApiClient } from './api-client.js';

export interface Box {
  app: App;
  domain: string;
  user: { id: number; username: string; address: string; password: string };
  client: ApiClient;
  key: KeyPair;
  passphrase: string;
  /** URLs the box's fetcher was asked for */
  fetched: string[];
}

/** Answers https://<host>/<path> from the box serving that host, over plain HTTP on loopback. */
function loopbackFetcher(httpPorts: Map<string, () => number>, fetched: string[], enabled: () => boolean): HttpsFetcher {
  return (url) => new Promise((resolve, reject) => {
    fetched.push(url);
    const u = new URL(url);
    const port = httpPorts.get(u.hostname.replace(/^openpgpkey\./, ''))?.();
    if (!enabled() || !port) return reject(new Error(`getaddrinfo ENOTFOUND ${u.hostname}`));
    const req = http.get({ host: '127.0.0.1', port, path: u.pathname + u.search, headers: { host: u.host }, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, body: raw.toString('utf8'), raw });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Two boxes, "one.test" (alice) and "two.test" (bob). `wkd: false` makes every WKD fetch fail (host not found). */
export async function twoBoxes(t: Test, opts: { wkd: boolean }): Promise<[Box, Box]> {
  const specs = [{ domain: 'one.test', username: 'alice' }, { domain: 'two.test', username: 'bob' }];
  const smtpPorts = [await freePort(), await freePort()];
  const httpPorts = new Map<string, () => number>();
  const boxes: Box[] = [];
  for (const [i, spec] of specs.entries()) {
    const dir = tempDir('cal-box-');
    const other = 1 - i;
    const zones = Object.fromEntries(specs.flatMap((s) => [
      [s.domain, { MX: [{ exchange: `mx.${s.domain}`, priority: 10 }], A: ['127.0.0.1'] }], [`mx.${s.domain}`, { A: ['127.0.0.1'] }], [`openpgpkey.${s.domain}`, { A: ['127.0.0.1'] }],
    ]));
    const config = loadConfig(
      { CALIOPEN_DATA_DIR: dir, CALIOPEN_HTTP_PORT: '0', CALIOPEN_SMTP_PORT: String(smtpPorts[i]), CALIOPEN_HOSTNAME: `mx.${spec.domain}` },
      { smtp: { host: '127.0.0.1' }, http: { host: '127.0.0.1' }, submission: { enabled: false }, delivery: { mxPort: smtpPorts[other] } },
      dir,
    );
    const fetched: string[] = [];
    const clock = new FakeClock('2026-03-01T10:00:00Z');
    const app = await createApp(config, {
      dns: zoneResolver(zones), clock, log: process.env.CALIOPEN_TEST_LOG ? createLogger('debug') : silentLogger,
      fetch: loopbackFetcher(httpPorts, fetched, () => opts.wkd),
    });
    const password = `${spec.username} password 123`;
    const user = await runSetup(app.services.deps.db, clock, { domain: spec.domain, admin: spec.username, password }, app.services.deps.secrets);
    app.services.setup.code = null;
    const ports = await app.start();
    httpPorts.set(spec.domain, () => ports.http);
    t.teardown(async () => {
      await app.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const client = apiClient(ports.http);
    await client.login(spec.username, password);
    const address = `${spec.username}@${spec.domain}`;
    const passphrase = `${spec.username} key pass`;
    // made before the fake clock's now: the box judges keys at its own time
    const key = await generateKeyPair(openpgp, { name: spec.username, email: address, passphrase, date: new Date('2026-01-01T00:00:00Z') });
    const put = await client.request('PUT', '/api/v1/keys/me', { json: { public_key: key.publicKey, private_key: key.privateKey } });
    if (put.status !== 200) throw new Error(`PUT /keys/me: ${put.status} ${JSON.stringify(put.body)}`);
    boxes.push({ app, domain: spec.domain, user: { id: user.id, username: spec.username, address, password }, client, key, passphrase, fetched });
  }
  return [boxes[0]!, boxes[1]!];
}

/** A plain message from the box's user, through the one send path. */
export async function sendPlain(box: Box, to: string, subject: string): Promise<void> {
  const raw = Buffer.from([`From: ${box.user.username} <${box.user.address}>`, `To: ${to}`, `Subject: ${subject}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', `${subject}, in clear.`, ''].join('\r\n'));
  await box.app.services.sender.submit({ userId: box.user.id, raw, envelope: { mailFrom: box.user.address, rcptTo: [to] }, source: 'api' });
}
