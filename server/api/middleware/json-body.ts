/**
 * Reads JSON request bodies into ctx.state.body. Only application/json is accepted: an HTML form
 * on another site cannot send it without a CORS preflight, which closes the login-CSRF door that
 * SameSite cookies leave open for unauthenticated routes.
 */
import type { Middleware } from 'koa';
import { AppError } from '../../errors.js';
import type { ApiState } from '../types.js';

const MAX_BODY_BYTES = 1024 * 1024;
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
// Uploads whose body is the file itself: their route reads it, within its own size limit. They are
// CSRF-safe all the same: being authenticated, they need the X-CSRF-Token header no form can send.
// A sealed message (JSON with the armored message) may exceed 1 MB: its route reads it within the message size limit.
const RAW_BODY_ROUTES = [/^\/api\/v1\/drafts\/[^/]+\/attachments\/?$/, /^\/api\/v1\/contacts\/import\/?$/, /^\/api\/v1\/messages\/sealed\/?$/];

async function readLimited(stream: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > limit) throw new AppError('bad_request', `request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function jsonBody(): Middleware<ApiState> {
  return async (ctx, next) => {
    if (!WITH_BODY.has(ctx.method) || !ctx.path.startsWith('/api/')) return next();
    if (ctx.method === 'POST' && RAW_BODY_ROUTES.some((r) => r.test(ctx.path))) return next();
    const raw = await readLimited(ctx.req, MAX_BODY_BYTES);
    if (raw.length === 0) return next();
    if (!ctx.is('application/json')) throw new AppError('bad_request', 'request bodies must be application/json');
    try {
      ctx.state.body = JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      throw new AppError('invalid_json', 'the request body is not valid JSON');
    }
    await next();
  };
}
