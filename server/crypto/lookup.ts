/**
 * "Sealed or postcard?" for the composer: for each recipient, the key the message would be
 * encrypted to — the key of a user of this box, else the best known contact key, else one found
 * by WKD (asked again when stale) — or the plain fact that there is none.
 */
import type { Deps } from '../deps.js';
import { bestKeyFor, presentContactKey } from './contact-keys.js';
import { currentKeyOfAddress } from './user-keys.js';
import { refreshWkd } from './wkd.js';
import { formatFingerprint } from '../../web/js/pgp/index.js';

export interface RecipientKey {
  address: string;
  status: 'sealed' | 'postcard';
  source: string | null;
  fingerprint: string | null;
  fingerprint_display: string | null;
  verified: boolean;
  prefer_encrypt: string | null;
  public_key: string | null;
}

export async function lookupRecipient(deps: Deps, userId: number, address: string): Promise<RecipientKey> {
  const addr = address.trim().toLowerCase();
  const none: RecipientKey = { address: addr, status: 'postcard', source: null, fingerprint: null, fingerprint_display: null, verified: false, prefer_encrypt: null, public_key: null };
  const local = await currentKeyOfAddress(deps.readDb, addr);
  if (local) {
    return { ...none, status: 'sealed', source: 'local', fingerprint: local.fingerprint, fingerprint_display: formatFingerprint(local.fingerprint), verified: true, prefer_encrypt: 'mutual', public_key: local.public_armored };
  }
  const now = deps.clock.now().getTime();
  let best = await bestKeyFor(deps.db, userId, addr, now);
  if (!best || best.source === 'wkd') {
    await refreshWkd(deps, userId, addr).catch((err) => deps.log.warn('WKD lookup failed', { address: addr, err }));
    best = await bestKeyFor(deps.db, userId, addr, now);
  }
  if (!best) return none;
  const peer = await deps.db('pgp_peers').where({ user_id: userId, address: addr }).first('prefer_encrypt');
  const k = presentContactKey(best);
  return { ...none, status: 'sealed', source: k.source, fingerprint: k.fingerprint, fingerprint_display: k.fingerprint_display, verified: k.verified, prefer_encrypt: peer?.prefer_encrypt ?? null, public_key: k.public_key };
}

export async function lookupRecipients(deps: Deps, userId: number, addresses: string[]) {
  const recipients = await Promise.all([...new Set(addresses.map((a) => a.trim().toLowerCase()))].map((a) => lookupRecipient(deps, userId, a)));
  return { sealed: recipients.length > 0 && recipients.every((r) => r.status === 'sealed'), recipients, missing: recipients.filter((r) => r.status === 'postcard').map((r) => r.address) };
}
