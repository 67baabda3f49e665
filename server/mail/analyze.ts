/**
 * The CPU-heavy, database-free part of ingest: parse, authenticate (SPF/DKIM/DMARC/ARC), content
 * hash, spam tokens. It runs in a worker thread when the appliance runs (see analyzer.ts), so the
 * main thread keeps up with SMTP sessions and the database while a second core does this.
 */
import type { ParsedMail } from 'mailparser';
import type { AuthResults, IngestSource } from './types.js';
import type { DnsResolver } from '../dns.js';
import { parseMessage, contentHash } from './parse.js';
import { fallbackParse } from './parse-fallback.js';
import { authenticateMessage } from './authenticate.js';
import { tokenize } from '../spam/index.js';

export interface AnalyzeOptions {
  source: IngestSource;
  ip?: string;
  helo?: string;
  mailFrom?: string | null;
  mta: string;
  /** the spam filter's tokens are wanted (default true): not when every recipient's filter is untrained */
  tokens?: boolean;
}

export interface Analysis {
  parsed: ParsedMail;
  hash: string;
  auth: AuthResults | null;
  tokens: string[];
}

export async function analyzeMessage(raw: Buffer, o: AnalyzeOptions, resolver: DnsResolver): Promise<Analysis> {
  const parsed = await parseMessage(raw).catch(() => fallbackParse(raw));
  const auth =
    o.source === 'sent' || o.source === 'local' ? null : await authenticateMessage(raw, { ip: o.ip, helo: o.helo, mailFrom: o.mailFrom ?? null, mta: o.mta, resolver });
  return { parsed, hash: contentHash(raw), auth, tokens: o.source === 'sent' || o.tokens === false ? [] : tokenize(parsed) };
}
