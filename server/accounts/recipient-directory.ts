/**
 * The MX asks twice per recipient (at RCPT, then at delivery) who an address belongs to. Positive
 * answers are remembered for a few seconds so that a busy MX does not ask the database each time.
 * Negative answers are never cached: a mailbox created a second ago must not bounce (550 is final).
 */
import type { Db } from '../store/db.js';
import { classifyRecipient, normalizeAddress, resolveRecipients } from './users.js';

export interface RecipientDirectory {
  classify(address: string): Promise<'local' | 'unknown' | 'foreign'>;
  resolve(addresses: string[]): Promise<number[]>;
}

export function createRecipientDirectory(db: Db, ttlMs = 5_000, now: () => number = Date.now): RecipientDirectory {
  const known = new Map<string, { at: number; userIds: number[] }>();
  const lookup = async (address: string): Promise<number[] | null> => {
    const a = normalizeAddress(address);
    const hit = known.get(a);
    if (hit && now() - hit.at < ttlMs) return hit.userIds;
    if ((await classifyRecipient(db, a)) !== 'local') return null;
    const userIds = await resolveRecipients(db, [a]);
    if (known.size > 10_000) known.clear();
    known.set(a, { at: now(), userIds });
    return userIds;
  };
  return {
    async classify(address) {
      if (await lookup(address)) return 'local';
      return classifyRecipient(db, address);
    },
    async resolve(addresses) {
      const ids = new Set<number>();
      for (const a of addresses) for (const id of (await lookup(a)) ?? []) ids.add(id);
      return [...ids];
    },
  };
}
