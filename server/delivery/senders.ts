/**
 * The addresses a user may write from: their own on this box, then those of their external
 * accounts that have a sending server (sent "as" through it, see imap-import/send-as.ts). One
 * answer for the composer's drafts, sealed mail and the submission port.
 */
import type { Knex } from 'knex';
import { userAddresses } from '../accounts/users.js';
import { sendAsAddresses } from '../imap-import/account-store.js';

export async function allowedSenders(db: Knex, userId: number): Promise<string[]> {
  const [own, external] = await Promise.all([userAddresses(db, userId), sendAsAddresses(db, userId)]);
  return [...own, ...external.keys()];
}
