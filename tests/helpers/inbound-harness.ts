/**
 * Starts the inbound MX on 127.0.0.1, port 0, with in-memory handlers: a set of local mailboxes
 * under caliopen.test, deliveries pushed to an array, and switches to make the handlers fail or hang.
 * The server and its temp dir are torn down with the test.
 */
import fs from 'node:fs';
import os from 'node:os';
import { loadConfig, type Config } from '../../server/config.js';
import { createLogger } from '../../server/log.js';
import type { Envelope, TransportInfo } from '../../server/mail/types.js';
import { createInboundServer, loadOrCreateTlsCert, type InboundHandlers, type TlsMaterial } from '../../server/smtp/index.js';

export const HOSTNAME = 'mx.caliopen.test';
export const OUR_DOMAIN = 'caliopen.test';
export const LOCAL = ['alice@caliopen.test', 'bob@caliopen.test', 'carol@caliopen.test', 'dave@caliopen.test'];

export interface Delivered {
  raw: Buffer;
  envelope: Envelope;
  transport: TransportInfo;
  receivedAt: Date;
}

export interface Harness {
  port: number;
  config: Config;
  delivered: Delivered[];
  logLines: string[];
  /** Set to make the next deliver() calls reject with it. */
  deliverError: Error | null;
  /** Set to make deliver() wait for this promise before storing (durability ordering tests). */
  deliverGate: Promise<void> | null;
  classifyError: Error | null;
}

interface TeardownTarget {
  teardown(fn: () => unknown): void;
}

export function makeTempDir(): string {
  return fs.mkdtempSync(os.tmpdir() + '/cal-');
}

/** One certificate per test file: RSA generation costs about a second on a small box. */
export async function testTlsMaterial(t: TeardownTarget): Promise<TlsMaterial> {
  const dir = makeTempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({}, { dataDir: dir, hostname: HOSTNAME }, dir);
  return loadOrCreateTlsCert(config, dir);
}

export async function startInbound(
  t: TeardownTarget,
  tls: TlsMaterial,
  smtp: Partial<Config['smtp']> = {},
): Promise<Harness> {
  const dir = makeTempDir();
  const config = loadConfig({}, { dataDir: dir, hostname: HOSTNAME, logLevel: 'info', smtp }, dir);
  const h: Harness = { port: 0, config, delivered: [], logLines: [], deliverError: null, deliverGate: null, classifyError: null };
  const handlers: InboundHandlers = {
    async classifyRecipient(address) {
      if (h.classifyError) throw h.classifyError;
      if (LOCAL.includes(address.toLowerCase())) return 'local';
      return address.toLowerCase().endsWith('@' + OUR_DOMAIN) ? 'unknown' : 'foreign';
    },
    async deliver(msg) {
      if (h.deliverGate) await h.deliverGate;
      if (h.deliverError) throw h.deliverError;
      h.delivered.push(msg);
    },
  };
  const log = createLogger('info', {}, (line) => h.logLines.push(line));
  const server = createInboundServer({ config, log, handlers, tls });
  h.port = await server.listen(0, '127.0.0.1');
  t.teardown(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return h;
}
