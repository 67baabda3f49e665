/**
 * Serves the web app (web/) at / and the browser libraries it imports from node_modules
 * under /vendor/. Only files inside web/ with a known extension are served: no directory
 * listings, no dotfiles, no way out through "..", encoded or not. The content type comes from
 * the extension (with nosniff set globally, a wrong type would break the app, not open a hole).
 * Every file carries an ETag (size and modification time): the browser revalidates (no-cache) and
 * gets 304 when nothing changed. Text is sent gzipped to browsers that take it, compressed once
 * per file version and kept in memory (the app is a few hundred KB).
 */
import fs from 'node:fs/promises';
import zlib from 'node:zlib';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Middleware } from 'koa';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web');

/** Exact files, never a directory of node_modules: what the browser may load is listed here. */
function vendorFiles(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const dist = (pkg: string) => path.dirname(require.resolve(pkg));
  return {
    '/vendor/preact.js': path.join(dist('preact'), 'preact.mjs'),
    '/vendor/htm.js': path.join(dist('htm'), 'htm.module.js'),
    // loaded by web/js/pgp/ callers only when a key is needed, never on the first page load
    '/vendor/openpgp.mjs': path.join(dist('openpgp'), '..', 'openpgp.min.mjs'),
    // the key fingerprint as a QR code (keys screen only, loaded when shown)
    '/vendor/qrcode.mjs': path.join(dist('qrcode-generator'), 'qrcode.mjs'),
  };
}

/** The file a URL path names inside root, or null when it is outside, hidden or malformed. */
export function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  if (decoded.split('/').some((seg) => seg.startsWith('.'))) return null;
  const file = path.resolve(root, '.' + (decoded.endsWith('/') ? decoded + 'index.html' : decoded));
  return file.startsWith(root + path.sep) ? file : null;
}

export function serveWeb(root = WEB_ROOT): Middleware {
  const vendor = vendorFiles();
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.path.startsWith('/api/')) return next();
    const file = vendor[ctx.path] ?? resolveInside(root, ctx.path);
    const type = file ? TYPES[path.extname(file)] : undefined;
    if (!file || !type) return next();
    const stat = await fs.stat(file).catch(() => null);
    if (!stat?.isFile()) return next();
    const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    ctx.type = type;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('ETag', etag);
    ctx.set('Vary', 'Accept-Encoding');
    if (ctx.get('If-None-Match') === etag) {
      ctx.status = 304;
      return;
    }
    const gzip = COMPRESSIBLE.test(type) && /\bgzip\b/.test(ctx.get('Accept-Encoding'));
    if (gzip) ctx.set('Content-Encoding', 'gzip');
    ctx.body = gzip ? await gzipped(file, etag) : await fs.readFile(file);
  };
}

const COMPRESSIBLE = /^(?:text\/|application\/json)/;
const compressed = new Map<string, { etag: string; body: Promise<Buffer> }>();

/** The file gzipped, once per version (etag); a changed file replaces its entry. */
function gzipped(file: string, etag: string): Promise<Buffer> {
  const hit = compressed.get(file);
  if (hit?.etag === etag) return hit.body;
  const body = fs.readFile(file).then((raw) => new Promise<Buffer>((resolve, reject) => zlib.gzip(raw, { level: 9 }, (err, out) => (err ? reject(err) : resolve(out)))));
  body.catch(() => compressed.delete(file));
  compressed.set(file, { etag, body });
  return body;
}
