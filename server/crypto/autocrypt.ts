/**
 * Autocrypt Level 1 (https://autocrypt.org/level1.html) on the box: peer state kept per user and
 * correspondent address, updated from received mail (§5.1) and from gossip found inside decrypted
 * mail (§2.7, reported by the browser), and the Autocrypt header of outgoing mail. The rules are
 * pure functions (nextPeerState, nextGossipState) so they are tested on the spec's examples.
 */
import type { Knex } from 'knex';
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { buildAutocryptHeader, minimalKeyBytes, parseAutocryptHeader, type AutocryptHeader } from '../../web/js/pgp/index.js';
import { openpgp, readPublicKey } from './pgp.js';
import { saveContactKey } from './contact-keys.js';
import { currentKeyOfAddress } from './user-keys.js';

export interface PeerState {
  last_seen: number | null;
  autocrypt_timestamp: number | null;
  /** contact_keys.id of the key the last Autocrypt header carried */
  autocrypt_key_id: number | null;
  prefer_encrypt: 'mutual' | 'nopreference' | null;
  gossip_timestamp: number | null;
  gossip_key_id: number | null;
}

export const EMPTY_PEER: PeerState = { last_seen: null, autocrypt_timestamp: null, autocrypt_key_id: null, prefer_encrypt: null, gossip_timestamp: null, gossip_key_id: null };

/** Level 1 §5.1: the message date, but never in the future. */
export function effectiveDate(date: Date | undefined | null, now: number): number {
  const d = date?.getTime();
  return d === undefined || Number.isNaN(d) || d > now ? now : d;
}

/**
 * The Autocrypt header of a message from `from`, or null: headers whose addr is not the From
 * address are ignored, and more than one valid header counts as none (§5.1).
 */
export function autocryptHeaderOf(values: string[], from: string): AutocryptHeader | null {
  const valid = values.map(parseAutocryptHeader).filter((h): h is AutocryptHeader => h !== null && h.addr === from.toLowerCase());
  return valid.length === 1 ? valid[0]! : null;
}

/**
 * Level 1 §5.1, for a message (not a multipart/report) at effective date `date`: null when nothing
 * changes. `keyId` is the stored key of the header, when there is one.
 */
export function nextPeerState(state: PeerState | null, date: number, header: { preferEncrypt: 'mutual' | 'nopreference'; keyId: number } | null): PeerState | null {
  const s = state ?? EMPTY_PEER;
  if (s.autocrypt_timestamp !== null && date < s.autocrypt_timestamp) return null;
  const next = { ...s };
  if (s.last_seen === null || date > s.last_seen) next.last_seen = date;
  if (header) {
    next.autocrypt_timestamp = date;
    next.autocrypt_key_id = header.keyId;
    next.prefer_encrypt = header.preferEncrypt;
  }
  return next.last_seen === s.last_seen && !header && state ? null : next;
}

/** Level 1 §2.7 (Autocrypt-Gossip): newer gossip replaces older gossip; null when nothing changes. */
export function nextGossipState(state: PeerState | null, date: number, keyId: number): PeerState | null {
  const s = state ?? EMPTY_PEER;
  if (s.gossip_timestamp !== null && date <= s.gossip_timestamp) return null;
  return { ...s, gossip_timestamp: date, gossip_key_id: keyId };
}

async function loadPeer(db: Knex, userId: number, address: string): Promise<PeerState | null> {
  const row = await db('pgp_peers').where({ user_id: userId, address }).first();
  return row ? (row as PeerState) : null;
}

async function savePeer(db: Knex, userId: number, address: string, state: PeerState): Promise<void> {
  await db('pgp_peers').insert({ user_id: userId, address, ...state }).onConflict(['user_id', 'address']).merge(state);
}

/** Stores a header's key as a contact key; null when the keydata is not a usable key (ignored, §2.1). */
async function storeHeaderKey(deps: Deps, userId: number, h: AutocryptHeader, source: 'autocrypt' | 'gossip'): Promise<number | null> {
  try {
    const info = await readPublicKey(h.keydata, deps.clock.now());
    if (info.facts.revoked || !info.facts.canEncrypt) return null;
    return (await saveContactKey(deps, userId, h.addr, info, source)).id;
  } catch {
    return null;
  }
}

/** A received message from `from` (the peer state of one user). Not called for reports and spam. */
export async function updatePeerFromMessage(deps: Deps, userId: number, m: { from: string; date: Date | null; headers: string[] }): Promise<void> {
  const from = m.from.toLowerCase();
  const header = autocryptHeaderOf(m.headers, from);
  // Without a header only last_seen would move (§5.1), and nothing decides on it yet (no
  // "discourage" recommendation): not worth a query for every message received.
  if (!header) return;
  const date = effectiveDate(m.date, deps.clock.now().getTime());
  const state = await loadPeer(deps.readDb, userId, from);
  if (state?.autocrypt_timestamp != null && date < state.autocrypt_timestamp) return;
  const keyId = header ? await storeHeaderKey(deps, userId, header, 'autocrypt') : null;
  const next = nextPeerState(state, date, header && keyId !== null ? { preferEncrypt: header.preferEncrypt, keyId } : null);
  if (next) await savePeer(deps.db, userId, from, next);
}

/** Autocrypt-Gossip headers of a decrypted message (the browser reports them): only for its recipients. */
export async function updatePeersFromGossip(deps: Deps, userId: number, m: { date: Date | null; recipients: string[]; headers: string[] }): Promise<number> {
  const recipients = new Set(m.recipients.map((a) => a.toLowerCase()));
  const date = effectiveDate(m.date, deps.clock.now().getTime());
  let updated = 0;
  for (const value of m.headers) {
    const h = parseAutocryptHeader(value);
    if (!h || !recipients.has(h.addr)) continue;
    const state = await loadPeer(deps.db, userId, h.addr);
    if (state?.gossip_timestamp != null && date <= state.gossip_timestamp) continue;
    const keyId = await storeHeaderKey(deps, userId, h, 'gossip');
    const next = keyId === null ? null : nextGossipState(state, date, keyId);
    if (next) {
      await savePeer(deps.db, userId, h.addr, next);
      updated++;
    }
  }
  return updated;
}

/** Gossip the browser found in a decrypted message of the user's: its To/Cc are the recipients, its date the effective date. */
export async function gossipOfMessage(deps: Deps, userId: number, messageId: number, headers: string[]): Promise<number> {
  const msg = await deps.db('messages').where({ id: messageId, user_id: userId }).first('id', 'date');
  if (!msg) throw new AppError('message_not_found', `no message ${messageId}`);
  const recipients: Array<{ address: string }> = await deps.db('participants').where({ message_id: msg.id }).whereIn('role', ['to', 'cc']).select('address');
  return updatePeersFromGossip(deps, userId, { date: new Date(Number(msg.date)), recipients: recipients.map((r) => r.address), headers });
}

const headerCache = new Map<string, string>();

/** The Autocrypt header value for an address of the box whose owner has a current key, else null. */
export async function ownAutocryptHeader(db: Knex, address: string): Promise<string | null> {
  const addr = address.toLowerCase();
  const key = await currentKeyOfAddress(db, addr);
  if (!key) return null;
  const cacheKey = `${addr} ${key.fingerprint} ${key.updated_at}`;
  const hit = headerCache.get(cacheKey);
  if (hit) return hit;
  const pub = await openpgp.readKey({ armoredKey: key.public_armored });
  const value = buildAutocryptHeader({ addr, keydata: await minimalKeyBytes(openpgp, pub, addr), preferEncrypt: 'mutual' });
  if (headerCache.size > 1000) headerCache.clear();
  headerCache.set(cacheKey, value);
  return value;
}
