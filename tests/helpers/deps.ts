/** Test deps: a temporary data dir, a fake clock, an in-memory DNS and no logs. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../server/config.js';
import { createDeps, type Deps } from '../../server/deps.js';
import { FakeClock } from '../../server/clock.js';
import { silentLogger } from '../../server/log.js';
import { zoneResolver, type Zones } from './dns.js';
import { closeDeps } from '../../server/deps.js';

export function tempDir(prefix = 'cal-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export function testConfig(dataDir: string, overrides: Record<string, unknown> = {}): Config {
  return loadConfig(
    { CALIOPEN_DATA_DIR: dataDir, CALIOPEN_HTTP_PORT: '0', CALIOPEN_SMTP_PORT: '0', CALIOPEN_HOSTNAME: 'mx.example.test' },
    { smtp: { host: '127.0.0.1' }, http: { host: '127.0.0.1' }, submission: { port: 0, implicitTlsPort: 0 }, ...overrides },
    dataDir,
  );
}

export interface TestDeps extends Deps {
  clock: FakeClock;
  dataDir: string;
  close(): Promise<void>;
}

export async function testDeps(zones: Zones = {}): Promise<TestDeps> {
  const dataDir = tempDir();
  const clock = new FakeClock('2026-03-01T10:00:00Z');
  const deps = await createDeps(testConfig(dataDir), { clock, dns: zoneResolver(zones), log: silentLogger });
  return {
    ...deps,
    clock,
    dataDir,
    close: async () => {
      await closeDeps(deps);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A small RFC 5322 message; fields default to a plain message from carol to alice. */
export function makeMessage(f: {
  from?: string;
  to?: string;
  cc?: string;
  subject?: string;
  body?: string;
  messageId?: string;
  date?: string;
  headers?: string[];
} = {}): Buffer {
  const lines = [
    `From: ${f.from ?? 'Carol <carol@remote.test>'}`,
    `To: ${f.to ?? 'Alice <alice@example.test>'}`,
    ...(f.cc ? [`Cc: ${f.cc}`] : []),
    `Subject: ${f.subject ?? 'Hello'}`,
    `Date: ${f.date ?? 'Sun, 01 Mar 2026 09:00:00 +0000'}`,
    `Message-ID: <${f.messageId ?? Math.random().toString(36).slice(2) + '@remote.test'}>`,
    ...(f.headers ?? []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    f.body ?? 'Hello Alice,\r\nhow are you?',
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}
