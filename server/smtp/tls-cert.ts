/**
 * The certificate the MX offers with STARTTLS. An operator's certificate (config.tls.certFile and
 * keyFile) wins; otherwise a self-signed one for config.hostname is generated once into
 * <dataDir>/tls/ and reused on later starts. Self-signed is enough for an MX: sending MTAs encrypt
 * opportunistically and do not verify (RFC 7435), and encryption is what the Privacy Index records.
 * It is regenerated only when unusable: unreadable, not for this hostname, or about to expire.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
}

const VALIDITY_DAYS = 730;
const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;

export async function loadOrCreateTlsCert(config: Config, dataDir: string, now = new Date()): Promise<TlsMaterial> {
  const { certFile, keyFile } = config.tls;
  if (certFile || keyFile) return loadConfigured(certFile, keyFile);
  const dir = path.join(dataDir, 'tls');
  const files = { key: path.join(dir, 'key.pem'), cert: path.join(dir, 'cert.pem') };
  const existing = await readUsable(files, config.hostname, now);
  if (existing) return existing;
  return createSelfSigned(dir, files, config.hostname, now);
}

async function loadConfigured(certFile: string | undefined, keyFile: string | undefined): Promise<TlsMaterial> {
  if (!certFile || !keyFile) {
    throw new AppError('invalid_config', 'tls.certFile and tls.keyFile must be set together');
  }
  let material: TlsMaterial;
  try {
    material = { key: await fs.readFile(keyFile), cert: await fs.readFile(certFile) };
  } catch (err) {
    throw new AppError('invalid_config', `cannot read TLS certificate or key: ${(err as Error).message}`);
  }
  try {
    // fail at boot with a clear message rather than at the first STARTTLS
    tls.createSecureContext(material);
  } catch (err) {
    throw new AppError('invalid_config', `TLS certificate and key do not form a usable pair: ${(err as Error).message}`);
  }
  return material;
}

async function readUsable(files: { key: string; cert: string }, hostname: string, now: Date): Promise<TlsMaterial | null> {
  try {
    const material = { key: await fs.readFile(files.key), cert: await fs.readFile(files.cert) };
    const x509 = new X509Certificate(material.cert);
    const expiresSoon = new Date(x509.validTo).getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS;
    const usable = !expiresSoon && x509.checkHost(hostname) !== undefined && x509.checkPrivateKey(createPrivateKey(material.key));
    return usable ? material : null;
  } catch {
    return null; // missing or damaged: generate a fresh pair
  }
}

async function createSelfSigned(
  dir: string,
  files: { key: string; cert: string },
  hostname: string,
  now: Date,
): Promise<TlsMaterial> {
  const pems = await (await import('selfsigned')).generate([{ name: 'commonName', value: hostname }], {
    keyType: 'rsa', // the one every sending MTA can use, old ones included
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + VALIDITY_DAYS * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: hostname }] },
    ],
  });
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  // key before cert: a crash in between leaves a pair that fails checkPrivateKey and is regenerated
  await writeFileAtomic(files.key, pems.private, 0o600);
  await writeFileAtomic(files.cert, pems.cert, 0o644);
  return { key: Buffer.from(pems.private), cert: Buffer.from(pems.cert) };
}

async function writeFileAtomic(file: string, contents: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await fs.open(tmp, 'w', mode);
  try {
    await handle.chmod(mode); // open()'s mode is filtered by the umask and ignored if tmp existed
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
}
