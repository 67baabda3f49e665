import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { createSecretBox, loadBoxKey } from '../../server/secrets.js';
import { tempDir } from '../helpers/deps.js';

t.test('the box key is created once, private, and reused', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const key = loadBoxKey(dir);
  t.equal(key.length, 32);
  t.equal(fs.statSync(path.join(dir, 'secret.key')).mode & 0o777, 0o600);
  t.same(loadBoxKey(dir), key);
});

t.test('sealed secrets open with the same key only and never show the plain text', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const box = createSecretBox(loadBoxKey(dir));
  const sealed = box.seal('relay-p@ss');
  t.notMatch(sealed, /relay-p@ss/);
  t.not(box.seal('relay-p@ss'), sealed, 'a fresh IV each time');
  t.equal(box.open(sealed), 'relay-p@ss');
  const other = createSecretBox(Buffer.alloc(32, 7));
  t.throws(() => other.open(sealed), { code: 'invalid_secret' });
  t.throws(() => box.open('plain'), { code: 'invalid_secret' });
});
