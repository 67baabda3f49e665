/**
 * Users and the addresses they receive for. A user logs in with a username (or any of their
 * addresses); their primary address is username@domain; aliases are more rows in `addresses`.
 */
import { domainToASCII } from 'node:url';
import type { Db } from '../store/db.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { findDomain } from './domains.js';
import { hashPassword } from './passwords.js';
import { ensureSystemTags } from '../mail/tags.js';

export interface User {
  id: number;
  username: string;
  display_name: string | null;
  password_hash: string;
  is_admin: number | boolean;
  lang: string;
  timezone: string;
  settings_json: string;
  created_at: number;
}

const USERNAME_RE = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
export const MIN_PASSWORD_LENGTH = 10;

/** Lower-case, with an internationalised domain in its ASCII (punycode) form, as domains are stored. */
export function normalizeAddress(address: string): string {
  const a = address.trim().toLowerCase();
  const at = a.lastIndexOf('@');
  if (at < 0) return a;
  const domain = a.slice(at + 1);
  return /^[\x00-\x7f]*$/.test(domain) ? a : `${a.slice(0, at)}@${domainToASCII(domain) || domain}`;
}

/** RFC 5321 §4.5.1: every domain must accept mail for postmaster; it goes to the box's admins. */
function isPostmaster(address: string): boolean {
  return address === 'postmaster' || address.startsWith('postmaster@');
}

export function validatePassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError('validation_failed', `password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}

export interface NewUser {
  username: string;
  domain: string;
  password: string;
  displayName?: string;
  isAdmin?: boolean;
  lang?: 'en' | 'fr';
}

export async function addUser(db: Db, clock: Clock, input: NewUser): Promise<User> {
  const username = input.username.trim().toLowerCase();
  if (!USERNAME_RE.test(username)) throw new AppError('validation_failed', `not a valid username: ${input.username}`);
  validatePassword(input.password);
  const domain = await findDomain(db, input.domain);
  if (!domain) throw new AppError('domain_not_found', `domain ${input.domain} is not served by this box`);
  const address = `${username}@${domain.name}`;
  const passwordHash = await hashPassword(input.password);
  const now = clock.now().getTime();
  return db.transaction(async (trx) => {
    if (await trx('users').where({ username }).first()) throw new AppError('user_exists', `user ${username} already exists`);
    if (await trx('addresses').where({ address }).first()) throw new AppError('user_exists', `address ${address} is taken`);
    const [id] = await trx('users').insert({
      username,
      display_name: input.displayName ?? null,
      password_hash: passwordHash,
      is_admin: input.isAdmin ?? false,
      lang: input.lang ?? 'en',
      created_at: now,
    });
    await trx('addresses').insert({ address, user_id: id, domain_id: domain.id, is_primary: true, created_at: now });
    await ensureSystemTags(trx, Number(id), now);
    return (await trx<User>('users').where({ id }).first())!;
  });
}

export async function addAlias(db: Db, clock: Clock, userId: number, address: string): Promise<void> {
  const a = normalizeAddress(address);
  const domain = await findDomain(db, a.split('@')[1] ?? '');
  if (!domain) throw new AppError('domain_not_found', `domain of ${a} is not served by this box`);
  if (await db('addresses').where({ address: a }).first()) throw new AppError('user_exists', `address ${a} is taken`);
  await db('addresses').insert({ address: a, user_id: userId, domain_id: domain.id, is_primary: false, created_at: clock.now().getTime() });
}

export async function findUserByLogin(db: Db, login: string): Promise<User | undefined> {
  const l = login.trim().toLowerCase();
  if (l.includes('@')) {
    const row = await db('addresses').where({ address: l }).first('user_id');
    return row ? db<User>('users').where({ id: row.user_id }).first() : undefined;
  }
  return db<User>('users').where({ username: l }).first();
}

export async function getUser(db: Db, id: number): Promise<User> {
  const u = await db<User>('users').where({ id }).first();
  if (!u) throw new AppError('user_not_found', `no user ${id}`);
  return u;
}

export async function listUsers(db: Db): Promise<Array<User & { address: string }>> {
  return db('users')
    .leftJoin('addresses', function () {
      this.on('addresses.user_id', 'users.id').andOn('addresses.is_primary', db.raw('1'));
    })
    .orderBy('users.username')
    .select('users.*', 'addresses.address');
}

export async function removeUser(db: Db, username: string): Promise<void> {
  const n = await db('users').where({ username: username.toLowerCase() }).delete();
  if (!n) throw new AppError('user_not_found', `no user ${username}`);
}

export async function userAddresses(db: Db, userId: number): Promise<string[]> {
  const rows = await db('addresses').where({ user_id: userId }).orderBy('is_primary', 'desc').select('address');
  return rows.map((r: { address: string }) => r.address);
}

/** Recipient classification for the MX: one of our mailboxes, our domain but unknown, or elsewhere. */
export async function classifyRecipient(db: Db, address: string): Promise<'local' | 'unknown' | 'foreign'> {
  const a = normalizeAddress(address);
  const at = a.lastIndexOf('@');
  if (a === 'postmaster') return 'local';
  if (at < 1) return 'foreign';
  if (await db('addresses').where({ address: a }).first('id')) return 'local';
  if (!(await findDomain(db, a.slice(at + 1)))) return 'foreign';
  return isPostmaster(a) ? 'local' : 'unknown';
}

/** Distinct users behind a list of recipient addresses (two aliases of one user → one copy). */
export async function resolveRecipients(db: Db, addresses: string[]): Promise<number[]> {
  if (!addresses.length) return [];
  const normalized = addresses.map(normalizeAddress);
  const rows = await db('addresses').whereIn('address', normalized).distinct('user_id');
  const ids = new Set<number>(rows.map((r: { user_id: number }) => r.user_id));
  const unmatchedPostmaster = normalized.some((a) => isPostmaster(a)) && rows.length < normalized.length;
  if (unmatchedPostmaster) {
    for (const admin of await db('users').where({ is_admin: true }).select('id')) ids.add(admin.id);
  }
  return [...ids];
}
