/**
 * Correspondents' public keys, by address, with where each came from (pasted, autocrypt, gossip,
 * attachment, wkd) and whether the user verified its fingerprint. Which key to encrypt to is
 * decided here (bestKeyFor): a verified key first, then the key Autocrypt last saw, then the
 * others, newest first; never a revoked or expired one.
 */
import type { Knex } from 'knex';
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { readPublicKeys, type PublicKeyInfo } from './pgp.js';
import { formatFingerprint, keyHasAddress } from '../../web/js/pgp/index.js';
import { isEmailAddress } from '../mail/address-syntax.js';

export type KeySource = 'pasted' | 'autocrypt' | 'gossip' | 'attachment' | 'wkd';

export interface ContactKeyRow {
  id: number;
  user_id: number;
  address: string;
  fingerprint: string;
  armored: string;
  algorithm: string;
  bits: number | null;
  source: KeySource;
  verified: number | boolean;
  key_created_at: number | null;
  expires_at: number | null;
  revoked: number | boolean;
  created_at: number;
  updated_at: number;
}

const SOURCE_RANK: Record<KeySource, number> = { pasted: 0, autocrypt: 1, wkd: 2, gossip: 3, attachment: 4 };

export function presentContactKey(row: ContactKeyRow) {
  return {
    id: row.id, address: row.address, fingerprint: row.fingerprint, fingerprint_display: formatFingerprint(row.fingerprint),
    algorithm: row.algorithm, bits: row.bits, source: row.source, verified: !!row.verified, revoked: !!row.revoked,
    created_at: row.key_created_at, expires_at: row.expires_at, added_at: row.created_at, public_key: row.armored,
  };
}

function checkAddress(address: string): string {
  const a = address.trim().toLowerCase();
  if (!isEmailAddress(a)) throw new AppError('validation_failed', `not an email address: "${address}"`);
  return a;
}

/**
 * Stores one key for an address (insert, or refresh the same fingerprint keeping its
 * verification).
 */
export async function saveContactKey(deps: Deps, userId: number, address: string, info: PublicKeyInfo, source: KeySource, trx: Knex = deps.db): Promise<ContactKeyRow> {
  const addr = checkAddress(address);
  // Autocrypt binds a key to the From address by its header (Level 1 §2.1: user IDs are not relied
  // on); a key found in an attachment or by WKD is only believed for the address it names.
  if ((source === 'attachment' || source === 'wkd') && !keyHasAddress(info.key, addr)) throw new AppError('invalid_key', `the key does not name ${addr}`);
  const now = deps.clock.now().getTime();
  const expires = await info.key.getExpirationTime().catch(() => null);
  const row = {
    armored: info.armored, algorithm: info.facts.algorithm, bits: info.facts.bits, key_created_at: info.facts.created.getTime(),
    expires_at: expires instanceof Date ? expires.getTime() : null, revoked: info.facts.revoked, updated_at: now,
  };
  await trx('contact_keys')
    .insert({ ...row, user_id: userId, address: addr, fingerprint: info.facts.fingerprint, source, verified: false, created_at: now })
    .onConflict(['user_id', 'address', 'fingerprint']).merge(row);
  await touchContact(trx, userId, addr, now);
  return (await trx<ContactKeyRow>('contact_keys').where({ user_id: userId, address: addr, fingerprint: info.facts.fingerprint }).first())!;
}

/** A key pasted or uploaded by the user for an address (armored or binary; the first key of the file). */
export async function addContactKey(deps: Deps, userId: number, address: string, data: string | Uint8Array): Promise<ContactKeyRow> {
  const [info] = await readPublicKeys(data, deps.clock.now());
  if (!info) throw new AppError('invalid_key', 'no OpenPGP key found');
  return saveContactKey(deps, userId, address, info, 'pasted');
}

export async function listContactKeys(db: Knex, userId: number, filter: { address?: string; contactId?: number } = {}): Promise<ContactKeyRow[]> {
  const q = db<ContactKeyRow>('contact_keys').where({ user_id: userId });
  if (filter.address) q.andWhere({ address: filter.address.toLowerCase() });
  if (filter.contactId) q.whereIn('address', db('contact_emails').where({ user_id: userId, contact_id: filter.contactId }).select('address'));
  return q.orderBy([{ column: 'address' }, { column: 'id', order: 'desc' }]);
}

async function findKey(db: Knex, userId: number, id: number): Promise<ContactKeyRow> {
  const row = await db<ContactKeyRow>('contact_keys').where({ user_id: userId, id }).first();
  if (!row) throw new AppError('key_not_found', `no contact key ${id}`);
  return row;
}

/** The user compared the fingerprint with the contact (in person, by phone): the key is verified. */
export async function setKeyVerified(deps: Deps, userId: number, id: number, verified: boolean): Promise<ContactKeyRow> {
  const row = await findKey(deps.db, userId, id);
  const now = deps.clock.now().getTime();
  await deps.db('contact_keys').where({ id }).update({ verified, updated_at: now });
  await touchContact(deps.db, userId, row.address, now);
  return { ...row, verified, updated_at: now };
}

export async function deleteContactKey(deps: Deps, userId: number, id: number): Promise<void> {
  const row = await findKey(deps.db, userId, id);
  await deps.db('contact_keys').where({ id }).delete();
  await touchContact(deps.db, userId, row.address, deps.clock.now().getTime());
}

/** The key to encrypt to for this address now, or null. */
export async function bestKeyFor(db: Knex, userId: number, address: string, now: number): Promise<ContactKeyRow | null> {
  const addr = address.toLowerCase();
  const [rows, peer] = await Promise.all([
    db<ContactKeyRow>('contact_keys').where({ user_id: userId, address: addr, revoked: false }),
    db('pgp_peers').where({ user_id: userId, address: addr }).first('autocrypt_key_id'),
  ]);
  const usable = rows.filter((r) => r.expires_at === null || r.expires_at > now);
  const rank = (r: ContactKeyRow) => (r.verified ? -2 : r.id === peer?.autocrypt_key_id ? -1 : SOURCE_RANK[r.source]);
  usable.sort((a, b) => rank(a) - rank(b) || b.updated_at - a.updated_at);
  return usable[0] ?? null;
}

/** The contact PI reads keys: a change makes the contact's cached PI stale (contact-pi-facts.ts). */
async function touchContact(db: Knex, userId: number, address: string, now: number): Promise<void> {
  await db('contacts').where({ user_id: userId }).whereIn('id', db('contact_emails').where({ user_id: userId, address }).select('contact_id')).update({ updated_at: now });
}
