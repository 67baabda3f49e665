/**
 * Web Key Directory (draft-koch-openpgp-webkey-service): the URLs of an address's key, looking a
 * key up (advanced method first, then direct, through the injected fetcher deps.fetch), and
 * refreshing what WKD gave when it is stale. Publishing our own users' keys is wkd-publish.ts.
 */
import crypto from 'node:crypto';
import type { Deps } from '../deps.js';
import { readPublicKeys, type PublicKeyInfo } from './pgp.js';
import { saveContactKey, type ContactKeyRow } from './contact-keys.js';
import { keyHasAddress } from '../../web/js/pgp/index.js';

/** A found key is asked again after a week; an address without one after a day. */
export const WKD_FOUND_MAX_AGE_MS = 7 * 86_400_000;
export const WKD_MISSING_MAX_AGE_MS = 86_400_000;

const ZBASE32 = 'ybndrfg8ejkmcpqxot1uwisza345h769';

/** z-base-32 (RFC 6189 §5.1.6), as WKD uses it for the hashed local part. */
export function zbase32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ZBASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ZBASE32[(value << (5 - bits)) & 31];
  return out;
}

/** The WKD hash of a local part: z-base-32 of SHA-1 of its lower-case form (draft §3.1). */
export function wkdHash(localPart: string): string {
  return zbase32(crypto.createHash('sha1').update(localPart.toLowerCase(), 'utf8').digest());
}

export function wkdUrls(address: string): { advanced: string; direct: string } {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  const path = `hu/${wkdHash(local)}?l=${encodeURIComponent(local)}`;
  return {
    advanced: `https://openpgpkey.${domain}/.well-known/openpgpkey/${domain}/${path}`,
    direct: `https://${domain}/.well-known/openpgpkey/${path}`,
  };
}

export type WkdResult = { status: 'found'; key: PublicKeyInfo } | { status: 'not_found' } | { status: 'error'; error: string };

/** Does the name exist (A or AAAA) for the box's resolver? Names that do not are not fetched. */
async function resolves(deps: Pick<Deps, 'dns'>, host: string): Promise<boolean> {
  for (const rrtype of ['A', 'AAAA']) {
    if (await deps.dns(host, rrtype).then((r) => r.length > 0, () => false)) return true;
  }
  return false;
}

/**
 * Asks the advanced URL when openpgpkey.<domain> exists (draft §3.1, as GnuPG does), then the
 * direct one when <domain> has an address; the key must name the address and be usable. Names are
 * checked with the box's resolver (deps.dns, CALIOPEN_RESOLVER) before anything is fetched.
 */
export async function lookupWkd(deps: Deps, address: string): Promise<WkdResult> {
  const urls = wkdUrls(address);
  let error: string | null = null;
  for (const url of [urls.advanced, urls.direct]) {
    if (!(await resolves(deps, new URL(url).hostname))) continue;
    try {
      const res = await deps.fetch(url, { timeoutMs: 10_000 });
      if (res.status !== 200) continue;
      const keys = await readPublicKeys(new Uint8Array(res.raw ?? Buffer.from(res.body, 'utf8')), deps.clock.now());
      const key = keys.find((k) => keyHasAddress(k.key, address) && !k.facts.revoked && k.facts.canEncrypt);
      if (key) return { status: 'found', key };
    } catch (err) {
      error = (err as Error).message;
    }
  }
  return error ? { status: 'error', error } : { status: 'not_found' };
}

/**
 * The WKD key of an address for a user, asked again only when the last answer is stale; a key
 * found is stored as a contact key (source wkd). Returns the stored key, or null.
 */
export async function refreshWkd(deps: Deps, userId: number, address: string): Promise<ContactKeyRow | null> {
  const addr = address.toLowerCase();
  const now = deps.clock.now().getTime();
  const peer = await deps.db('pgp_peers').where({ user_id: userId, address: addr }).first('wkd_checked_at');
  const known = await deps.db<ContactKeyRow>('contact_keys').where({ user_id: userId, address: addr, source: 'wkd' }).orderBy('updated_at', 'desc').first();
  const maxAge = known ? WKD_FOUND_MAX_AGE_MS : WKD_MISSING_MAX_AGE_MS;
  if (peer?.wkd_checked_at != null && now - Number(peer.wkd_checked_at) < maxAge) return known ?? null;
  const result = await lookupWkd(deps, addr);
  // a failed fetch is not an answer: asked again next time
  if (result.status === 'error') return known ?? null;
  await deps.db('pgp_peers').insert({ user_id: userId, address: addr, wkd_checked_at: now }).onConflict(['user_id', 'address']).merge({ wkd_checked_at: now });
  return result.status === 'found' ? saveContactKey(deps, userId, addr, result.key, 'wkd') : known ?? null;
}
