/**
 * The box's only outgoing HTTPS client (MTA-STS policies; later WKD and autoconfig), injected
 * through deps so tests serve answers from loopback. Bounded: a time limit and a body cap, no
 * redirects (RFC 8461 §3.3 forbids following them for MTA-STS).
 */
import https from 'node:https';
import type { HttpsFetcher } from './delivery/types.js';

const MAX_BODY = 64 * 1024;

export const httpsFetch: HttpsFetcher = (url, opts = {}) =>
  new Promise((resolve, reject) => {
    const req = https.get(url, { timeout: opts.timeoutMs ?? 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy(new Error(`response from ${new URL(url).host} larger than ${MAX_BODY} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, body: raw.toString('utf8'), headers, raw });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out fetching ${new URL(url).host}`)));
    req.on('error', reject);
  });
