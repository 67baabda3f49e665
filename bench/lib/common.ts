/**
 * Shared plumbing of the benchmarks: temp dirs and child processes that are always cleaned up
 * (also on error and Ctrl-C), free ports, RSS/CPU sampling from /proc, percentiles and tables.
 * Nothing here knows about Caliopen; the run.ts scripts do.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// ---------------------------------------------------------------------------------------------
// Cleanup registry: a benchmark that dies half-way must not leave a Dovecot or an appliance
// running, nor a gigabyte of temp files, so every resource registers how to undo itself.

type Undo = () => Promise<void> | void;
const undos: Array<{ name: string; fn: Undo }> = [];

export function onCleanup(name: string, fn: Undo): () => void {
  const entry = { name, fn };
  undos.push(entry);
  return () => {
    const i = undos.indexOf(entry);
    if (i >= 0) undos.splice(i, 1);
  };
}

export async function cleanupAll(): Promise<void> {
  // Reverse order: processes (registered after their dirs) stop before their dirs go.
  while (undos.length) {
    const { name, fn } = undos.pop()!;
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`cleanup of ${name} failed: ${(err as Error).message}\n`);
    }
  }
}

let signalsHooked = false;
/** Runs main, then cleans up whatever happened; Ctrl-C and SIGTERM clean up too. */
export async function runBench(main: () => Promise<void>): Promise<void> {
  if (!signalsHooked) {
    signalsHooked = true;
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        process.stderr.write(`\n${sig}: cleaning up\n`);
        void cleanupAll().finally(() => process.exit(130));
      });
    }
  }
  try {
    await main();
  } catch (err) {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  } finally {
    await cleanupAll();
  }
}

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  onCleanup(`rm ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts a child, registered for cleanup: SIGTERM, then SIGKILL after a grace period. */
export function startChild(cmd: string, args: string[], opts: SpawnOptions = {}): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  // Keep only the tail: a chatty child must not grow our own RSS during a long run.
  const keep = (c: Buffer) => {
    out += c.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
    child.once('error', (err) => {
      out += `spawn error: ${err.message}\n`;
      resolve(-1);
    });
  });
  onCleanup(`${cmd} pid ${child.pid}`, () => stopChild(child, exited));
  return { child, exited, output: () => out };
}

export async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** Runs a command to completion within timeoutMs (killed past it); wall time from spawn to exit. */
export async function runTimed(
  cmd: string,
  args: string[],
  timeoutMs: number,
  opts: SpawnOptions = {},
  onStdout?: (chunk: Buffer) => void,
): Promise<{ code: number | null; ms: number; output: string }> {
  const started = performance.now();
  const { child, exited, output } = startChild(cmd, args, opts);
  if (onStdout) child.stdout?.on('data', onStdout);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  const ms = performance.now() - started;
  clearTimeout(timer);
  if (ms >= timeoutMs) throw new Error(`${cmd} timed out after ${timeoutMs} ms:\n${output()}`);
  return { code, ms, output: output() };
}

// ---------------------------------------------------------------------------------------------
// Ports

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(20);
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// /proc sampling

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null; // the process is gone
  }
}

/** utime+stime of a process in seconds (fields 14 and 15 of /proc/<pid>/stat, in clock ticks). */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/**
 * CPU seconds per thread of a process (utime+stime of /proc/PID/task/TID/stat). Node 20 names
 * every thread "node", so only the main one (tid = pid) can be told apart by name; a worker thread
 * that does real work shows up as the busiest of the others, the rest being the libuv pool
 * (sqlite3 statements, fsync, file I/O) and V8's GC/compiler helpers.
 */
export function threadCpu(pid: number): Map<number, number> | null {
  try {
    const out = new Map<number, number>();
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const s = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) / 100);
    }
    return out;
  } catch {
    return null;
  }
}

/**
 * Seconds a thread spent on a CPU and runnable but waiting for one (/proc/.../schedstat): on a
 * 2-core box shared with other jobs the second number says how much of the wall time the load
 * of the machine, not the code, took.
 */
export function schedstat(pid: number, tid = pid): { onCpu: number; waiting: number } | null {
  try {
    const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return { onCpu: run! / 1e9, waiting: wait! / 1e9 };
  } catch {
    return null;
  }
}

/** Per-thread CPU between two threadCpu() readings: the main thread, the busiest other, the rest. */
export function threadCpuDelta(pid: number, before: Map<number, number> | null, after: Map<number, number> | null): { main: number; busiestOther: number; rest: number } | null {
  if (!before || !after) return null;
  const d = [...after].map(([tid, sec]) => [tid, sec - (before.get(tid) ?? 0)] as const);
  const main = d.find(([tid]) => tid === pid)?.[1] ?? 0;
  const others = d.filter(([tid]) => tid !== pid).map(([, sec]) => sec).sort((a, b) => b - a);
  return { main, busiestOther: others[0] ?? 0, rest: others.slice(1).reduce((a, b) => a + b, 0) };
}

export interface RssSampler {
  /**
   * stops sampling; returns peak VmRSS seen, the last VmHWM read (kernel's own peak) and the peak
   * VmRSS within each tenth of the sampled time (growth vs. plateau), in MB
   */
  stop(): { peakRssMb: number; hwmMb: number | null; samples: number; peakByTenth: number[] };
}

/** Samples VmRSS every intervalMs; VmHWM too, because a child that exits takes its HWM with it. */
export function sampleRss(pid: number, intervalMs = 100): RssSampler {
  let peak = 0;
  let hwm: number | null = null;
  let samples = 0;
  const series: Array<[number, number]> = [];
  const t0 = performance.now();
  const tick = () => {
    const rss = statusKb(pid, 'VmRSS');
    if (rss !== null) {
      samples++;
      series.push([performance.now() - t0, rss]);
      peak = Math.max(peak, rss);
      hwm = statusKb(pid, 'VmHWM') ?? hwm;
    }
  };
  tick();
  // unref: a run that throws before stop() must not keep the process alive
  const timer = setInterval(tick, intervalMs).unref();
  return {
    stop() {
      tick();
      clearInterval(timer);
      const span = performance.now() - t0;
      const peakByTenth = Array.from({ length: 10 }, () => 0);
      for (const [t, kb] of series) {
        const i = Math.min(9, Math.floor((10 * t) / Math.max(1, span)));
        peakByTenth[i] = Math.max(peakByTenth[i]!, kb / 1024);
      }
      return { peakRssMb: peak / 1024, hwmMb: hwm === null ? null : hwm / 1024, samples, peakByTenth };
    },
  };
}

export function rssMb(pid: number): number | null {
  const kb = statusKb(pid, 'VmRSS');
  return kb === null ? null : kb / 1024;
}

export function duBytes(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) total += fs.statSync(p).size;
    }
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Statistics and output

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]!;
}

export const median = (values: number[]): number => percentile(values, 50);

export function fmt(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A Markdown table: readable in a terminal and pasteable into bench/README.md as is. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line(cells[0]!), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.slice(1).map(line)].join('\n');
}

export function intArg(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} expects a positive integer`);
  return v;
}

/**
 * Where and when: figures from a 2-core box mean little without knowing whether something else ran
 * (the load average at the start is printed with every result).
 */
export function machineInfo(): { date: string; cpus: string; cores: number; memGb: number; node: string; loadavg: string } {
  return {
    date: new Date().toISOString(),
    loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' '),
    cpus: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
}
