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
  return (name, rrtype) => resolver.resolve(name, rrtype as 'TXT') as Promise<unknown[]>;
}

export function dnsError(code: 'ENOTFOUND' | 'ENODATA', name: string): Error {
  const err = new Error(`queryDns ${code} ${name}`) as Error & { code: string; hostname: string };
  err.code = code;
  err.hostname = name;
  return err;
}
