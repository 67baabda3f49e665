/**
 * Secrets at rest (relay passwords, DKIM private keys, later IMAP passwords) are sealed with the
 * box secret: 32 random bytes in <dataDir>/secret.key (mode 0600), created on first use. A stolen
 * database alone gives none of them away. Sealed form: "v1:" + base64(iv ‖ tag ‖ AES-256-GCM ciphertext).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from './errors.js';

export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

const KEY_FILE = 'secret.key';

export function loadBoxKey(dataDir: string): Buffer {
  const file = path.join(dataDir, KEY_FILE);
  try {
    const key = fs.readFileSync(file);
    if (key.length !== 32) throw new AppError('invalid_secret', `${file} must hold 32 bytes, found ${key.length}`);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const key = crypto.randomBytes(32);
  // wx: two processes racing on first start never overwrite each other's key
  try {
    const fd = fs.openSync(file, 'wx', 0o600);
    fs.writeSync(fd, key);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadBoxKey(dataDir);
    throw err;
  }
}

export function createSecretBox(key: Buffer): SecretBox {
  return {
    seal(plain) {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return 'v1:' + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    },
    open(sealed) {
      if (!sealed.startsWith('v1:')) throw new AppError('invalid_secret', 'unknown sealed secret format');
      const buf = Buffer.from(sealed.slice(3), 'base64');
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      decipher.setAuthTag(buf.subarray(12, 28));
      try {
        return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        throw new AppError('invalid_secret', 'a sealed secret does not open with this box key (was secret.key replaced?)');
      }
    },
  };
}
