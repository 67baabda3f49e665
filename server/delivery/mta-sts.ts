/**
 * MTA-STS (RFC 8461): a recipient domain may require that mail reaches it only over TLS, with a
 * certificate valid for the MX name, and only through the MX hosts it lists. This module finds
 * and caches a domain's policy (table mta_sts_policies) and matches MX names against it; it does
 * not connect anywhere itself (the transport applies the policy to its sessions).
 */
import type { Deps } from '../deps.js';

export type MtaStsMode = 'enforce' | 'testing' | 'none';

export interface MtaStsPolicy {
  domain: string;
  /** the id of the TXT record the policy was fetched under */
  id: string;
  mode: MtaStsMode;
  /** MX patterns: host names, or "*.example.org" for exactly one more label */
  mx: string[];
  /** seconds */
  maxAge: number;
  /** ms since epoch */
  fetchedAt: number;
}

export type MtaStsDeps = Pick<Deps, 'dns' | 'fetch' | 'db' | 'readDb' | 'clock' | 'log'>;

const MAX_AGE_LIMIT = 31_557_600; // RFC 8461 §3.2: max_age is at most one year
const FETCH_TIMEOUT_MS = 10_000;
const HOST_RE = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function txtText(record: unknown): string {
  return Array.isArray(record) ? record.map(String).join('') : String(record);
}

/**
 * RFC 8461 §3.1: the TXT record at _mta-sts.<domain>, "v=STSv1; id=<1-32 alphanumerics>".
 * Records not starting with v=STSv1 are ignored; more than one STSv1 record means no policy.
 */
export function parseStsRecord(records: unknown[]): { id: string } | null {
  const sts = records.map(txtText).filter((r) => /^v=STSv1(;|$)/.test(r.trim()));
  if (sts.length !== 1) return null;
  const fields = new Map<string, string>();
  for (const part of sts[0]!.split(';')) {
    const m = part.trim().match(/^([A-Za-z0-9_.-]+)=(.*)$/);
    if (m && !fields.has(m[1]!)) fields.set(m[1]!, m[2]!.trim());
  }
  const id = fields.get('id');
  return id && /^[A-Za-z0-9]{1,32}$/.test(id) ? { id } : null;
}

/** RFC 8461 §3.2: "key: value" lines; version, mode and max_age required, mx required unless mode none. */
export function parseStsPolicy(body: string): { mode: MtaStsMode; mx: string[]; maxAge: number } | { error: string } {
  const fields = new Map<string, string>();
  const mx: string[] = [];
  for (const line of body.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const m = line.match(/^([A-Za-z0-9_.-]+):[ \t]*(.*?)[ \t]*$/);
    if (!m) return { error: `malformed policy line "${line.slice(0, 60)}"` };
    if (m[1] === 'mx') mx.push(m[2]!.toLowerCase().replace(/\.$/, ''));
    else if (!fields.has(m[1]!)) fields.set(m[1]!, m[2]!); // a repeated field: the first one counts
  }
  if (fields.get('version') !== 'STSv1') return { error: 'version is not STSv1' };
  const mode = fields.get('mode');
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') return { error: `unknown mode "${mode ?? ''}"` };
  const maxAgeText = fields.get('max_age') ?? '';
  if (!/^\d{1,10}$/.test(maxAgeText) || Number(maxAgeText) > MAX_AGE_LIMIT) return { error: `invalid max_age "${maxAgeText}"` };
  for (const pattern of mx) {
    if (!HOST_RE.test(pattern.replace(/^\*\./, ''))) return { error: `invalid mx pattern "${pattern}"` };
  }
  if (mode !== 'none' && mx.length === 0) return { error: 'no mx pattern' };
  return { mode, mx, maxAge: Number(maxAgeText) };
}

/** RFC 8461 §4.1: "*.example.org" stands for exactly one leftmost label; names compare case-insensitively. */
export function mxMatchesPattern(host: string, pattern: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (!p.startsWith('*.')) return h === p;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === p.slice(2);
}

export function mxAllowed(host: string, policy: Pick<MtaStsPolicy, 'mx'>): boolean {
  return policy.mx.some((p) => mxMatchesPattern(host, p));
}

interface PolicyRow {
  domain: string;
  policy_id: string;
  mode: string;
  mx_json: string;
  max_age: number;
  fetched_at: number;
}

function fromRow(row: PolicyRow): MtaStsPolicy {
  return { domain: row.domain, id: row.policy_id, mode: row.mode as MtaStsMode, mx: JSON.parse(row.mx_json) as string[], maxAge: Number(row.max_age), fetchedAt: Number(row.fetched_at) };
}

async function readCached(deps: MtaStsDeps, domain: string): Promise<MtaStsPolicy | null> {
  const row = await deps.readDb<PolicyRow>('mta_sts_policies').where({ domain }).first();
  return row ? fromRow(row) : null;
}

async function fetchPolicy(deps: MtaStsDeps, domain: string, id: string): Promise<MtaStsPolicy | { error: string }> {
  // RFC 8461 §3.3: HTTPS only, fixed host and path, no redirects (the fetcher follows none), 200 only
  const url = `https://mta-sts.${domain}/.well-known/mta-sts.txt`;
  let res: Awaited<ReturnType<MtaStsDeps['fetch']>>;
  try {
    res = await deps.fetch(url, { timeoutMs: FETCH_TIMEOUT_MS });
  } catch (err) {
    return { error: `fetching ${url} failed: ${(err as Error).message}` };
  }
  if (res.status !== 200) return { error: `${url} answered HTTP ${res.status}` };
  const type = Object.entries(res.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  if (type && !/^text\/plain\b/i.test(type)) return { error: `${url} is ${type}, not text/plain` };
  const parsed = parseStsPolicy(res.body);
  if ('error' in parsed) return { error: `policy of ${domain}: ${parsed.error}` };
  return { domain, id, ...parsed, fetchedAt: deps.clock.now().getTime() };
}

async function store(deps: MtaStsDeps, p: MtaStsPolicy): Promise<void> {
  await deps
    .db('mta_sts_policies')
    .insert({ domain: p.domain, policy_id: p.id, mode: p.mode, mx_json: JSON.stringify(p.mx), max_age: p.maxAge, fetched_at: p.fetchedAt })
    .onConflict('domain')
    .merge();
}

/**
 * The policy in force for a domain, or null (deliver as without MTA-STS). A cached policy is
 * reused while its max_age runs and the TXT id is unchanged; it also stays in force when the TXT
 * record disappears or the new policy cannot be fetched (§5.1: only a policy in mode none or its
 * expiry withdraws it), so an attacker who blocks DNS or HTTPS cannot downgrade us.
 */
export async function getMtaStsPolicy(deps: MtaStsDeps, domain: string): Promise<MtaStsPolicy | null> {
  const name = domain.toLowerCase().replace(/\.$/, '');
  const cached = await readCached(deps, name);
  const now = deps.clock.now().getTime();
  const fresh = cached && now < cached.fetchedAt + cached.maxAge * 1000 ? cached : null;
  let record: { id: string } | null = null;
  try {
    record = parseStsRecord(await deps.dns(`_mta-sts.${name}`, 'TXT'));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'ENOTFOUND' && code !== 'ENODATA') deps.log.warn('mta-sts: TXT lookup failed', { domain: name, error: code });
  }
  if (!record) return fresh;
  if (fresh && fresh.id === record.id) return fresh;
  const fetched = await fetchPolicy(deps, name, record.id);
  if ('error' in fetched) {
    deps.log.warn('mta-sts: policy not fetched', { domain: name, error: fetched.error, usingCached: !!fresh });
    return fresh;
  }
  await store(deps, fetched);
  return fetched;
}
