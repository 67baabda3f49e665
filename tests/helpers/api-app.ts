/**
 * A whole appliance on loopback for API tests: temp data dir, fake clock, zone resolver, real
 * HTTP and SMTP ports (0 = any free one). Optionally set up with an admin (alice@example.test)
 * through the same runSetup as the CLI; stopped and removed in the test's teardown.
 * CALIOPEN_TEST_LOG=1 shows the app's logs (silent otherwise).
 */
import fs from 'node:fs';
import type { Test } from 'tap';
import { createApp, type App } from '../../server/app.js';
import { runSetup } from '../../server/setup/first-run.js';
import { addUser } from '../../server/accounts/users.js';
import { FakeClock } from '../../server/clock.js';
import { createLogger, silentLogger } from '../../server/log.js';
import { tempDir, testConfig } from './deps.js';
import { zoneResolver, type Zones } from './dns.js';
import type { HttpsFetcher } from '../../server/delivery/types.js';
import { apiClient, type ApiClient } from './api-client.js';

export const DOMAIN = 'example.test';
export const ALICE = { username: 'alice', password: 'alice password 1', address: 'alice@example.test' };
export const BOB = { username: 'bob', password: 'bob password 12', address: 'bob@example.test' };

export interface ApiHarness {
  app: App;
  clock: FakeClock;
  http: number;
  smtp: number;
  client(): ApiClient;
  /** user ids of alice and bob once set up */
  users: { alice: number; bob: number };
  /** stores a message for users through the real ingest pipeline (as an mbox import would) */
  ingest(raw: Buffer, userIds: number[], extra?: { read?: boolean; tags?: string[] }): Promise<number>;
}

/**
 * Options making 127.0.0.1:port remote.test's MX (mx.remote.test), so the box delivers mail for
 * remote.test to a local peer (Postfix's smtp-sink) there: startApi(t, remoteMx(sink.port)).
 */
export function remoteMx(port: number): { zones: Zones; config: Record<string, unknown> } {
  return {
    zones: { 'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] }, 'mx.remote.test': { A: ['127.0.0.1'] } },
    config: { delivery: { mxPort: port } },
  };
}

/** The harness with alice and bob each logged in through the API. */
export async function aliceAndBob(t: Test, opts: Parameters<typeof startApi>[1] = {}): Promise<{ h: ApiHarness; alice: ApiClient; bob: ApiClient }> {
  const h = await startApi(t, opts);
  const alice = h.client();
  await alice.login(ALICE.username, ALICE.password);
  const bob = h.client();
  await bob.login(BOB.username, BOB.password);
  return { h, alice, bob };
}

/** The default HTTPS client of a test box: the internet is out of reach (WKD, MTA-STS, autoconfig fail at once). */
export const offlineFetch: HttpsFetcher = async (url) => {
  throw new Error(`no network in tests: ${new URL(url).host}`);
};

export async function startApi(t: Test, opts: { setUp?: boolean; zones?: Zones; config?: Record<string, unknown>; fetch?: HttpsFetcher } = {}): Promise<ApiHarness> {
  const dir = tempDir('cal-api-');
  const clock = new FakeClock('2026-03-01T10:00:00Z');
  const app = await createApp(testConfig(dir, opts.config), { dns: zoneResolver(opts.zones ?? {}), log: process.env.CALIOPEN_TEST_LOG ? createLogger('debug') : silentLogger, clock, fetch: opts.fetch ?? offlineFetch });
  const users = { alice: 0, bob: 0 };
  if (opts.setUp !== false) {
    const { db } = app.services.deps;
    users.alice = (await runSetup(db, clock, { domain: DOMAIN, admin: ALICE.username, password: ALICE.password }, app.services.deps.secrets)).id;
    users.bob = (await addUser(db, clock, { username: BOB.username, domain: DOMAIN, password: BOB.password })).id;
    app.services.setup.code = null;
  }
  const ports = await app.start();
  t.teardown(async () => {
    await app.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    app,
    clock,
    http: ports.http,
    smtp: ports.smtp,
    users,
    client: () => apiClient(ports.http),
    async ingest(raw, userIds, extra = {}) {
      const [first] = await app.services.ingestor.ingest({ source: 'mbox', raw, userIds, ...extra });
      return first!.messageId;
    },
  };
}
