/**
 * The box's own Web Key Directory: for each of its domains, the current public key of each user
 * (never a revoked key, never anything else), as the binary key WKD clients expect, by the
 * advanced method (openpgpkey.<domain>/.well-known/openpgpkey/<domain>/hu/<hash>) and the direct
 * one (<domain>/.well-known/openpgpkey/hu/<hash>, the domain from the Host header).
 */
import type { Knex } from 'knex';
import { openpgp } from './pgp.js';
import { currentKeyOfAddress } from './user-keys.js';
import { wkdHash } from './wkd.js';

export async function isOurDomain(db: Knex, domain: string): Promise<boolean> {
  return !!(await db('domains').where({ name: domain.toLowerCase() }).first('id'));
}

/** The advanced method's host names the domain: openpgpkey.example.org → example.org. */
export function domainOfHost(host: string, advanced: boolean): string {
  const name = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  return advanced ? name : name.replace(/^openpgpkey\./, '');
}

/** The binary public key published for hash@domain, or null. `local` (the ?l= parameter) saves scanning the domain. */
export async function publishedKey(db: Knex, domain: string, hash: string, local?: string): Promise<Uint8Array | null> {
  const d = domain.toLowerCase();
  if (!(await isOurDomain(db, d))) return null;
  let address: string | null = null;
  if (local && wkdHash(local) === hash) address = `${local.toLowerCase()}@${d}`;
  else {
    const rows: Array<{ address: string }> = await db('addresses').where('address', 'like', `%@${d}`).select('address');
    address = rows.map((r) => r.address).find((a) => a.endsWith(`@${d}`) && wkdHash(a.slice(0, a.lastIndexOf('@'))) === hash) ?? null;
  }
  if (!address) return null;
  const key = await currentKeyOfAddress(db, address);
  if (!key) return null;
  const pub = await openpgp.readKey({ armoredKey: key.public_armored });
  return pub.write();
}
