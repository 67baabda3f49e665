import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { createBlobStore, sha256 } from '../../../server/store/blobs.js';

t.test('put stores content-addressed files and leaves no temporary file behind', async (t) => {
  const dir = t.testdir();
  const blobs = createBlobStore(dir);
  const a = Buffer.from('Subject: a\r\n\r\nhello\r\n');
  const b = Buffer.from('Subject: b\r\n\r\nworld\r\n');
  // the same bytes twice at once (a message delivered twice) and another message
  const [x, y, z] = await Promise.all([blobs.put(a), blobs.put(a), blobs.put(b)]);
  t.same(x, { hash: sha256(a), size: a.length });
  t.same(y, x);
  t.equal(z.hash, sha256(b));
  t.same(await blobs.get(x.hash), a);
  t.same(await blobs.get(z.hash), b);
  t.same(fs.readdirSync(path.join(dir, 'blobs', 'tmp')), [], 'temporary names all renamed');
  t.equal(fs.statSync(blobs.pathOf(x.hash)).mode & 0o777, 0o600);
});

t.test('a big message is stored whole, and directory handles are closed once the store is idle', async (t) => {
  const dir = t.testdir();
  const openFds = () => fs.readdirSync('/proc/self/fd').length;
  const before = openFds();
  const blobs = createBlobStore(dir);
  const big = Buffer.alloc(3 * 1024 * 1024 + 7, 'x'); // over the single-write O_DSYNC path
  const { hash, size } = await blobs.put(big);
  t.equal(size, big.length);
  t.ok((await blobs.get(hash)).equals(big));
  t.ok(openFds() > before, 'directory handles kept while mail arrives');
  await new Promise((r) => setTimeout(r, 2500));
  t.ok(openFds() <= before, 'and closed after a quiet second'); // (the first test's too)
});
