/**
 * Reads the Received trace (RFC 5321 §4.4) into a hop list and judges the journey: was every
 * server-to-server step encrypted, and how many outside servers handled the message.
 * Received stamps are claims written by each relay; only the stamps above the first one we cannot
 * trust matter for spam, but for the PI every visible step counts, as SPEC §7 says.
 */
import { isIP } from 'node:net';
import type { Signal } from '../mail/types.js';
import { tlsVersionOf } from './transport.js';
import { signal } from './weights.js';

export interface ReceivedHop {
  /** name the sending host announced (HELO), or its address literal */
  from: string | null;
  /** address the receiving server saw, from the comment after `from`: "(name [192.0.2.1])" */
  fromIp: string | null;
  by: string | null;
  with: string | null;
  id: string | null;
  for: string | null;
  date: string | null;
  /** the stamp records an encrypted hand-over */
  tls: boolean;
  /** "1.3", "1.2", "1.0", "ssl3" when the stamp names the version */
  tlsVersion: string | null;
  cipher: string | null;
  /** a hand-over inside one machine: local pickup, LMTP, loopback — not part of the journey */
  internal: boolean;
}

type Token = { kind: 'word' | 'comment'; text: string };
interface Clause { value: string; notes: string[] }

const KEYWORDS = new Set(['from', 'by', 'via', 'with', 'id', 'for']);
// RFC 3848 §1 (ESMTPS, ESMTPSA, LMTPS, LMTPSA) and RFC 6531 §3.7.3 (UTF8SMTPS, UTF8SMTPSA) mean TLS;
// SMTPS (Google's submission stamp) and HTTPS (webmail) are unregistered but unambiguous
const SECURE_WITH = /^(?:e?smtpsa?|lmtpsa?|utf8smtpsa?|utf8lmtpsa?|https)$/i;
const LOCAL_WITH = /^(?:lmtps?a?|utf8lmtps?a?|local(?:-[\w-]+)?)$/i;
// Spellings of TLS evidence beyond the `with` keyword: Google/Sendmail, Postfix, Exim, Microsoft
const TLS_EVIDENCE = [
  /\bversion=(?:TLS|SSL)/i,
  /\busing\s+TLSv?\s?\d/i,
  /\bover\s+TLS\b/i,
  /^(?:TLS|SSL)v?\s?\d/i,
  /\bGoogle Transport Security\b/i,
  /\bcipher[=\s]/i,
];

/** Every Received stamp, topmost (newest) first: header values, full lines, or mailparser's headerLines. */
export function parseReceivedChain(headers: readonly string[] | ReadonlyArray<{ key: string; line: string }>): ReceivedHop[] {
  const out: ReceivedHop[] = [];
  for (const h of headers) {
    if (typeof h === 'string') out.push(parseReceived(h));
    else if (h.key.toLowerCase() === 'received') out.push(parseReceived(h.line));
  }
  return out;
}

/** One stamp. Never throws: what cannot be read stays null. */
export function parseReceived(header: string): ReceivedHop {
  const stamp = header.replace(/\r?\n[ \t]+/g, ' ').replace(/^\s*received\s*:/i, '').trim();
  const { tokens, date } = tokenize(stamp);
  const { clauses, notes } = readClauses(tokens);
  // words are joined back so that phrases such as "over TLS secured channel" can be recognised
  const evidence = [clauses.get('with')?.value ?? '', notes.join(' '), ...[...clauses.values()].map((c) => c.notes.join(' '))];
  const hop: ReceivedHop = {
    from: clauses.get('from')?.value ?? null,
    fromIp: fromAddress(clauses.get('from')),
    by: clauses.get('by')?.value ?? null,
    with: clauses.get('with')?.value ?? null,
    id: clauses.get('id')?.value ?? null,
    for: clauses.get('for')?.value.replace(/^<|>$/g, '') ?? null,
    date,
    tls: false,
    tlsVersion: null,
    cipher: null,
    internal: false,
  };
  hop.tls = SECURE_WITH.test(hop.with ?? '') || evidence.some((e) => TLS_EVIDENCE.some((re) => re.test(e)));
  if (hop.tls) {
    hop.tlsVersion = firstOf(evidence, tlsVersionOf);
    hop.cipher = firstOf(evidence, cipherOf);
  }
  hop.internal = isInternal(hop);
  return hop;
}

/** Splits a stamp into words and (nested) comments; the date follows the first top-level ";". */
function tokenize(stamp: string): { tokens: Token[]; date: string | null } {
  const tokens: Token[] = [];
  let i = 0;
  while (i < stamp.length) {
    const c = stamp[i]!;
    if (c === ' ' || c === '\t' || c === ')') i++; // a stray ")" closes nothing
    else if (c === ';') return { tokens, date: stamp.slice(i + 1).trim() || null };
    else if (c === '(') {
      const end = commentEnd(stamp, i);
      tokens.push({ kind: 'comment', text: stamp.slice(i + 1, end).trim() });
      i = end + 1;
    } else {
      let j = i;
      while (j < stamp.length && !' \t();'.includes(stamp[j]!)) j++;
      tokens.push({ kind: 'word', text: stamp.slice(i, j) });
      i = j;
    }
  }
  return { tokens, date: null };
}

/** Index of the ")" closing the comment opened at `start` (RFC 5322 §3.2.2 comments nest). */
function commentEnd(s: string, start: number): number {
  let depth = 0;
  for (let k = start; k < s.length; k++) {
    const c = s[k];
    if (c === '\\') k++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return k;
  }
  return s.length;
}

/** Groups tokens under the clause keyword before them; words and comments with no clause are notes. */
function readClauses(tokens: Token[]): { clauses: Map<string, Clause>; notes: string[] } {
  const clauses = new Map<string, Clause>();
  const notes: string[] = [];
  let current: Clause | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    const key = t.text.toLowerCase();
    if (t.kind === 'word' && KEYWORDS.has(key) && !clauses.has(key) && next?.kind === 'word') {
      current = { value: next.text, notes: [] };
      clauses.set(key, current);
      i++;
    } else (current ? current.notes : notes).push(t.text);
  }
  return { clauses, notes };
}

/** The address the receiver saw: "[192.0.2.1]" in the comment wins over the HELO literal. */
function fromAddress(from: Clause | undefined): string | null {
  if (!from) return null;
  for (const text of [...from.notes, from.value]) {
    const m = /\[(?:IPv6:)?([0-9a-f:.]+)\]/i.exec(text);
    if (m && isIP(m[1]!)) return normaliseIp(m[1]!);
    // Microsoft writes the bare address: "(2603:10a6:20b:1a::12)"
    if (isIP(text)) return normaliseIp(text);
  }
  return null;
}

function isInternal(hop: ReceivedHop): boolean {
  if (!hop.from) return true; // "Received: by host (Postfix) id …": a local pickup, not a transfer
  if (hop.with && LOCAL_WITH.test(hop.with)) return true;
  if (hop.fromIp ? isLoopback(hop.fromIp) : /^localhost(?:\.localdomain)?$/i.test(hop.from)) return true;
  return !!hop.by && hop.by.toLowerCase() === hop.from.toLowerCase();
}

function cipherOf(text: string): string | null {
  const m = /\bcipher[=\s]+([A-Za-z0-9_-]{6,})/i.exec(text) ?? /\b(TLS_[A-Z0-9_]{6,})\b/.exec(text);
  return m ? m[1]! : null;
}

function firstOf(texts: string[], read: (t: string) => string | null): string | null {
  for (const t of texts) {
    const v = read(t);
    if (v) return v;
  }
  return null;
}

export function normaliseIp(ip: string): string {
  return ip.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}

function isLoopback(ip: string): boolean {
  return /^127\./.test(ip) || ip === '::1';
}

export interface ChainContext {
  /** names of this box: a hop *by* one of them happened inside the box */
  ownHosts?: readonly string[];
  /** the SMTP client that delivered to us: the first stamp *from* it is our own */
  deliveringIp?: string;
  /** TLS of the delivering connection when we saw it ourselves; null for imports */
  deliveredOverTls: boolean | null;
}

/** The hops outside this box that carried the message between distinct machines, newest first. */
export function externalHops(hops: ReceivedHop[], ctx: Omit<ChainContext, 'deliveredOverTls'>): ReceivedHop[] {
  const own = new Set((ctx.ownHosts ?? []).map((h) => h.toLowerCase()));
  const journey = hops.filter((h) => !h.internal && !(h.by && own.has(h.by.toLowerCase())));
  const top = journey[0];
  if (top && ctx.deliveringIp && top.fromIp === normaliseIp(ctx.deliveringIp)) return journey.slice(1);
  return journey;
}

/** ALL_HOPS_TLS / HOP_WITHOUT_TLS and FEW_EXTERNAL_HOPS / MANY_EXTERNAL_HOPS; nothing without evidence. */
export function receivedChainSignals(hops: ReceivedHop[], ctx: ChainContext): Signal[] {
  const outside = externalHops(hops, ctx);
  const judged = outside.map((h) => h.tls);
  if (ctx.deliveredOverTls !== null) judged.push(ctx.deliveredOverTls);
  // no visible step at all (a stripped import): nothing verified, so no points and no blame
  if (judged.length === 0) return [];
  const out: Signal[] = [];
  const clear = outside.find((h) => !h.tls);
  if (judged.every(Boolean)) out.push(signal('ALL_HOPS_TLS', `${judged.length} step(s)`));
  else out.push(signal('HOP_WITHOUT_TLS', clear ? `from ${clear.from ?? '?'} by ${clear.by ?? '?'}` : 'delivery to this box'));
  if (outside.length <= 2) out.push(signal('FEW_EXTERNAL_HOPS', `${outside.length} outside server(s)`));
  else out.push(signal('MANY_EXTERNAL_HOPS', `${outside.length} outside servers`));
  return out;
}
