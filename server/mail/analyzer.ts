/**
 * Runs analyzeMessage() in a worker thread, or inline when threads = 0 (tests with an in-memory
 * DNS resolver, which cannot cross into a worker). A worker that dies is replaced; the messages it
 * held fail with an error (their SMTP sessions answer 451 and the senders retry).
 */
import { Worker } from 'node:worker_threads';
import type { Attachment } from 'mailparser';
import type { DnsResolver } from '../dns.js';
import type { Logger } from '../log.js';
import { analyzeMessage, type Analysis, type AnalyzeOptions } from './analyze.js';

export interface Analyzer {
  analyze(raw: Buffer, opts: AnalyzeOptions): Promise<Analysis>;
  close(): Promise<void>;
}

type Waiter = { resolve: (a: Analysis) => void; reject: (e: Error) => void };

/** Structured clone turns Buffers into Uint8Arrays; the rest of ingest expects Buffers. */
function rehydrate(a: Analysis): Analysis {
  for (const att of a.parsed.attachments as Attachment[]) {
    const c = att.content as unknown as Uint8Array;
    if (!Buffer.isBuffer(c)) att.content = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
  }
  return a;
}

export function createAnalyzer(opts: { threads: number; resolver: DnsResolver; resolverAddress?: string; log: Logger }): Analyzer {
  if (opts.threads <= 0) {
    return { analyze: (raw, o) => analyzeMessage(raw, o, opts.resolver), close: async () => {} };
  }
  const waiting = new Map<number, Waiter>();
  let nextId = 0;
  let worker: Worker;
  let closing = false;
  // A worker that cannot even start (say, a broken install) must not be restarted forever:
  // after a few failures in a row without one answer, analysis goes on inline.
  let failuresInARow = 0;
  let inline = false;
  const start = () => {
    worker = new Worker(new URL('./analyze-worker-boot.js', import.meta.url), { workerData: { resolver: opts.resolverAddress } });
    worker.on('message', (m: { id: number; analysis?: Analysis; error?: string }) => {
      failuresInARow = 0;
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.analysis) w?.resolve(rehydrate(m.analysis));
      else w?.reject(new Error(m.error ?? 'analysis failed'));
    });
    worker.on('error', (err) => opts.log.error('analyzer worker failed', { err }));
    worker.on('exit', () => {
      for (const w of waiting.values()) w.reject(new Error('analyzer worker exited'));
      waiting.clear();
      if (closing) return;
      if (++failuresInARow >= 3) {
        inline = true;
        opts.log.error('analyzer worker keeps failing; analysing on the main thread');
      } else start();
    });
  };
  start();
  return {
    analyze(raw, o) {
      if (inline) return analyzeMessage(raw, o, opts.resolver);
      return new Promise<Analysis>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, raw, opts: o });
      });
    },
    async close() {
      closing = true;
      if (!inline) await worker.terminate();
    },
  };
}
