// The OpenPGP core of Caliopen, the same modules in the browser and on the server. Every function
// that needs OpenPGP takes the `openpgp` module as its first argument: the browser imports
// /vendor/openpgp.mjs lazily (never on first load), Node passes `await import('openpgp')`.
// In charge of: key pairs, sealed messages (PGP/MIME), opening received mail, Autocrypt values.
// Not in charge of: storing keys, fetching them (WKD), or the UI.
export { generateKeyPair, importPrivateKey, unlockPrivateKey, changePassphrase, revokeKeyPair, readAnyKey, readAllKeys, keyFacts, keyHasAddress, formatFingerprint, fingerprintUri } from './keys.js';
export { buildInnerMime, buildSealedMessage, HIDDEN_SUBJECT } from './compose.js';
export { openMessage } from './read.js';
export { parseAutocryptHeader, buildAutocryptHeader, minimalKeyBytes } from './autocrypt.js';
export { parseMime, headerOf, decodeBody, partText, toBinaryString, fromBinaryString } from './mime.js';
