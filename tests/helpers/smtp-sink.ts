/**
 * Postfix's smtp-sink as a remote MX on a free 127.0.0.1 port, dumping each transaction to a file
 * (envelope as X-Helo-Args / X-Mail-Args / X-Rcpt-Args lines). Flags inject failures:
 * `-r rcpt` soft 4xx, `-f rcpt` hard 5xx, `-q data` dropped connection (TESTING.md §2).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { tempDir } from './deps.js';

type Teardown = { teardown(fn: () => unknown): void };

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, host, resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

export async function waitForPort(port: number, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => (c.destroy(), resolve(true)));
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} never opened`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function waitFor(check: () => boolean | Promise<boolean>, ms = 3000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what} not met in time`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface SinkDump {
  helo: string;
  mailFrom: string;
  rcpt: string[];
  text: string;
}

export interface Sink {
  port: number;
  /** dumped transactions */
  dumps(): SinkDump[];
  stop(): Promise<void>;
}

export async function startSink(t: Teardown, flags: string[] = [], port?: number): Promise<Sink> {
  const dir = tempDir('cal-sink-');
  fs.chmodSync(dir, 0o777);
  const p = port ?? (await freePort());
  const asRoot = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child: ChildProcess = spawn('/usr/sbin/smtp-sink', [...asRoot, '-d', `${dir}/%H%M%S.`, '-h', 'sink.test', ...flags, `127.0.0.1:${p}`, '64'], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      child.kill('SIGKILL');
    }
  };
  t.teardown(async () => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await waitForPort(p);
  return {
    port: p,
    stop,
    dumps: () =>
      fs.readdirSync(dir).map((f) => {
        const text = fs.readFileSync(path.join(dir, f), 'utf8');
        const header = (name: string) => [...text.matchAll(new RegExp(`^${name}: (.*)$`, 'gm'))].map((m) => m[1]!);
        return { helo: header('X-Helo-Args')[0] ?? '', mailFrom: header('X-Mail-Args')[0] ?? '', rcpt: header('X-Rcpt-Args'), text };
      }),
  };
}
