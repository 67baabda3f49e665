/**
 * Where mail for a domain goes: its MX hosts in preference order (RFC 5321 §5.1) and the
 * addresses of one host, all through the injected resolver (deps.dns), never the system one, so
 * tests and a lab point delivery wherever they want. Failures are values: a DNS verdict that will
 * not change (NXDOMAIN, null MX) is permanent, anything else (timeouts, SERVFAIL) is temporary.
 */
import net from 'node:net';
import type { DnsResolver } from '../dns.js';
import type { RecipientStatus } from './types.js';

/** A result that ends the attempt for every recipient of a job. */
export interface Failure {
  status: Exclude<RecipientStatus, 'delivered'>;
  code: string | null;
  response: string;
}

export interface MxHost {
  /** host name, lower-case, without the trailing dot */
  name: string;
  priority: number;
}

export type MxResult = { hosts: MxHost[]; implicit: boolean } | { failure: Failure };
/** nonexistent: the name definitely has no address (NXDOMAIN or no A/AAAA), as opposed to a lookup failure */
export type AddressResult = { addresses: string[] } | { failure: Failure; nonexistent: boolean };

const NO_ANSWER = new Set(['ENODATA', 'ENOTFOUND']);

function errCode(err: unknown): string {
  return String((err as { code?: unknown })?.code ?? 'EUNKNOWN');
}

function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** RFC 5321 §5.1: lowest preference first; hosts of equal preference in random order. */
export function orderMx(records: MxHost[], random: () => number = Math.random): MxHost[] {
  const byPriority = new Map<number, MxHost[]>();
  for (const r of records) byPriority.set(r.priority, [...(byPriority.get(r.priority) ?? []), r]);
  return [...byPriority.keys()].sort((a, b) => a - b).flatMap((p) => shuffle(byPriority.get(p)!, random));
}

export async function resolveMx(dns: DnsResolver, domain: string, random: () => number = Math.random): Promise<MxResult> {
  const name = normalizeName(domain);
  let answers: unknown[];
  try {
    answers = await dns(name, 'MX');
  } catch (err) {
    const code = errCode(err);
    // RFC 5321 §5.1: no MX records, the domain itself is the implicit MX (with priority 0)
    if (code === 'ENODATA') return { hosts: [{ name, priority: 0 }], implicit: true };
    // RFC 3463 §3.2 X.1.2: the destination domain does not exist
    if (code === 'ENOTFOUND') return { failure: { status: 'perm_fail', code: '550 5.1.2', response: `5.1.2 domain ${name} does not exist (NXDOMAIN)` } };
    return { failure: { status: 'temp_fail', code: null, response: `DNS lookup of the MX of ${name} failed (${code}); will retry` } };
  }
  const records = answers
    .map((a) => a as { exchange?: unknown; priority?: unknown })
    .filter((a) => typeof a?.exchange === 'string')
    .map((a) => ({ name: normalizeName(a.exchange as string), priority: Number(a.priority) || 0 }));
  // RFC 7505 §3: a single MX with an empty exchange ("." on the wire) says the domain takes no mail
  if (records.length === 1 && records[0]!.name === '') {
    return { failure: { status: 'perm_fail', code: '556 5.1.10', response: `5.1.10 ${name} does not accept mail (null MX, RFC 7505)` } };
  }
  const hosts = records.filter((r) => r.name !== '');
  if (hosts.length === 0) return { hosts: [{ name, priority: 0 }], implicit: true };
  return { hosts: orderMx(hosts, random), implicit: false };
}

/**
 * The addresses of a host: A records first, then AAAA (we connect over IPv4 first; the appliance
 * is often on a home IPv4 line). An IP literal is its own address.
 */
export async function resolveHost(dns: DnsResolver, host: string): Promise<AddressResult> {
  const name = normalizeName(host.replace(/^\[|\]$/g, ''));
  if (net.isIP(name)) return { addresses: [name] };
  const addresses: string[] = [];
  const errors: string[] = [];
  const answers = await Promise.allSettled([dns(name, 'A'), dns(name, 'AAAA')]);
  for (const a of answers) {
    if (a.status === 'rejected') errors.push(errCode(a.reason));
    else for (const ip of a.value) if (typeof ip === 'string' && net.isIP(ip)) addresses.push(ip);
  }
  if (addresses.length > 0) return { addresses };
  if (errors.length > 0 && errors.every((c) => NO_ANSWER.has(c))) {
    const why = errors.includes('ENOTFOUND') ? 'NXDOMAIN' : 'no A/AAAA records';
    return { failure: { status: 'temp_fail', code: null, response: `host ${name} has no address (${why})` }, nonexistent: true };
  }
  const why = errors.filter((c) => !NO_ANSWER.has(c)).join(', ') || 'no usable answer';
  return { failure: { status: 'temp_fail', code: null, response: `DNS lookup of ${name} failed (${why}); will retry` }, nonexistent: false };
}

/** RFC 5321 §5.1: an implicit MX (no MX records) without an address cannot receive mail; RFC 3463 X.4.4. */
export function noRouteFailure(domain: string): Failure {
  return { status: 'perm_fail', code: '550 5.4.4', response: `5.4.4 ${normalizeName(domain)} has no MX and no address records` };
}
