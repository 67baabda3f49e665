import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { loadConfig } from '../../../server/config.js';
import { loadOrCreateTlsCert } from '../../../server/smtp/tls-cert.js';

const TIMEOUT = { timeout: 30_000 };

function setup(t: { teardown(fn: () => void): void }, overrides: Record<string, unknown> = {}) {
  const dir = fs.mkdtempSync(os.tmpdir() + '/cal-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({}, { dataDir: dir, hostname: 'mx.caliopen.test', ...overrides }, dir);
  return { dir, config, keyFile: path.join(dir, 'tls', 'key.pem'), certFile: path.join(dir, 'tls', 'cert.pem') };
}

t.test('self-signed certificate created once, 0600 key, reused on the next start', TIMEOUT, async (t) => {
  const { dir, config, keyFile, certFile } = setup(t);
  const first = await loadOrCreateTlsCert(config, dir);
  t.equal(fs.statSync(keyFile).mode & 0o777, 0o600, 'private key readable by the owner only');
  t.same(fs.readFileSync(certFile), first.cert);
  const x509 = new X509Certificate(first.cert);
  t.equal(x509.checkHost('mx.caliopen.test'), 'mx.caliopen.test');
  t.ok(new Date(x509.validTo).getTime() > Date.now() + 365 * 86_400_000, 'valid for more than a year');
  const mtime = fs.statSync(certFile).mtimeMs;
  const second = await loadOrCreateTlsCert(config, dir);
  t.same(second.key, first.key, 'same key');
  t.same(second.cert, first.cert, 'same certificate');
  t.equal(fs.statSync(certFile).mtimeMs, mtime, 'files not rewritten');
  t.same(fs.readdirSync(path.join(dir, 'tls')).sort(), ['cert.pem', 'key.pem'], 'no temp files left behind');
});

t.test('regenerated when the hostname changes, the files are damaged, or it nears expiry', TIMEOUT, async (t) => {
  const { dir, config, certFile } = setup(t);
  const first = await loadOrCreateTlsCert(config, dir);
  const renamed = await loadOrCreateTlsCert({ ...config, hostname: 'mail.other.test' }, dir);
  t.not(renamed.cert.toString(), first.cert.toString());
  t.equal(new X509Certificate(renamed.cert).checkHost('mail.other.test'), 'mail.other.test');
  fs.writeFileSync(certFile, 'garbage');
  const repaired = await loadOrCreateTlsCert(config, dir);
  t.equal(new X509Certificate(repaired.cert).checkHost('mx.caliopen.test'), 'mx.caliopen.test');
  const later = new Date(Date.now() + 710 * 86_400_000); // 20 days before the end of a 730-day validity
  const renewed = await loadOrCreateTlsCert(config, dir, later);
  t.not(renewed.cert.toString(), repaired.cert.toString());
});

t.test('configured certFile/keyFile win; half a pair or a mismatch is a config error', TIMEOUT, async (t) => {
  const made = setup(t);
  const own = await loadOrCreateTlsCert(made.config, made.dir);
  const other = setup(t);
  const otherPair = await loadOrCreateTlsCert(other.config, other.dir);

  const { dir, config } = setup(t, { tls: { certFile: made.certFile, keyFile: made.keyFile } });
  const loaded = await loadOrCreateTlsCert(config, dir);
  t.same(loaded, own);
  t.notOk(fs.existsSync(path.join(dir, 'tls')), 'nothing generated');

  const half = setup(t, { tls: { certFile: made.certFile } });
  await t.rejects(loadOrCreateTlsCert(half.config, half.dir), { code: 'invalid_config', message: /set together/ });
  const missing = setup(t, { tls: { certFile: '/nonexistent/cert.pem', keyFile: made.keyFile } });
  await t.rejects(loadOrCreateTlsCert(missing.config, missing.dir), { code: 'invalid_config', message: /cannot read/ });
  const mismatch = setup(t, { tls: { certFile: made.certFile, keyFile: other.keyFile } });
  t.not(otherPair.key.toString(), own.key.toString());
  await t.rejects(loadOrCreateTlsCert(mismatch.config, mismatch.dir), { code: 'invalid_config', message: /usable pair/ });
});
