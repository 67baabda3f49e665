/**
 * Headers for files handed to the browser (raw messages, attachments). A file from a stranger
 * must never render as part of our origin: it is always a download, typed octet-stream unless its
 * type is one browsers display without running code, and sandboxed by its own CSP.
 */
import type { Context } from 'koa';

/** Types a browser shows without executing anything; SVG and HTML are deliberately absent. */
const DISPLAYABLE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain']);

export function safeContentType(declared: string | undefined): string {
  const base = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  return DISPLAYABLE.has(base) ? base : 'application/octet-stream';
}

/** RFC 6266 with an ASCII fallback and the exact name in RFC 8187 encoding. */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_').replace(/[/:]/g, '_').slice(0, 200) || 'download';
  const exact = encodeURIComponent(filename.slice(0, 200)).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}

export function sendDownload(ctx: Context, body: Buffer, filename: string, type: string): void {
  ctx.set('Content-Disposition', contentDisposition(filename));
  ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
  ctx.set('Cache-Control', 'private, no-store');
  ctx.type = type;
  ctx.body = body;
}
