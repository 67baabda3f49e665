/**
 * The real appliance as a child process (`caliopen setup`, `caliopen start`, `caliopen import`),
 * as an operator runs it. Like tests/helpers/appliance-process.ts, but it can pass node flags
 * (--cpu-prof is not allowed in NODE_OPTIONS) and registers every process for cleanup.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { caliopenBin, repoRoot } from '../../tests/helpers/cli.js';
import { runTimed, startChild, stopChild } from './common.js';

export { repoRoot };

export const DOMAIN = 'example.test';
export const ADMIN = { username: 'alice', password: 'bench password 123', address: 'alice@example.test' };

export function applianceEnv(dataDir: string, resolver: string): Record<string, string> {
  return {
    CALIOPEN_DATA_DIR: dataDir,
    CALIOPEN_RESOLVER: resolver,
    CALIOPEN_HOSTNAME: 'mx.example.test',
    CALIOPEN_LOG_LEVEL: 'warn',
  };
}

/** `caliopen setup --domain example.test --admin alice --password-file F` on a fresh data dir. */
export async function setupBox(env: Record<string, string>): Promise<void> {
  const pw = path.join(env.CALIOPEN_DATA_DIR!, 'admin-password');
  fs.mkdirSync(env.CALIOPEN_DATA_DIR!, { recursive: true });
  fs.writeFileSync(pw, ADMIN.password + '\n', { mode: 0o600 });
  const r = await runTimed(process.execPath, [caliopenBin, 'setup', '--domain', DOMAIN, '--admin', ADMIN.username, '--password-file', pw], 60_000, {
    env: { ...process.env, ...env },
    cwd: env.CALIOPEN_DATA_DIR,
  });
  if (r.code !== 0) throw new Error(`caliopen setup failed (${r.code}):\n${r.output}`);
}

export interface Appliance {
  child: ChildProcess;
  pid: number;
  ports: { http: number; smtp: number };
  output(): string;
  /** SIGTERM, as an operator stops it (drains, closes the store, writes a --cpu-prof profile) */
  stop(): Promise<number | null>;
}

/** The installed command (bin/caliopen: node with the memory settings of the unit and the image), not bare bin/caliopen.js. */
export const installedBin = path.join(repoRoot, 'bin', 'caliopen');

export async function startAppliance(env: Record<string, string>, nodeFlags: string[] = [], timeoutMs = 60_000): Promise<Appliance> {
  const { child, exited, output } = startChild(installedBin, ['start'], {
    env: { ...process.env, CALIOPEN_HTTP_PORT: '0', CALIOPEN_SMTP_PORT: '0', CALIOPEN_SUBMISSION_PORT: '0', CALIOPEN_SUBMISSIONS_PORT: '0', CALIOPEN_NODE_FLAGS: nodeFlags.join(' '), ...env },
    cwd: env.CALIOPEN_DATA_DIR,
  });
  const deadline = Date.now() + timeoutMs;
  let ports: { http: number; smtp: number } | null = null;
  while (!ports) {
    const m = output().match(/web http:\/\/localhost:(\d+)\/\s+SMTP port (\d+)/);
    if (m) ports = { http: Number(m[1]), smtp: Number(m[2]) };
    else if (child.exitCode !== null) throw new Error(`appliance exited with ${child.exitCode}:\n${output()}`);
    else if (Date.now() > deadline) throw new Error(`appliance did not start in ${timeoutMs} ms:\n${output()}`);
    else await new Promise((r) => setTimeout(r, 20));
  }
  return {
    child,
    pid: child.pid!,
    ports,
    output,
    async stop() {
      await stopChild(child, exited, 30_000);
      return exited;
    },
  };
}
