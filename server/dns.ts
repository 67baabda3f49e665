/**
 * DNS comes in through deps. The shape is mailauth's resolver: (name, rrtype) → records, throwing
 * errors with Node's codes (ENOTFOUND, ENODATA) when there is no answer. Tests inject a zone
 * resolver (tests/helpers/dns.ts) or point CALIOPEN_RESOLVER at a DNS server on loopback.
 */
import { promises as dnsPromises } from 'node:dns';

export type DnsResolver = (name: string, rrtype: string) => Promise<unknown[]>;

export function createDnsResolver(server?: string, timeoutMs = 3000): DnsResolver {
  const resolver = new dnsPromises.Resolver({ timeout: timeoutMs, tries: 2 });
  if (server) resolver.setServers([server]);
  return cachedResolver((name, rrtype) => resolver.resolve(name, rrtype as 'TXT') as Promise<unknown[]>);
}

/** Answers that mean "there is nothing": cached like records (RFC 2308 negative caching). */
const NEGATIVE = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * A short cache in front of a resolver: a busy MX asks the same SPF and DMARC records for every
 * message of a sender. Answers and definite negatives are kept for ttlMs (we do not see record
 * TTLs through Node's API, so this stays well under common ones); failures (timeouts, SERVFAIL)
 * are not kept, so they are retried.
 */
export function cachedResolver(inner: DnsResolver, ttlMs = 60_000, maxEntries = 5_000, now: () => number = Date.now): DnsResolver {
  const cache = new Map<string, { at: number; answer: Promise<unknown[]> }>();
  return (name, rrtype) => {
    const key = `${rrtype} ${name.toLowerCase()}`;
    const hit = cache.get(key);
    if (hit && now() - hit.at < ttlMs) return hit.answer;
    const answer = inner(name, rrtype);
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(key, { at: now(), answer });
    answer.catch((err: { code?: string }) => {
      if (!NEGATIVE.has(err?.code ?? '')) cache.delete(key);
    });
    return answer;
  };
}

export function dnsError(code: 'ENOTFOUND' | 'ENODATA', name: string): Error {
  const err = new Error(`queryDns ${code} ${name}`) as Error & { code: string; hostname: string };
  err.code = code;
  err.hostname = name;
  return err;
}
