// The user's own key pair in this page: the server's copy (GET /keys/me: the public key and the
// private key locked by the passphrase), and, once unlocked, the private key in memory for this
// tab only — or kept for this device when the user chose "remember" (vault.js). Screens ask
// unlockedKey(); onKeyChange tells them when it is unlocked, locked or replaced.
import { api } from '../api.js';
import { loadPgp } from './loader.js';
import * as vault from './vault.js';

let mine; // undefined: not asked yet; null: the account has no key
let unlocked = null; // { fingerprint, key }
const listeners = new Set();

function changed() {
  for (const fn of [...listeners]) fn();
}

export function onKeyChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The account's key as GET /keys/me gives it (with the locked private key), or null. */
export async function myKey(refresh = false) {
  if (mine === undefined || refresh) mine = (await api('GET', '/keys/me')).key;
  return mine;
}

/** After PUT /keys/me or a revocation: the new key; an unlocked copy of another key is dropped. */
export function setMyKey(key, unlockedPrivate = null) {
  mine = key;
  unlocked = key && unlockedPrivate ? { fingerprint: key.fingerprint, key: unlockedPrivate } : null;
  changed();
}

export function unlockedKey() {
  return unlocked && mine && unlocked.fingerprint === mine.fingerprint ? unlocked.key : null;
}

async function deviceId() {
  return (await api('GET', '/devices/current')).device?.id ?? null;
}

/** Unlocks with the passphrase (throws when it is wrong); remember keeps it for this device. */
export async function unlock(passphrase, { remember = false } = {}) {
  const k = await myKey();
  if (!k) throw new Error('no key');
  const { openpgp, core } = await loadPgp();
  const key = await core.unlockPrivateKey(openpgp, k.private_key, passphrase);
  unlocked = { fingerprint: k.fingerprint, key };
  if (remember) {
    const id = await deviceId();
    if (id) await vault.remember(id, k.fingerprint, passphrase);
  }
  changed();
  return key;
}

/** Unlocks from this device's vault when the user chose "remember"; null when there is nothing. */
export async function unlockRemembered() {
  if (unlockedKey()) return unlockedKey();
  const k = await myKey();
  const id = k ? await deviceId() : null;
  const passphrase = id ? await vault.recall(id, k.fingerprint) : null;
  if (!passphrase) return null;
  try {
    return await unlock(passphrase);
  } catch {
    await vault.forget(); // the passphrase changed elsewhere
    return null;
  }
}

export function lock() {
  unlocked = null;
  changed();
}

export const isRemembered = vault.isRemembered;

export async function forgetOnThisDevice() {
  await vault.forget();
  changed();
}

/** Logging out: nothing stays in memory (the vault stays, it belongs to the device). */
export function clear() {
  mine = undefined;
  unlocked = null;
}
