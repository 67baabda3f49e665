/** The mail domains this box serves. Names are stored lower-cased, without a trailing dot. */
import type { Db } from '../store/db.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { ensureDomainKeys, type DkimDeps } from '../delivery/dkim.js';

export interface Domain {
  id: number;
  name: string;
  created_at: number;
}

const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

export function normalizeDomain(name: string): string {
  const d = name.trim().toLowerCase().replace(/\.$/, '');
  if (!DOMAIN_RE.test(d)) throw new AppError('validation_failed', `not a valid domain name: ${name}`);
  return d;
}

export async function addDomain(db: Db, clock: Clock, name: string): Promise<Domain> {
  const d = normalizeDomain(name);
  if (await findDomain(db, d)) throw new AppError('domain_exists', `domain ${d} already exists`);
  const [id] = await db('domains').insert({ name: d, created_at: clock.now().getTime() });
  return { id: Number(id), name: d, created_at: clock.now().getTime() };
}

/**
 * A new domain with its DKIM keys made at once, so that the records shown right after adding it
 * are final. Used by `caliopen domain add` and the set-up; a domain added without keys (older
 * data dirs, other callers of addDomain) gets them lazily from the signer or `caliopen doctor`.
 */
export async function addDomainWithKeys(deps: DkimDeps, name: string): Promise<Domain> {
  const domain = await addDomain(deps.db, deps.clock, name);
  await ensureDomainKeys(deps, domain.id, domain.name);
  return domain;
}

export async function findDomain(db: Db, name: string): Promise<Domain | undefined> {
  return db<Domain>('domains').where({ name: name.toLowerCase().replace(/\.$/, '') }).first();
}

export async function listDomains(db: Db): Promise<Domain[]> {
  return db<Domain>('domains').orderBy('name');
}
