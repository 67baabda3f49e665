/**
 * What the send path adds for OpenPGP: the sender's Autocrypt header (Level 1 §2.1), so that a
 * correspondent's client (or another Caliopen box) can write back sealed with no user action.
 * A header the mail client already put there is kept; the box never adds one for an address
 * whose owner has no key.
 */
import type { Knex } from 'knex';
import { ownAutocryptHeader } from './autocrypt.js';

/** The address of the From header (the Autocrypt addr must be it), or null. */
function fromAddressOf(head: string): string | null {
  const m = /^from:([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/im.exec(head);
  if (!m) return null;
  const value = m[1]!.replace(/\r?\n[ \t]/g, ' ');
  const angle = /<([^<>@\s]+@[^<>\s]+)>/.exec(value);
  const bare = /([^\s<>,;:"]+@[^\s<>,;:"]+)/.exec(value);
  return (angle?.[1] ?? bare?.[1] ?? null)?.toLowerCase() ?? null;
}

export async function withAutocryptHeader(db: Knex, raw: Buffer, ownAddresses: string[]): Promise<Buffer> {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
  if (/^autocrypt:/im.test(head)) return raw;
  const from = fromAddressOf(head);
  if (!from || !ownAddresses.includes(from)) return raw;
  const value = await ownAutocryptHeader(db, from);
  return value ? Buffer.concat([Buffer.from(`Autocrypt: ${value}\r\n`, 'latin1'), raw]) : raw;
}
