// Autocrypt Level 1 header values (https://autocrypt.org/level1.html §2.1 and §2.7 for gossip):
// parsed on the server (received mail) and in the browser (gossip inside decrypted mail), built
// by the server for outgoing mail and by the browser for gossip.

/**
 * @typedef {Object} AutocryptHeader
 * @property {string} addr            lower-case
 * @property {'mutual' | 'nopreference'} preferEncrypt
 * @property {Uint8Array} keydata     the binary OpenPGP key
 */

/**
 * One Autocrypt or Autocrypt-Gossip header value, or null when it is not valid: `addr` and
 * `keydata` are required, an unknown attribute not starting with "_" makes the header invalid
 * (§2.1: critical attributes), and keydata must be base64.
 * @param {string} value @returns {AutocryptHeader | null}
 */
export function parseAutocryptHeader(value) {
  /** @type {Record<string, string>} */
  const attrs = {};
  for (const piece of value.split(';')) {
    const eq = piece.indexOf('=');
    if (eq < 0) {
      if (piece.trim()) return null;
      continue;
    }
    const name = piece.slice(0, eq).trim().toLowerCase();
    if (name in attrs) return null;
    attrs[name] = piece.slice(eq + 1).trim();
  }
  for (const name of Object.keys(attrs)) {
    if (!['addr', 'prefer-encrypt', 'keydata'].includes(name) && !name.startsWith('_')) return null;
  }
  const addr = (attrs.addr ?? '').replace(/^<|>$/g, '').trim().toLowerCase();
  const b64 = (attrs.keydata ?? '').replace(/\s+/g, '');
  if (!addr || !addr.includes('@') || !b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
  let keydata;
  try {
    const bin = atob(b64);
    keydata = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) keydata[i] = bin.charCodeAt(i);
  } catch {
    return null;
  }
  return { addr, preferEncrypt: attrs['prefer-encrypt'] === 'mutual' ? 'mutual' : 'nopreference', keydata };
}

/**
 * The header value for our own key, folded for a header line (keydata in 76-char lines).
 * Level 1 §2.1 asks for a minimal key: the primary key, one user ID, one encryption subkey;
 * the caller passes such a key (binary).
 * @param {{ addr: string, keydata: Uint8Array, preferEncrypt?: 'mutual' | 'nopreference' }} h
 */
export function buildAutocryptHeader({ addr, keydata, preferEncrypt = 'mutual' }) {
  let bin = '';
  for (let i = 0; i < keydata.length; i++) bin += String.fromCharCode(keydata[i]);
  const b64 = btoa(bin).match(/.{1,76}/g) ?? [];
  const pe = preferEncrypt === 'mutual' ? ' prefer-encrypt=mutual;' : '';
  return `addr=${addr};${pe} keydata=\r\n ${b64.join('\r\n ')}`;
}

/**
 * A minimal copy of a key for Autocrypt (§2.1): primary key, the user ID naming the address (or
 * the primary one) and the current encryption subkey, all with their self-signatures.
 * @param {any} openpgp @param {any} key a public key object @param {string} addr
 * @returns {Promise<Uint8Array>}
 */
export async function minimalKeyBytes(openpgp, key, addr) {
  const want = addr.toLowerCase();
  const user = key.users.find((/** @type {any} */ u) => (u.userID?.email ?? '').toLowerCase() === want) ?? (await key.getPrimaryUser()).user;
  const enc = await key.getEncryptionKey().catch(() => null);
  const packets = new openpgp.PacketList();
  packets.push(key.keyPacket);
  for (const s of key.revocationSignatures) packets.push(s);
  packets.push(user.userID);
  for (const s of user.selfCertifications) packets.push(s);
  const sub = key.subkeys.find((/** @type {any} */ s) => enc && s.getKeyID().equals(enc.getKeyID()));
  if (sub) {
    packets.push(sub.keyPacket);
    for (const s of sub.bindingSignatures) packets.push(s);
  }
  return packets.write();
}
