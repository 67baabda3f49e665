/**
 * Each user's own key pairs. The browser generates or imports them and uploads the public key
 * with the private key protected by the user's passphrase; the box stores both, publishes the
 * current public key (WKD, Autocrypt) and hands the protected private key back to the user's
 * browsers. Revoking is done in the browser (it needs the private key): the revoked public key is
 * uploaded and replaces the published one.
 */
import type { Knex } from 'knex';
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { readProtectedPrivateKey, readPublicKey } from './pgp.js';
import { formatFingerprint } from '../../web/js/pgp/index.js';

export interface UserKeyRow {
  id: number;
  user_id: number;
  fingerprint: string;
  public_armored: string;
  private_armored: string;
  algorithm: string;
  bits: number | null;
  key_created_at: number;
  created_at: number;
  updated_at: number;
  revoked_at: number | null;
}

/** The key in use: the newest one not revoked. */
export async function currentUserKey(db: Knex, userId: number): Promise<UserKeyRow | null> {
  const row = await db<UserKeyRow>('user_keys').where({ user_id: userId }).whereNull('revoked_at').orderBy('id', 'desc').first();
  return row ?? null;
}

/** The current key of whoever owns this address on the box (WKD, local recipients, Autocrypt). */
export async function currentKeyOfAddress(db: Knex, address: string): Promise<UserKeyRow | null> {
  const owner = await db('addresses').where({ address: address.toLowerCase() }).first('user_id');
  return owner ? currentUserKey(db, owner.user_id as number) : null;
}

export function presentUserKey(row: UserKeyRow, opts: { withPrivate: boolean }) {
  return {
    fingerprint: row.fingerprint,
    fingerprint_display: formatFingerprint(row.fingerprint),
    algorithm: row.algorithm,
    bits: row.bits,
    created_at: row.key_created_at,
    revoked_at: row.revoked_at,
    public_key: row.public_armored,
    ...(opts.withPrivate ? { private_key: row.private_armored } : {}),
  };
}

/** Stores (or replaces) a key pair after checking it: same key on both sides, private one protected. */
export async function putUserKey(deps: Deps, userId: number, input: { public_key: string; private_key: string }): Promise<UserKeyRow> {
  const now = deps.clock.now();
  const priv = await readProtectedPrivateKey(input.private_key);
  const pub = await readPublicKey(input.public_key, now);
  if (pub.facts.fingerprint !== priv.getFingerprint().toUpperCase()) throw new AppError('invalid_key', 'the public and private keys are not the same key');
  if (!pub.facts.canEncrypt && !pub.facts.revoked) throw new AppError('invalid_key', 'the key has no usable encryption subkey');
  const row = {
    user_id: userId, fingerprint: pub.facts.fingerprint, public_armored: pub.armored, private_armored: input.private_key.trim() + '\n',
    algorithm: pub.facts.algorithm, bits: pub.facts.bits, key_created_at: pub.facts.created.getTime(),
    revoked_at: pub.facts.revoked ? now.getTime() : null, updated_at: now.getTime(),
  };
  await deps.db('user_keys').insert({ ...row, created_at: now.getTime() }).onConflict(['user_id', 'fingerprint']).merge(row);
  return (await deps.db<UserKeyRow>('user_keys').where({ user_id: userId, fingerprint: row.fingerprint }).first())!;
}

/** The revoked public key (and, optionally, the revoked private one) made in the browser. */
export async function revokeUserKey(deps: Deps, userId: number, input: { public_key: string; private_key?: string }): Promise<UserKeyRow> {
  const now = deps.clock.now();
  const pub = await readPublicKey(input.public_key, now);
  if (!pub.facts.revoked) throw new AppError('invalid_key', 'this public key carries no revocation signature');
  const existing = await deps.db<UserKeyRow>('user_keys').where({ user_id: userId, fingerprint: pub.facts.fingerprint }).first();
  if (!existing) throw new AppError('key_not_found', `no key ${pub.facts.fingerprint} on this account`);
  if (input.private_key) await readProtectedPrivateKey(input.private_key);
  await deps.db('user_keys').where({ id: existing.id }).update({
    public_armored: pub.armored, ...(input.private_key ? { private_armored: input.private_key.trim() + '\n' } : {}),
    revoked_at: existing.revoked_at ?? now.getTime(), updated_at: now.getTime(),
  });
  return (await deps.db<UserKeyRow>('user_keys').where({ id: existing.id }).first())!;
}

export async function listUserKeys(db: Knex, userId: number): Promise<UserKeyRow[]> {
  return db<UserKeyRow>('user_keys').where({ user_id: userId }).orderBy('id', 'desc');
}
