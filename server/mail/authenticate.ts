/**
 * The authentication stage of ingest: SPF, DKIM, DMARC and ARC verdicts by mailauth, reduced to
 * AuthResults with one plain-words line per verdict for the user. Runs on every inbound message, so
 * it adds no parsing of its own to mailauth's single pass. Never throws: a failure inside mailauth
 * becomes 'temperror' verdicts, the message is still delivered.
 */
import { arc, authenticate, dkimVerify, dmarc } from 'mailauth';
import type { ARCResult, AuthenticateResult, DKIMResult, DNSResolver } from 'mailauth';
import type { DnsResolver } from '../dns.js';
import type { AuthResults } from './types.js';

export interface AuthenticateOptions {
  /** the SMTP client's address; absent for imports, and then SPF is 'none' (there is no IP to check) */
  ip?: string;
  helo?: string;
  /** MAIL FROM; null for the null sender of bounces (SPF then checks the HELO name, RFC 7208 §2.4) */
  mailFrom?: string | null;
  /** this box's host name, written in the Authentication-Results comments */
  mta: string;
  resolver: DnsResolver;
}

type Verdicts = Pick<AuthenticateResult, 'dkim' | 'spf' | 'dmarc' | 'arc'>;

/**
 * `dkim` lists the signatures found, one entry each; an unsigned message has an empty list (and the
 * summary says "not signed").
 */
export async function authenticateMessage(raw: Buffer, opts: AuthenticateOptions): Promise<AuthResults> {
  const resolver = opts.resolver as unknown as DNSResolver;
  const sender = opts.mailFrom || undefined;
  try {
    const verdicts = opts.ip
      ? await authenticate(raw, { ip: opts.ip, helo: opts.helo, sender, mta: opts.mta, resolver, disableBimi: true })
      : await verifyWithoutIp(raw, sender, resolver);
    return toAuthResults(verdicts, sender);
  } catch (err) {
    return failedResults(err);
  }
}

/**
 * authenticate() always runs SPF and would check the literal "undefined" as the client address;
 * an import has no client, so we run mailauth's other checks in the same order it does.
 */
async function verifyWithoutIp(raw: Buffer, sender: string | undefined, resolver: DNSResolver): Promise<Verdicts> {
  const dkim = await dkimVerify(raw, { resolver, sender });
  const arcResult = await arc(dkim.arc as Parameters<typeof arc>[0], { resolver });
  const dkimDomains = dkim.results
    .filter((r) => r.status.result === 'pass')
    .map((r) => ({ id: r.id, domain: r.signingDomain, aligned: !!r.status.aligned, underSized: !!r.status.underSized }));
  const dmarcResult = dkim.headerFrom?.length
    ? await dmarc({ headerFrom: dkim.headerFrom, spfDomains: [], dkimDomains, arcResult, resolver })
    : false;
  return { dkim, spf: false, dmarc: dmarcResult, arc: arcResult };
}

function toAuthResults(v: Verdicts, sender: string | undefined): AuthResults {
  const headerFrom = v.dkim.headerFrom?.[0] ?? null;
  const dkim = v.dkim.results.filter((r) => r.status.result !== 'none').map(dkimEntry);
  // a bracketed address is the HELO literal of a null sender: no domain answered for it
  const spfDomain = v.spf && v.spf.domain && !v.spf.domain.startsWith('[') ? v.spf.domain : null;
  const spf = v.spf ? { result: v.spf.status.result, domain: spfDomain } : { result: 'none', domain: domainOf(sender) };
  const dmarcOut = v.dmarc
    ? { result: v.dmarc.status.result, policy: v.dmarc.policy || null, domain: v.dmarc.domain || null }
    : { result: 'none', policy: null, domain: domainOf(headerFrom ?? undefined) };
  const arcOut = { result: v.arc ? v.arc.status.result : 'none' };
  const summary = [
    ...dkimSummary(dkim),
    spfSummary(spf, !!v.spf),
    dmarcSummary(dmarcOut),
    ...arcSummary(v.arc || null),
  ];
  return { spf, dkim, dmarc: dmarcOut, arc: arcOut, headerFrom, summary };
}

function dkimEntry(r: DKIMResult): AuthResults['dkim'][number] {
  let result: string = r.status.result;
  // RFC 6376 §6.1.3: a body hash mismatch means the signature did not verify (mailauth says neutral)
  if (result === 'neutral' && /body hash did not verify/i.test(r.status.comment ?? '')) result = 'fail';
  return { result, domain: r.signingDomain ?? '', selector: r.selector ?? null, aligned: !!r.status.aligned && result === 'pass' };
}

function domainOf(address: string | undefined): string | null {
  if (!address) return null;
  const at = address.lastIndexOf('@');
  return (at >= 0 ? address.slice(at + 1) : address).toLowerCase() || null;
}

function dkimSummary(dkim: AuthResults['dkim']): string[] {
  if (dkim.length === 0) return ['not signed'];
  return dkim.map((d) => {
    if (d.result === 'pass') return `signed by ${d.domain}, verified${d.aligned ? '' : ' (not the sender’s domain)'}`;
    if (d.result === 'fail') return `signature by ${d.domain} does not verify`;
    return `signature by ${d.domain} could not be checked (${d.result})`;
  });
}

function spfSummary(spf: AuthResults['spf'], checked: boolean): string {
  const domain = spf.domain ?? 'the sender’s domain';
  if (!checked) return 'sending server unknown (imported), SPF not checked';
  switch (spf.result) {
    case 'pass': return `sent from a server allowed by ${domain} (SPF)`;
    case 'fail': return `sent from a server not allowed by ${domain} (SPF)`;
    case 'softfail': return `sent from a server ${domain} probably does not allow (SPF softfail)`;
    case 'none': return `${domain} publishes no SPF policy`;
    case 'neutral': return `${domain} neither allows nor forbids the sending server (SPF neutral)`;
    default: return `SPF of ${domain} could not be checked (${spf.result})`;
  }
}

function dmarcSummary(d: AuthResults['dmarc']): string {
  const domain = d.domain ?? 'the sender’s domain';
  if (d.result === 'none') return `${domain} publishes no DMARC policy`;
  const policy = d.policy ? ` (policy ${d.policy})` : '';
  return `DMARC policy of ${domain}: ${d.result}${policy}`;
}

function arcSummary(a: ARCResult | null): string[] {
  const result = a?.status.result ?? 'none';
  if (result === 'none') return [];
  if (result === 'pass') return ['forwarded through servers that kept its authentication (ARC pass)'];
  return [`forwarding chain does not verify (ARC ${result})`];
}

/** What the user sees when mailauth itself broke: nothing verified, nothing claimed. */
function failedResults(err: unknown): AuthResults {
  const why = err instanceof Error ? err.message : String(err);
  return {
    spf: { result: 'temperror', domain: null },
    dkim: [],
    dmarc: { result: 'temperror', policy: null, domain: null },
    arc: { result: 'none' },
    headerFrom: null,
    summary: [`authentication could not be checked (${why.slice(0, 120)})`],
  };
}
