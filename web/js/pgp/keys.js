// Key pairs for the browser and the server. openpgp is passed in (the browser loads
// /vendor/openpgp.mjs only when a key is needed; Node passes `await import('openpgp')`).
// Keys are v4, curve25519Legacy (ECC, the default) or RSA, so that GnuPG 2.2 can use them:
// RFC 9580 v6 keys and the new X25519/Ed25519 algorithms are not usable by gpg 2.2.

/**
 * @typedef {Object} KeyPair
 * @property {string} publicKey   armored
 * @property {string} privateKey  armored, passphrase-encrypted
 * @property {string} fingerprint upper-case hex
 */
/**
 * @typedef {Object} KeyFacts
 * @property {string} fingerprint upper-case hex
 * @property {string[]} userIds
 * @property {string} algorithm   'ecc' | 'rsa' | 'dsa' | 'elgamal' | the library's name
 * @property {number | null} bits
 * @property {Date} created
 * @property {boolean} revoked
 * @property {boolean} expired
 * @property {boolean} isPrivate
 * @property {boolean} canEncrypt  has a usable encryption (sub)key now
 */

/**
 * @param {any} openpgp
 * @param {{ name?: string, email: string, passphrase: string, type?: 'ecc' | 'rsa', rsaBits?: number, date?: Date }} opts
 * @returns {Promise<KeyPair>}
 */
export async function generateKeyPair(openpgp, { name, email, passphrase, type = 'ecc', rsaBits = 3072, date }) {
  if (!passphrase) throw new Error('a passphrase is required: the private key is only stored encrypted');
  const shape = type === 'rsa' ? { type: 'rsa', rsaBits } : { type: 'ecc', curve: 'curve25519Legacy' };
  const { privateKey, publicKey } = await openpgp.generateKey({
    ...shape, userIDs: [{ name: name || undefined, email }], passphrase, format: 'armored', date,
    config: { v6Keys: false },
  });
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return { publicKey, privateKey, fingerprint: key.getFingerprint().toUpperCase() };
}

/**
 * An armored key given by the user (a private key with its passphrase): checks the passphrase,
 * and returns it protected by `newPassphrase` (default: the same one). A private key that came
 * unprotected is encrypted here, before it goes anywhere.
 * @param {any} openpgp @param {string} armored @param {string} passphrase @param {string} [newPassphrase]
 * @returns {Promise<KeyPair>}
 */
export async function importPrivateKey(openpgp, armored, passphrase, newPassphrase = passphrase) {
  if (!newPassphrase) throw new Error('a passphrase is required: the private key is only stored encrypted');
  let key = await openpgp.readPrivateKey({ armoredKey: armored });
  if (!key.isDecrypted()) key = await openpgp.decryptKey({ privateKey: key, passphrase });
  const encrypted = await openpgp.encryptKey({ privateKey: key, passphrase: newPassphrase });
  return { publicKey: key.toPublic().armor(), privateKey: encrypted.armor(), fingerprint: key.getFingerprint().toUpperCase() };
}

/** The private key, decrypted for use (signing, decrypting). @param {any} openpgp @param {string} armored @param {string} passphrase */
export async function unlockPrivateKey(openpgp, armored, passphrase) {
  const key = await openpgp.readPrivateKey({ armoredKey: armored });
  return key.isDecrypted() ? key : openpgp.decryptKey({ privateKey: key, passphrase });
}

/** @param {any} openpgp @param {string} armored @param {string} oldPassphrase @param {string} newPassphrase */
export async function changePassphrase(openpgp, armored, oldPassphrase, newPassphrase) {
  return (await importPrivateKey(openpgp, armored, oldPassphrase, newPassphrase)).privateKey;
}

/**
 * Revokes the key pair: returns the revoked public key (to upload and publish) and the revoked
 * private key, still protected by the same passphrase.
 * @param {any} openpgp @param {string} armored @param {string} passphrase @param {string} [reason] @param {Date} [date]
 */
export async function revokeKeyPair(openpgp, armored, passphrase, reason = 'Key retired', date = undefined) {
  const key = await unlockPrivateKey(openpgp, armored, passphrase);
  const { privateKey } = await openpgp.revokeKey({ key, reasonForRevocation: { flag: openpgp.enums.reasonForRevocation.keyRetired, string: reason }, format: 'object', date });
  const encrypted = await openpgp.encryptKey({ privateKey, passphrase });
  return { publicKey: privateKey.toPublic().armor(), privateKey: encrypted.armor(), fingerprint: privateKey.getFingerprint().toUpperCase() };
}

/** Reads one key, armored or binary. @param {any} openpgp @param {string | Uint8Array} data */
export async function readAnyKey(openpgp, data) {
  if (typeof data === 'string') return openpgp.readKey({ armoredKey: data });
  return openpgp.readKey({ binaryKey: data });
}

/** Every key of an armored or binary block (key files often hold several). @param {any} openpgp @param {string | Uint8Array} data */
export async function readAllKeys(openpgp, data) {
  if (typeof data === 'string') return openpgp.readKeys({ armoredKeys: data });
  return openpgp.readKeys({ binaryKeys: data });
}

const ALGORITHMS = /** @type {Record<string, string>} */ ({
  rsaEncryptSign: 'rsa', rsaEncrypt: 'rsa', rsaSign: 'rsa', dsa: 'dsa', elgamal: 'elgamal',
  ecdsa: 'ecc', eddsaLegacy: 'ecc', ecdh: 'ecc', ed25519: 'ecc', ed448: 'ecc', x25519: 'ecc', x448: 'ecc',
});

/** What the UI and the PI need to know of a key. @param {any} key @param {Date} [now] @returns {Promise<KeyFacts>} */
export async function keyFacts(key, now = new Date()) {
  const info = key.getAlgorithmInfo();
  const revoked = await key.isRevoked(undefined, undefined, now).catch(() => false);
  const expires = await key.getExpirationTime().catch(() => null);
  const canEncrypt = await key.getEncryptionKey(undefined, now).then(() => true, () => false);
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    userIds: key.getUserIDs(),
    algorithm: ALGORITHMS[info.algorithm] ?? String(info.algorithm),
    bits: typeof info.bits === 'number' ? info.bits : null,
    created: key.getCreationTime(),
    revoked,
    expired: expires instanceof Date && expires.getTime() < now.getTime(),
    isPrivate: key.isPrivate(),
    canEncrypt,
  };
}

/** Does the key name this address in one of its user IDs? @param {any} key @param {string} address */
export function keyHasAddress(key, address) {
  const want = address.toLowerCase();
  return key.users.some((/** @type {any} */ u) => (u.userID?.email ?? '').toLowerCase() === want);
}

/** "ABCD EF01 …": ten groups of four, the way people read a fingerprint aloud. @param {string} fingerprint */
export function formatFingerprint(fingerprint) {
  const hex = fingerprint.replace(/[^0-9a-f]/gi, '').toUpperCase();
  return (hex.match(/.{1,4}/g) ?? []).join(' ');
}

/** The content of a fingerprint QR code (the URI scheme OpenKeychain and others read). @param {string} fingerprint */
export function fingerprintUri(fingerprint) {
  return 'OPENPGP4FPR:' + fingerprint.replace(/[^0-9a-f]/gi, '').toUpperCase();
}
