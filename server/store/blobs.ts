/**
 * Raw messages as immutable, content-addressed files under <dataDir>/blobs/ab/<sha256>.eml.
 * put() returns only once the bytes and the directory entry are fsynced: after that, a power cut
 * cannot lose them. A crash between put() and the database commit leaves an orphan file that no
 * row points at, which is harmless (and swept by sweepOrphans()).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
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

/** open(2) flags of a new temporary file whose every write is durable on return (POSIX O_DSYNC: as write + fdatasync). */
const CREATE_DURABLE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_DSYNC;
/** writeFile writes in chunks of 512 KB, each of which O_DSYNC would flush: above this, one fsync at the end instead. */
const DSYNC_MAX = 512 * 1024;

/**
 * fsync(2) of directories through handles kept open while mail arrives: one call through libuv's
 * pool instead of three (open, fsync, close), each of which wakes a pool thread. The handles are
 * closed after a quiet second with no fsync running, so an idle box (or a finished test) holds none.
 */
function createDirSyncer(idleMs = 1000): (dir: string) => Promise<void> {
  const handles = new Map<string, Promise<FileHandle>>();
  let running = 0;
  let lastUse = 0;
  let timer: NodeJS.Timeout | null = null;
  const closeWhenIdle = (): void => {
    timer = null;
    if (running > 0 || Date.now() - lastUse < idleMs) return arm();
    const open = [...handles.values()];
    handles.clear(); // before closing: a new fsync opens its own handle
    for (const h of open) void h.then((fh) => fh.close()).catch(() => {});
  };
  const arm = (): void => {
    timer ??= setTimeout(closeWhenIdle, idleMs).unref();
  };
  return async (dir) => {
    running++;
    try {
      let h = handles.get(dir);
      if (!h) {
        h = fsp.open(dir, 'r');
        handles.set(dir, h);
        h.catch(() => handles.get(dir) === h && handles.delete(dir));
      }
      await (await h).sync();
    } finally {
      running--;
      lastUse = Date.now();
      arm();
    }
  };
}

export function createBlobStore(dataDir: string): BlobStore {
  const root = path.join(dataDir, 'blobs');
  const tmpDir = path.join(root, 'tmp');
  fs.mkdirSync(tmpDir, { recursive: true });
  const knownDirs = new Set<string>();
  const fsyncDir = createDirSyncer();
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
      // Durable before the rename (O_DSYNC, or flush: fsync before close). Writing again over an
      // existing blob is harmless (same bytes), and cheaper than asking first on every message.
      if (bytes.length <= DSYNC_MAX) await fsp.writeFile(tmp, bytes, { mode: 0o600, flag: CREATE_DURABLE });
      else await fsp.writeFile(tmp, bytes, { mode: 0o600, flag: 'wx', flush: true });
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
