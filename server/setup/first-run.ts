/**
 * First run: a box with no admin yet prints a one-time setup code on its console, so that only
 * someone who can see the console (not a stranger on the LAN) can claim it through the web wizard.
 * The same set-up runs non-interactively from `caliopen setup`.
 */
import crypto from 'node:crypto';
import type { Db } from '../store/db.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { addDomain, findDomain } from '../accounts/domains.js';
import { ensureDomainKeys } from '../delivery/dkim.js';
import type { SecretBox } from '../secrets.js';
import { addUser, type User } from '../accounts/users.js';

export async function isSetUp(db: Db): Promise<boolean> {
  return !!(await db('users').where({ is_admin: true }).first('id'));
}

/** 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L). */
export function newSetupCode(): string {
  const alphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
  const bytes = crypto.randomBytes(8);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

export function codesMatch(given: string, expected: string): boolean {
  const a = Buffer.from(given.trim().toUpperCase());
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export interface SetupInput {
  domain: string;
  admin: string;
  password: string;
  lang?: 'en' | 'fr';
}

/**
 * With `secrets` (the CLI and the web wizard pass the box's), the domain's DKIM keys are made here
 * too, so the records to publish are known as soon as the box is set up. Without it (tests that
 * only need an account) they come later, on first signature.
 */
export async function runSetup(db: Db, clock: Clock, input: SetupInput, secrets?: SecretBox): Promise<User> {
  if (await isSetUp(db)) throw new AppError('already_set_up', 'this box is already set up');
  const domain = (await findDomain(db, input.domain)) ?? (await addDomain(db, clock, input.domain));
  if (secrets) await ensureDomainKeys({ db, clock, secrets }, domain.id, domain.name);
  return addUser(db, clock, { username: input.admin, domain: input.domain, password: input.password, isAdmin: true, lang: input.lang });
}
