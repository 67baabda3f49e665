/**
 * One sync per account at a time, across processes (the server's scheduler and
 * `caliopen import imap` may run side by side on one data dir): a lease row on the account,
 * claimed with one conditional UPDATE and renewed after every batch. A holder that died
 * (kill -9) on this machine is seen at once (its pid is gone); elsewhere the lease just expires.
 */
import os from 'node:os';
import type { Knex } from 'knex';
import { AppError } from '../errors.js';

export const LEASE_MS = 2 * 60_000;

export function leaseOwner(): string {
  return `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}

function deadLocalHolder(owner: string | null): boolean {
  if (!owner) return true;
  const [host, pid] = owner.split(':');
  if (host !== os.hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export async function acquireLease(db: Knex, accountId: number, owner: string, now: number): Promise<void> {
  const claim = () =>
    db('external_accounts')
      .where({ id: accountId })
      .andWhere((q) => q.whereNull('lock_until').orWhere('lock_until', '<', now))
      .update({ lock_owner: owner, lock_until: now + LEASE_MS });
  if (await claim()) return;
  const row = await db('external_accounts').where({ id: accountId }).first('lock_owner');
  if (!row) throw new AppError('external_account_not_found', `no external account ${accountId}`);
  if (deadLocalHolder(row.lock_owner as string | null)) {
    const n = await db('external_accounts').where({ id: accountId, lock_owner: row.lock_owner }).update({ lock_owner: owner, lock_until: now + LEASE_MS });
    if (n) return;
  }
  throw new AppError('sync_in_progress', 'this account is being synchronised already');
}

export async function renewLease(db: Knex, accountId: number, owner: string, now: number): Promise<void> {
  const n = await db('external_accounts').where({ id: accountId, lock_owner: owner }).update({ lock_until: now + LEASE_MS });
  if (!n) throw new AppError('sync_in_progress', 'the sync lease of this account was taken over');
}

export async function releaseLease(db: Knex, accountId: number, owner: string): Promise<void> {
  await db('external_accounts').where({ id: accountId, lock_owner: owner }).update({ lock_owner: null, lock_until: null });
}
