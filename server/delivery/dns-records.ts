/**
 * The DNS records a domain must publish for the box's mail to be accepted elsewhere (MX, SPF, DKIM,
 * DMARC, TLS-RPT), as values and as zone-file lines, and a live check of what the DNS serves now.
 * Looking records up goes through deps.dns, so tests and `caliopen doctor` share one resolver.
 * Publishing them is the operator's job: the box never edits a zone.
 */
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { findDomain } from '../accounts/domains.js';
import { ensureDomainKeys, type DkimPublicKey } from './dkim.js';

export type RecordKind = 'mx' | 'address' | 'spf' | 'dkim' | 'dmarc' | 'tlsrpt';

export interface DnsRecord {
  kind: RecordKind;
  /** owner name, without the trailing dot */
  name: string;
  type: 'MX' | 'TXT' | 'A';
  /** MX: "10 host"; TXT: the whole text; A: a description, the box cannot know its public address */
  value: string;
  /** TXT: the character-strings to publish, none longer than 255 bytes (RFC 1035 §3.3.14) */
  strings?: string[];
  /** ready to paste into a zone file; commented out when it needs the operator's input */
  zoneLine: string;
  note?: string;
  /** useful but not needed for mail to be accepted */
  optional?: boolean;
}

export interface SendingRecords {
  domain: string;
  records: DnsRecord[];
  /** every zoneLine, one per line */
  zone: string;
}

export type CheckStatus = 'ok' | 'missing' | 'differs' | 'error';

export interface RecordCheck {
  record: DnsRecord;
  status: CheckStatus;
  /** what the DNS answered, as text (TXT strings joined) */
  found: string[];
  detail?: string;
}

export type RecordDeps = Pick<Deps, 'db' | 'clock' | 'secrets' | 'config' | 'dns'>;

/**
 * DMARC: p=quarantine with strict alignment. Every message the box sends carries two DKIM signatures
 * of the From domain itself and leaves from its MX (or a relay), so strict alignment (adkim=s,
 * aspf=s, RFC 7489 §3.1) costs nothing and stops subdomains from vouching for the domain.
 * quarantine rather than reject: a mistake while setting up (a record not yet published, a relay
 * that rewrites messages) sends mail to the recipient's spam folder instead of losing it; once the
 * aggregate reports (rua, to postmaster, which every domain of the box accepts) show only aligned
 * mail, the operator can move to p=reject.
 */
function dmarcValue(domain: string): string {
  return `v=DMARC1; p=quarantine; adkim=s; aspf=s; rua=mailto:postmaster@${domain}`;
}

function splitTxt(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255).toString('utf8')); // our records are ASCII
  return out.length ? out : [''];
}

function txt(kind: RecordKind, name: string, value: string, extra: Partial<DnsRecord> = {}): DnsRecord {
  const strings = splitTxt(value);
  const quoted = strings.map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(' ');
  return { kind, name, type: 'TXT', value, strings, zoneLine: `${name}. TXT ${quoted}`, ...extra };
}

function relayHost(relay: string | undefined): string | null {
  if (!relay) return null;
  try {
    return new URL(relay).hostname.toLowerCase() || null;
  } catch {
    return null;
  }
}

/**
 * The name whose SPF record covers a relay's outgoing servers: providers publish it on their own
 * domain (smtp.provider.example → provider.example), seldom on the submission host. This is a
 * hint to check against the provider's documentation, hence the note and the softer ~all.
 */
async function relaySpfName(deps: RecordDeps, host: string): Promise<string | null> {
  const labels = host.split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const name = labels.slice(i).join('.');
    const found = await lookupTxt(deps, name).catch(() => []);
    if (found.some((t) => /^v=spf1(\s|$)/i.test(t))) return name;
  }
  return null;
}

async function spfRecord(deps: RecordDeps, domain: string): Promise<DnsRecord> {
  const host = relayHost(deps.config.relay);
  // RFC 7208 §5.4: "mx" allows the hosts the MX record names, i.e. this box, and nothing else
  if (!host) return txt('spf', domain, 'v=spf1 mx -all', { note: 'only this box (the MX host) sends for the domain' });
  const include = await relaySpfName(deps, host);
  const mechanism = include ? `include:${include}` : `a:${host}`;
  return txt('spf', domain, `v=spf1 mx ${mechanism} ~all`, {
    note:
      `mail leaves through the relay ${host}: ${include ? `${include} publishes an SPF record, included here` : `no SPF record found for it, its address is allowed instead`}; ` +
      'use the include your relay provider documents if it differs. ~all rather than -all while that is not certain: ' +
      'DMARC still passes through the DKIM signatures.',
  });
}

function dkimRecord(domain: string, key: DkimPublicKey): DnsRecord {
  // RFC 6376 §3.6.1; k=ed25519 from RFC 8463 §4.2. k=rsa is the default but stated for readers.
  return txt('dkim', `${key.selector}._domainkey.${domain}`, `v=DKIM1; k=${key.algorithm}; p=${key.publicKey}`);
}

/** The records to publish for one of the box's domains; creates its DKIM keys if it has none yet. */
export async function sendingRecords(deps: RecordDeps, domainName: string): Promise<SendingRecords> {
  const domain = await findDomain(deps.db, domainName);
  if (!domain) throw new AppError('domain_not_found', `${domainName} is not a domain of this box`);
  const d = domain.name;
  const mxHost = deps.config.hostname.toLowerCase().replace(/\.$/, '');
  const keys = await ensureDomainKeys(deps, domain.id, d);
  const records: DnsRecord[] = [
    { kind: 'mx', name: d, type: 'MX', value: `10 ${mxHost}`, zoneLine: `${d}. MX 10 ${mxHost}.` },
    {
      kind: 'address',
      name: mxHost,
      type: 'A',
      value: "this box's public IPv4 address (and AAAA for IPv6)",
      zoneLine: `; ${mxHost}. A <this box's public IPv4 address>`,
      note: 'the MX host must resolve, and to the address mail leaves from: SPF "mx" relies on it',
    },
    await spfRecord(deps, d),
    ...keys.map((k) => dkimRecord(d, k)),
    txt('dmarc', `_dmarc.${d}`, dmarcValue(d)),
    // RFC 8460: reports from senders whose TLS to this box failed
    txt('tlsrpt', `_smtp._tls.${d}`, `v=TLSRPTv1; rua=mailto:postmaster@${d}`, { optional: true }),
  ];
  return { domain: d, records, zone: records.map((r) => r.zoneLine).join('\n') };
}

/** TXT answers as whole texts: a record's strings are concatenated (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
async function lookupTxt(deps: Pick<RecordDeps, 'dns'>, name: string): Promise<string[]> {
  const answers = await deps.dns(name, 'TXT');
  return answers.map((a) => (Array.isArray(a) ? a.map(String).join('') : String(a)));
}

/** tag=value lists (DKIM, DMARC, TLS-RPT): tags lower-cased, spaces dropped (RFC 6376 §3.2). */
function parseTags(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/\s+/g, ''));
  }
  return tags;
}

/**
 * Every tag we ask for is there with the same value; extra tags (pct, fo, t=…) are the operator's
 * choice. `defaults` stand in for tags left out (a DKIM record without k= is an RSA key).
 */
function tagsMatch(expected: string, found: string, caseSensitive: Set<string>, defaults: Record<string, string> = {}): boolean {
  const want = parseTags(expected);
  const got = parseTags(found);
  for (const [k, v] of want) {
    const g = got.get(k) ?? defaults[k];
    if (g === undefined) return false;
    if (caseSensitive.has(k) ? g !== v : g.toLowerCase() !== v.toLowerCase()) return false;
  }
  return true;
}

const normalizeSpf = (s: string): string => s.trim().replace(/\s+/g, ' ').toLowerCase();
const bareName = (s: string): string => s.toLowerCase().replace(/\.$/, '');

function isAbsent(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

async function checkOne(deps: RecordDeps, record: DnsRecord): Promise<RecordCheck> {
  try {
    switch (record.kind) {
      case 'mx': {
        const mx = (await deps.dns(record.name, 'MX')) as Array<{ exchange: string; priority: number }>;
        const found = mx.map((m) => `${m.priority} ${bareName(m.exchange)}`);
        const host = record.value.split(' ')[1]!;
        return { record, found, status: mx.some((m) => bareName(m.exchange) === host) ? 'ok' : 'differs' };
      }
      case 'address': {
        const v4 = await deps.dns(record.name, 'A').catch((e) => (isAbsent(e) ? [] : Promise.reject(e)));
        const v6 = await deps.dns(record.name, 'AAAA').catch((e) => (isAbsent(e) ? [] : Promise.reject(e)));
        const found = [...v4, ...v6].map(String);
        return { record, found, status: found.length ? 'ok' : 'missing' };
      }
      case 'spf': {
        const found = (await lookupTxt(deps, record.name)).filter((t) => /^v=spf1(\s|$)/i.test(t));
        if (found.length === 0) return { record, found, status: 'missing' };
        // RFC 7208 §3.2: two SPF records make every check a permerror
        if (found.length > 1) return { record, found, status: 'differs', detail: 'more than one SPF record: receivers treat that as an error' };
        return { record, found, status: normalizeSpf(found[0]!) === normalizeSpf(record.value) ? 'ok' : 'differs' };
      }
      default: {
        const prefix = { dkim: /^v=DKIM1/i, dmarc: /^v=DMARC1/i, tlsrpt: /^v=TLSRPTv1/i }[record.kind];
        const all = await lookupTxt(deps, record.name);
        // a DKIM key record may leave v= out (RFC 6376 §3.6.1); DMARC and TLS-RPT must start with it
        const found = all.filter((t) => prefix.test(t.trim()) || (record.kind === 'dkim' && /(^|;)\s*p=/.test(t)));
        if (found.length === 0) return { record, found: all, status: all.length ? 'differs' : 'missing' };
        // RFC 6376 §3.6.1: v= defaults to DKIM1 and k= to rsa; p= is base64, so its case matters
        const defaults: Record<string, string> = record.kind === 'dkim' ? { v: 'DKIM1', k: 'rsa' } : {};
        const ok = found.some((t) => tagsMatch(record.value, t, new Set(['p']), defaults));
        return { record, found, status: ok ? 'ok' : 'differs' };
      }
    }
  } catch (err) {
    if (isAbsent(err)) return { record, found: [], status: 'missing' };
    // a timeout or SERVFAIL says nothing about the record: not reported as missing
    return { record, found: [], status: 'error', detail: `lookup failed: ${(err as { code?: string }).code ?? (err as Error).message}` };
  }
}

/** Looks each record up through deps.dns: ok, missing, differs (with what was found) or error. */
export async function checkRecords(deps: RecordDeps, domainName: string): Promise<RecordCheck[]> {
  const { records } = await sendingRecords(deps, domainName);
  return Promise.all(records.map((r) => checkOne(deps, r)));
}
