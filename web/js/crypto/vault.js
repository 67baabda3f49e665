// "Remember on this device": the key's passphrase kept in this browser, encrypted (AES-GCM) by a
// WebCrypto key that cannot be exported — neither script nor a copy of the browser's files gives
// it out in clear — stored in IndexedDB with the device it belongs to. A vault written for another
// device (this browser's device was removed and named again) is wiped on sight.
const DB = 'caliopen';
const STORE = 'vault';
const ENTRY = 'pgp';

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run(mode, fn) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req?.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** Keeps the passphrase of key `fingerprint` for device `deviceId`. */
export async function remember(deviceId, fingerprint, passphrase) {
  const wrapKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, wrapKey, new TextEncoder().encode(passphrase));
  await run('readwrite', (s) => s.put({ deviceId, fingerprint, wrapKey, iv, sealed }, ENTRY));
}

/** The passphrase kept for this device and key, or null (a vault of another device is wiped). */
export async function recall(deviceId, fingerprint) {
  const entry = await run('readonly', (s) => s.get(ENTRY)).catch(() => null);
  if (!entry) return null;
  if (entry.deviceId !== deviceId || entry.fingerprint !== fingerprint) {
    await forget();
    return null;
  }
  try {
    const clear = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: entry.iv }, entry.wrapKey, entry.sealed);
    return new TextDecoder().decode(clear);
  } catch {
    await forget();
    return null;
  }
}

export async function isRemembered() {
  return !!(await run('readonly', (s) => s.get(ENTRY)).catch(() => null));
}

export async function forget() {
  await run('readwrite', (s) => s.delete(ENTRY)).catch(() => {});
}
