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
import { analyzeWorkerScript, BOOT_WITH_TSX } from './analyze-worker-script.js';

export interface Analyzer {
  analyze(raw: Buffer, opts: AnalyzeOptions): Promise<Analysis>;
  close(): Promise<void>;
}

/**
 * The worker's V8 heap. Its garbage is young (a parsed message lives a few milliseconds), so a
 * small young generation keeps its RSS down at little CPU cost (bench/README.md, ingest Results).
 * The old generation keeps V8's default limit: a 50 MB message (smtp.maxMessageSize) parses into
 * strings several times its size, and running out kills the worker (the message gets a 451).
 */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 8 };

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
  let worker: Promise<Worker>;
  let closing = false;
  // A worker that cannot even start (say, a broken install) must not be restarted forever:
  // after a few failures in a row without one answer, analysis goes on inline.
  let failuresInARow = 0;
  let inline = false;
  // Made once; a replacement worker reuses it.
  const script = analyzeWorkerScript().catch((err: unknown) => {
    opts.log.warn('analyzer worker not bundled; it loads through tsx', { err });
    return BOOT_WITH_TSX;
  });
  const wire = (w: Worker): Worker => {
    w.on('message', (m: { id: number; analysis?: Analysis; error?: string }) => {
      failuresInARow = 0;
      const waiter = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.analysis) waiter?.resolve(rehydrate(m.analysis));
      else waiter?.reject(new Error(m.error ?? 'analysis failed'));
    });
    w.on('error', (err) => opts.log.error('analyzer worker failed', { err }));
    w.on('exit', () => {
      for (const waiter of waiting.values()) waiter.reject(new Error('analyzer worker exited'));
      waiting.clear();
      if (closing) return;
      if (++failuresInARow >= 3) {
        inline = true;
        opts.log.error('analyzer worker keeps failing; analysing on the main thread');
      } else start();
    });
    return w;
  };
  const start = () => {
    worker = script.then((url) => wire(new Worker(url, { workerData: { resolver: opts.resolverAddress }, resourceLimits: WORKER_HEAP })));
    worker.catch((err: unknown) => {
      inline = true;
      opts.log.error('analyzer worker cannot start; analysing on the main thread', { err });
    });
  };
  start();
  return {
    analyze(raw, o) {
      if (inline) return analyzeMessage(raw, o, opts.resolver);
      return new Promise<Analysis>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        worker.then((w) => w.postMessage({ id, raw, opts: o }), reject);
      });
    },
    async close() {
      closing = true;
      if (!inline) await (await worker).terminate();
    },
  };
}
