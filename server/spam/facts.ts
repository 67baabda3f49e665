/**
 * Small facts read off a parsed message (sender, header values, list headers, URL hosts), shared by
 * the tokenizer, the rules and the importance: each is a cheap lookup on what mailparser already built.
 */
import type { AddressObject, HeaderValue, ParsedMail } from 'mailparser';

/** The host of a URL, lower-cased; the part after '@' wins, as browsers do ("http://bank.com@evil.net"). */
export function hostOf(url: string): string | null {
  const rest = url.replace(/^[a-z]+:\/\//i, '');
  const authority = rest.split(/[/?#]/, 1)[0] ?? '';
  const afterAt = authority.slice(authority.lastIndexOf('@') + 1);
  const host = afterAt.startsWith('[') ? afterAt.slice(0, afterAt.indexOf(']') + 1) : afterAt.replace(/:\d*$/, '');
  const clean = host.toLowerCase().replace(/\.$/, '');
  return clean && clean.length <= 253 ? clean : null;
}

// Second-level labels under which registrations happen (example.co.uk); a small list, not the PSL,
// because a close guess is enough for counting and comparing sender domains.
const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'ac', 'edu', 'ne', 'or', 'go', 'gob', 'nic']);

/** The registrable part of a host, approximately: "mail.example.co.uk" → "example.co.uk". */
export function baseDomain(host: string): string {
  const labels = host.split('.');
  if (labels.length <= 2 || /^[\d.]+$/.test(host)) return host;
  const tld = labels[labels.length - 1]!;
  const second = labels[labels.length - 2]!;
  const keep = tld.length === 2 && SECOND_LEVEL.has(second) ? 3 : 2;
  return labels.slice(-keep).join('.');
}

export function firstAddress(obj: AddressObject | AddressObject[] | undefined): { address: string; name: string } | null {
  const list = Array.isArray(obj) ? obj : obj ? [obj] : [];
  for (const o of list) {
    for (const a of o.value) if (a.address && a.address.includes('@')) return { address: a.address.toLowerCase(), name: a.name ?? '' };
  }
  return null;
}

export function senderOf(parsed: ParsedMail): { address: string; domain: string; name: string } | null {
  const from = firstAddress(parsed.from);
  if (!from) return null;
  return { ...from, domain: from.address.slice(from.address.lastIndexOf('@') + 1) };
}

/** A header as plain text, whatever shape mailparser gave it. */
export function headerText(parsed: ParsedMail, name: string): string | null {
  const v = parsed.headers.get(name);
  return v === undefined ? null : valueText(v);
}

function valueText(v: HeaderValue): string | null {
  if (typeof v === 'string') return v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map((x) => valueText(x) ?? '').join(' ');
  if ('text' in v && typeof v.text === 'string') return v.text; // an address header
  if ('value' in v && typeof v.value === 'string') return v.value; // Content-Type and the like
  return null;
}

type ListEntry = { id?: string; name?: string; mail?: string; url?: string } | undefined;

/** mailparser gathers List-* headers under "list": {id, post, unsubscribe, …}. id is null without List-Id. */
export function listHeaders(parsed: ParsedMail): { id: string | null; post: boolean; unsubscribe: boolean } {
  const list = parsed.headers.get('list') as Record<string, ListEntry> | undefined;
  // List-Post: NO (RFC 2369 §3.4) marks an announcement list, where members cannot write
  const post = Boolean(list?.post && (list.post.mail || list.post.url));
  const id = list?.id ? (list.id.id ?? list.id.name ?? '') : null;
  return { id, post, unsubscribe: Boolean(list?.unsubscribe) };
}

/** "0", "1", "2-5", "6-20", "21+" for edges [0, 1, 5, 20]: coarse, so the filter can learn from it. */
export function bucket(n: number, edges: readonly number[]): string {
  let low = 0;
  for (const edge of edges) {
    if (n <= edge) return low === edge ? `${edge}` : `${low}-${edge}`;
    low = edge + 1;
  }
  return `${low}+`;
}
