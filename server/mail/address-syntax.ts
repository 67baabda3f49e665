/**
 * The address syntax the box accepts for sending, one definition for the API, drafts and
 * submission: an addr-spec with an ASCII local part (dot-atom or quoted, RFC 5322 §3.4.1; SMTPUTF8
 * local parts are not offered) and a domain that may be internationalised, in its ASCII form.
 */
import { domainToASCII } from 'node:url';

// RFC 5322 §3.2.3 atext, §3.4.1 addr-spec; quoted local parts per §3.2.4 without the obsolete forms.
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const QUOTED = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The domain in its ASCII (A-label) form when it is a usable mail domain, else null. */
export function asciiDomain(domain: string): string | null {
  if (!domain || /[\s\x00-\x1f\x7f]/.test(domain)) return null;
  const ascii = /^[\x00-\x7f]*$/.test(domain) ? domain.toLowerCase() : domainToASCII(domain);
  // RFC 5321 §4.5.3.1.2 caps a domain at 255 octets; DNS names end at 253 characters written out.
  if (!ascii || ascii.length > 253) return null;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return null;
  // A top-level label is never all digits (RFC 3696 §2): this rejects bare IPv4 addresses.
  return /^[0-9]+$/.test(labels[labels.length - 1]!) ? null : ascii;
}

/**
 * The address with its domain in ASCII, or null when it is not an addr-spec the box can send to:
 * dot-atom or quoted local part of ASCII (RFC 5322 §3.4.1; SMTPUTF8 local parts are not offered),
 * an internationalised domain name allowed, domain literals ([192.0.2.1]) not.
 */
export function toAsciiAddress(address: string): string | null {
  const at = address.lastIndexOf('@');
  if (at < 1) return null;
  const local = address.slice(0, at);
  const domain = asciiDomain(address.slice(at + 1));
  // RFC 5321 §4.5.3.1.1: a local part is at most 64 octets; §4.5.3.1.3: a path at most 256.
  if (!domain || local.length > 64 || !(DOT_ATOM.test(local) || QUOTED.test(local))) return null;
  const ascii = `${local}@${domain}`;
  return ascii.length <= 254 ? ascii : null;
}

export function isEmailAddress(address: string): boolean {
  return toAsciiAddress(address) !== null;
}

/** The domain part, lower-cased (compare with normalizeAddress'd addresses). */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
