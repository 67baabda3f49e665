/**
 * A DNS resolver answering from in-memory zones, for mailauth and delivery code under test.
 * zones: { 'example.test': { TXT: [['v=spf1 ip4:127.0.0.1 -all']], MX: [{exchange, priority}] } }
 */
import { dnsError, type DnsResolver } from '../../server/dns.js';

export type Zones = Record<string, Record<string, unknown[]>>;

export function zoneResolver(zones: Zones = {}): DnsResolver & { zones: Zones; queries: string[] } {
  const queries: string[] = [];
  const fn = (async (name: string, rrtype: string) => {
    const key = name.toLowerCase().replace(/\.$/, '');
    queries.push(`${rrtype} ${key}`);
    const zone = zones[key];
    if (!zone) throw dnsError('ENOTFOUND', key);
    const records = zone[rrtype.toUpperCase()];
    if (!records || records.length === 0) throw dnsError('ENODATA', key);
    return records;
  }) as DnsResolver & { zones: Zones; queries: string[] };
  fn.zones = zones;
  fn.queries = queries;
  return fn;
}
