/**
 * Starts the real appliance (`caliopen start`) as a child process, waits for its ports, and can
 * kill it with SIGKILL: what durability tests and benchmarks need. Nothing here is mocked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { caliopenBin } from './cli.js';

export interface ApplianceProcess {
  child: ChildProcess;
  ports: { http: number; smtp: number };
  output(): string;
  kill9(): Promise<void>;
  stop(): Promise<number | null>;
}

export async function startAppliance(env: Record<string, string>, timeoutMs = 30_000): Promise<ApplianceProcess> {
  const child = spawn(process.execPath, [caliopenBin, 'start'], {
    env: { ...process.env, CALIOPEN_HTTP_PORT: '0', CALIOPEN_SMTP_PORT: '0', CALIOPEN_SUBMISSION_PORT: '0', CALIOPEN_SUBMISSIONS_PORT: '0', CALIOPEN_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ports = await new Promise<{ http: number; smtp: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('appliance did not start in time:\n' + out)), timeoutMs);
    const check = () => {
      const m = out.match(/web http:\/\/localhost:(\d+)\/\s+SMTP port (\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ http: Number(m[1]), smtp: Number(m[2]) });
      }
    };
    child.stdout!.on('data', check);
    exited.then((code) => reject(new Error(`appliance exited with ${code}:\n${out}`)));
  });
  return {
    child,
    ports,
    output: () => out,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
