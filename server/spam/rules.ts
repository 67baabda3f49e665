/**
 * Spam analyzers: pure functions that look at one aspect of a message (content, authentication,
 * the sender's history) and return the signals they saw. They never weigh: weights.ts does.
 * Structural facts (link hosts, body size) are read back from the message's tokens, not re-extracted.
 */
import type { ParsedMail } from 'mailparser';
import type { AuthResults, SenderHistory } from '../mail/types.js';
import { baseDomain, bucket, senderOf } from './facts.js';
import { BODY_EDGES } from './tokenize.js';
import type { SignalId } from './weights.js';

export interface SpamSignal {
  id: SignalId;
  detail?: string;
}

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

const SHORTENERS = new Set([
  'bit.ly', 'tinyurl.com', 'goo.gl', 't.co', 'ow.ly', 'is.gd', 'buff.ly', 'rebrand.ly', 'cutt.ly', 'shorturl.at',
  'tiny.cc', 'rb.gy', 'bit.do', 't.ly', 's.id', 'v.gd', 'soo.gd', 'tr.im', 'x.co', 'lnkd.in', 'shorte.st', 'adf.ly',
]);

// Windows/script executables and installers: a person rarely needs to mail them, malware always does
const EXECUTABLE = new Set([
  'exe', 'scr', 'com', 'pif', 'bat', 'cmd', 'vbs', 'vbe', 'js', 'jse', 'wsf', 'wsh', 'hta', 'msi', 'msp',
  'jar', 'lnk', 'cpl', 'ps1', 'reg', 'dll', 'apk', 'appx',
]);
const MACRO_DOCUMENT = new Set(['docm', 'dotm', 'xlsm', 'xltm', 'xlam', 'pptm', 'potm', 'ppam', 'sldm']);
const DOCUMENT = /\.(pdf|docx?|xlsx?|pptx?|txt|jpe?g|png|gif|zip|rtf|odt)\.[a-z0-9]{2,4}$/i;

// dotted quads, bracketed IPv6, and the decimal/hex forms browsers also accept (http://3232235777/)
const IP_HOST = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\]|0x[0-9a-f]{8}|\d{8,10})$/i;

export function contentSignals(parsed: ParsedMail, tokens: readonly string[]): SpamSignal[] {
  const out: SpamSignal[] = [];
  if (containsGtube(parsed)) out.push({ id: 'SPAM_GTUBE' });
  const subject = parsed.subject ?? '';
  if (isShouting(subject)) out.push({ id: 'SPAM_SUBJECT_ALL_CAPS', detail: subject.slice(0, 80) });
  out.push(...linkSignals(tokens));
  out.push(...attachmentSignals(parsed));
  const spoofed = spoofedDomain(parsed);
  if (spoofed) out.push({ id: 'SPAM_FROM_NAME_SPOOF', detail: spoofed });
  if (tokens.includes('h:no-mid')) out.push({ id: 'SPAM_MISSING_MESSAGE_ID' });
  if (tokens.includes('h:no-date')) out.push({ id: 'SPAM_MISSING_DATE' });
  return out;
}

/** Also inside small attachments: scanners are tested with GTUBE in a file, and a Buffer search is cheap. */
function containsGtube(parsed: ParsedMail): boolean {
  if ([parsed.subject, parsed.text, typeof parsed.html === 'string' ? parsed.html : ''].some((s) => s?.includes(GTUBE))) return true;
  return parsed.attachments.some((a) => a.size <= 256 * 1024 && Buffer.isBuffer(a.content) && a.content.includes(GTUBE));
}

/** At least 3 words and 12 letters, 90% of the cased letters upper-case: shouting, not an acronym. */
export function isShouting(subject: string): boolean {
  const upper = subject.match(/\p{Lu}/gu)?.length ?? 0;
  const lower = subject.match(/\p{Ll}/gu)?.length ?? 0;
  const words = subject.split(/\s+/).filter((w) => /\p{L}{2,}/u.test(w)).length;
  return words >= 3 && upper + lower >= 12 && upper >= 0.9 * (upper + lower);
}

function linkSignals(tokens: readonly string[]): SpamSignal[] {
  const out: SpamSignal[] = [];
  const hosts = tokens.filter((t) => t.startsWith('u:')).map((t) => t.slice(2));
  const ip = hosts.find((h) => IP_HOST.test(h));
  if (ip) out.push({ id: 'SPAM_URL_IP_HOST', detail: ip });
  const short = hosts.find((h) => SHORTENERS.has(h));
  if (short) out.push({ id: 'SPAM_URL_SHORTENER', detail: short });
  const shortBody = [0, 40].some((n) => tokens.includes(`h:body:${bucket(n, BODY_EDGES)}`));
  const hasLinks = hosts.length > 0;
  if (shortBody && hasLinks) out.push({ id: 'SPAM_EMPTY_BODY_LINK', detail: hosts[0] });
  return out;
}

function attachmentSignals(parsed: ParsedMail): SpamSignal[] {
  const out: SpamSignal[] = [];
  for (const a of parsed.attachments.slice(0, 50)) {
    const name = (a.filename ?? '').toLowerCase().trim();
    const ext = name.match(/\.([a-z0-9]{1,8})$/)?.[1] ?? '';
    if (EXECUTABLE.has(ext) && !out.some((s) => s.id === 'SPAM_EXECUTABLE_ATTACHMENT')) out.push({ id: 'SPAM_EXECUTABLE_ATTACHMENT', detail: name });
    if (EXECUTABLE.has(ext) && DOCUMENT.test(name)) out.push({ id: 'SPAM_DOUBLE_EXTENSION', detail: name });
    if (MACRO_DOCUMENT.has(ext) && !out.some((s) => s.id === 'SPAM_MACRO_ATTACHMENT')) out.push({ id: 'SPAM_MACRO_ATTACHMENT', detail: name });
  }
  return out;
}

/**
 * "PayPal Service <x@evil.example>" is fine, "service@paypal.com <x@evil.example>" is not: a display
 * name holding an address or domain of another organisation than the real sender is a classic phish.
 */
export function spoofedDomain(parsed: ParsedMail): string | null {
  const from = senderOf(parsed);
  if (!from?.name) return null;
  const shown = from.name.toLowerCase().match(/(?:@|\b)((?:[a-z0-9-]+\.)+[a-z]{2,})\b/);
  if (!shown) return null;
  const domain = shown[1]!;
  return baseDomain(domain) !== baseDomain(from.domain) ? `${domain} ≠ ${from.domain}` : null;
}

export function authSignals(auth: AuthResults | null): SpamSignal[] {
  if (!auth) return [];
  const out: SpamSignal[] = [];
  const dmarcDomain = auth.dmarc.domain ?? auth.headerFrom ?? '';
  if (auth.dmarc.result === 'fail') {
    const strict = auth.dmarc.policy === 'reject' || auth.dmarc.policy === 'quarantine';
    out.push({ id: strict ? 'SPAM_DMARC_FAIL' : 'SPAM_DMARC_FAIL_POLICY_NONE', detail: `${dmarcDomain} p=${auth.dmarc.policy ?? 'none'}` });
  }
  const passed = auth.dkim.filter((d) => d.result === 'pass');
  const failed = auth.dkim.find((d) => d.result === 'fail');
  // one good signature is enough: lists often add a broken one next to the original
  if (failed && passed.length === 0) out.push({ id: 'SPAM_DKIM_FAIL', detail: failed.domain });
  const aligned = passed.find((d) => d.aligned);
  if (aligned) out.push({ id: 'HAM_DKIM_ALIGNED', detail: aligned.domain });
  if (auth.spf.result === 'fail') out.push({ id: 'SPAM_SPF_FAIL', detail: auth.spf.domain ?? undefined });
  if (auth.spf.result === 'softfail') out.push({ id: 'SPAM_SPF_SOFTFAIL', detail: auth.spf.domain ?? undefined });
  return out;
}

/**
 * Known senders lower the score, but only when the From address can be trusted: a message that fails
 * its domain's DMARC while posing as a contact is the phishing this trust would otherwise let through.
 */
export function historySignals(history: SenderHistory, auth: AuthResults | null): SpamSignal[] {
  const out: SpamSignal[] = [];
  if (history.markedSpamBefore > 0) out.push({ id: 'SPAM_SENDER_MARKED_BEFORE', detail: `${history.markedSpamBefore} message(s)` });
  const trusted = history.isKnownContact || history.userWroteTo > 0;
  if (trusted && auth?.dmarc.result === 'fail') {
    out.push({ id: 'SPAM_KNOWN_SENDER_FORGED', detail: auth.dmarc.domain ?? undefined });
    return out;
  }
  if (history.isKnownContact) out.push({ id: 'HAM_KNOWN_CONTACT' });
  if (history.userWroteTo > 0) out.push({ id: 'HAM_USER_WROTE_TO', detail: `you wrote ${history.userWroteTo} message(s)` });
  if (!trusted && history.receivedBefore > 0 && history.markedSpamBefore === 0) {
    out.push({ id: 'HAM_SENDER_SEEN', detail: `${history.receivedBefore} message(s) before` });
  }
  if (history.contactHasKey) out.push({ id: 'IMPORTANCE_CONTACT_HAS_KEY' });
  return out;
}
