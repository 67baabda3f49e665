/**
 * The server's side of the OpenPGP core (web/js/pgp/, shared with the browser): the openpgp
 * module itself, and public keys read into the facts the store keeps. The server never holds a
 * usable private key: what it receives is checked to be passphrase-protected and stored as is.
 */
import * as openpgp from 'openpgp';
import { keyFacts, readAllKeys, type KeyFacts } from '../../web/js/pgp/index.js';
import { AppError } from '../errors.js';

export { openpgp };

export interface PublicKeyInfo {
  key: openpgp.Key;
  facts: KeyFacts;
  /** the public key only, armored */
  armored: string;
}

/** Reads every key of an armored or binary block; a private key is reduced to its public part. */
export async function readPublicKeys(data: string | Uint8Array, now = new Date()): Promise<PublicKeyInfo[]> {
  let keys: openpgp.Key[];
  // armored text may come as bytes (a file), binary keys as base64 text (a paste, an Autocrypt value)
  const text = typeof data === 'string' ? data : Buffer.from(data).includes('-----BEGIN PGP') ? Buffer.from(data).toString('utf8') : null;
  try {
    keys = await readAllKeys(openpgp, text === null ? data : text.includes('-----BEGIN PGP') ? text : Buffer.from(text, 'base64'));
  } catch (err) {
    throw new AppError('invalid_key', `not an OpenPGP key: ${(err as Error).message}`);
  }
  return Promise.all(keys.map(async (k) => {
    const pub = k.isPrivate() ? k.toPublic() : k;
    return { key: pub, facts: await keyFacts(pub, judgedAt(pub, now)), armored: pub.armor() };
  }));
}

/** Clocks differ: a key made minutes "in the future" by a peer whose clock runs ahead is judged as of its making (plus a margin for its subkey signatures), up to a day ahead. */
const CLOCK_SKEW_MS = 24 * 3600_000;
const SIGNING_MARGIN_MS = 10 * 60_000;
function judgedAt(key: openpgp.Key, now: Date): Date {
  const created = key.getCreationTime().getTime();
  const ahead = created - now.getTime();
  return ahead > 0 && ahead <= CLOCK_SKEW_MS ? new Date(created + SIGNING_MARGIN_MS) : now;
}

/** The one key of a block (the first, when a file holds several). */
export async function readPublicKey(data: string | Uint8Array, now = new Date()): Promise<PublicKeyInfo> {
  const [first] = await readPublicKeys(data, now);
  if (!first) throw new AppError('invalid_key', 'no OpenPGP key found');
  return first;
}

/**
 * A private key as uploaded by the browser: it must be encrypted with a passphrase, every secret
 * (sub)key of it, or it is refused (SPEC §5: the private key never reaches the server unprotected).
 */
export async function readProtectedPrivateKey(armored: string): Promise<openpgp.PrivateKey> {
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: armored });
  } catch (err) {
    throw new AppError('invalid_key', `not an OpenPGP private key: ${(err as Error).message}`);
  }
  // isDecrypted() is true when the primary key or any subkey is usable without a passphrase
  if (key.isDecrypted()) throw new AppError('key_not_protected', 'the private key must be protected by a passphrase before it is uploaded');
  return key;
}

/** Fingerprints are what keys are known by: upper-case hex without spaces. */
export function normalizeFingerprint(fpr: string): string {
  return fpr.replace(/[^0-9a-f]/gi, '').toUpperCase();
}
