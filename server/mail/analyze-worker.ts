/** Worker thread entry: analyses raw messages sent by analyzer.ts. */
import { parentPort, workerData } from 'node:worker_threads';
import { createDnsResolver } from '../dns.js';
import { analyzeMessage, type AnalyzeOptions } from './analyze.js';

const resolver = createDnsResolver((workerData as { resolver?: string }).resolver);

parentPort!.on('message', async (m: { id: number; raw: Uint8Array; opts: AnalyzeOptions }) => {
  try {
    const raw = Buffer.from(m.raw.buffer, m.raw.byteOffset, m.raw.byteLength);
    parentPort!.postMessage({ id: m.id, analysis: await analyzeMessage(raw, m.opts, resolver) });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).message ?? String(err) });
  }
});
