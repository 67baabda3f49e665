/**
 * Raw messages as immutable, content-addressed files under <dataDir>/blobs/ab/<sha256>.eml.
 * put() returns only once the bytes and the directory entry are fsynced: after that, a power cut
 * cannot lose them. A crash between put() and the database commit leaves an orphan file that no
 * row points at, which is harmless (and swept by sweepOrphans()).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

export interface BlobStore {
  put(bytes: Buffer): Promise<{ hash: string; size: number }>;
  get(hash: string): Promise<Buffer>;
  pathOf(hash: string): string;
  remove(hash: string): Promise<void>;
  sweepOrphans(isReferenced: (hash: string) => Promise<boolean>): Promise<number>;
}

export function sha256(bytes: Buffer | string): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

// Temporary names: unique within this process by a counter (shared by every store), across
// processes and restarts by the pid and start time, so a leftover of a crashed run is never
// reused ('wx' would fail on it). Cheaper than random bytes for every message.
const TMP_PREFIX = `${process.pid}.${Date.now().toString(36)}`;
let tmpCount = 0;

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export function createBlobStore(dataDir: string): BlobStore {
  const root = path.join(dataDir, 'blobs');
  const tmpDir = path.join(root, 'tmp');
  fs.mkdirSync(tmpDir, { recursive: true });
  const knownDirs = new Set<string>();
  const pathOf = (hash: string) => path.join(root, hash.slice(0, 2), `${hash}.eml`);

  return {
    pathOf,
    async put(bytes) {
      const hash = sha256(bytes);
      const final = pathOf(hash);
      const dir = path.dirname(final);
      if (!knownDirs.has(dir)) {
        await fsp.mkdir(dir, { recursive: true });
        await fsyncDir(root);
        knownDirs.add(dir);
      }
      const tmp = path.join(tmpDir, `${hash}.${TMP_PREFIX}.${++tmpCount}`);
      // flush: fsync before close. Writing again over an existing blob is harmless (same bytes),
      // and cheaper than asking first on every message.
      await fsp.writeFile(tmp, bytes, { mode: 0o600, flag: 'wx', flush: true });
      await fsp.rename(tmp, final);
      await fsyncDir(dir);
      return { hash, size: bytes.length };
    },
    async get(hash) {
      if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error('bad blob hash');
      return fsp.readFile(pathOf(hash));
    },
    async remove(hash) {
      await fsp.rm(pathOf(hash), { force: true });
    },
    async sweepOrphans(isReferenced) {
      let removed = 0;
      await fsp.rm(tmpDir, { recursive: true, force: true });
      await fsp.mkdir(tmpDir, { recursive: true });
      for (const sub of await fsp.readdir(root)) {
        if (sub === 'tmp' || sub.length !== 2) continue;
        for (const f of await fsp.readdir(path.join(root, sub))) {
          const hash = f.replace(/\.eml$/, '');
          if (!(await isReferenced(hash))) {
            await fsp.rm(path.join(root, sub, f), { force: true });
            removed++;
          }
        }
      }
      return removed;
    },
  };
}
