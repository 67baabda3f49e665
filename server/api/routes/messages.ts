/** One message: its view, its raw source, its attachments, and the user's actions on it. */
import { z } from 'zod';
import type { Router } from '@koa/router';
import { getAttachment, getMessageBodyDocument, getMessageView, getRaw, setRead } from '../../mail/messages.js';
import { changeTags } from '../../mail/message-tags.js';
import { sendDownload, safeContentType } from '../downloads.js';
import { langOf } from '../presenters.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';
import { flag, id, idParams } from './params.js';

const viewQuery = z.object({ allow_remote: flag.optional() });
const bodyQuery = z.object({ remote: flag.optional() });
const attachmentParams = z.object({ id, index: z.coerce.number().int().min(0).max(10_000) });
const tagName = z.string().trim().min(1).max(64);
const tagsBody = z.object({ add: z.array(tagName).max(50).optional(), remove: z.array(tagName).max(50).optional() });
const readBody = z.object({ read: z.boolean() });

export function messageBodyPolicy(remote: boolean): string {
  return [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `img-src data:${remote ? ' https: http:' : ''}`,
    'sandbox allow-popups allow-popups-to-escape-sandbox',
    "frame-ancestors 'self'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function messageRoutes({ services }: RouteContext): Router<ApiState> {
  const { deps } = services;
  const router = protectedRouter();
  router.get('/messages/:id', async (ctx) => {
    const { id: messageId } = idParams.parse(ctx.params);
    const { allow_remote } = viewQuery.parse(ctx.query);
    const { user } = authOf(ctx);
    ctx.body = await getMessageView(deps, user, messageId, { askedRemote: allow_remote ?? false, lang: langOf(user) });
  });
  // The body as its own document for the message view's iframe (sandbox="allow-popups …", no
  // scripts, a unique origin). It gets its own CSP rather than inheriting the app's: the mail's
  // inline styles apply, images load only from data: (its own cid: parts) unless remote images
  // are allowed for it, and nothing else can be fetched.
  router.get('/messages/:id/body', async (ctx) => {
    const { id: messageId } = idParams.parse(ctx.params);
    const { remote } = bodyQuery.parse(ctx.query);
    const body = await getMessageBodyDocument(deps, authOf(ctx).user, messageId, remote ?? false);
    ctx.set('Content-Security-Policy', messageBodyPolicy(body.remote));
    ctx.set('X-Frame-Options', 'SAMEORIGIN');
    ctx.set('Cache-Control', 'private, no-store');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = body.document;
  });
  router.get('/messages/:id/raw', async (ctx) => {
    const { id: messageId } = idParams.parse(ctx.params);
    const { raw, filename } = await getRaw(deps, authOf(ctx).user.id, messageId);
    sendDownload(ctx, raw, filename, 'message/rfc822');
  });
  router.get('/messages/:id/attachments/:index', async (ctx) => {
    const p = attachmentParams.parse(ctx.params);
    const a = await getAttachment(deps, authOf(ctx).user.id, p.id, p.index);
    sendDownload(ctx, a.content, a.filename ?? `attachment-${p.index}`, safeContentType(a.contentType));
  });
  router.post('/messages/:id/tags', async (ctx) => {
    const { id: messageId } = idParams.parse(ctx.params);
    ctx.body = await changeTags(deps, authOf(ctx).user.id, messageId, tagsBody.parse(ctx.state.body ?? {}));
  });
  router.post('/messages/:id/read', async (ctx) => {
    const { id: messageId } = idParams.parse(ctx.params);
    ctx.body = await setRead(deps, authOf(ctx).user.id, messageId, readBody.parse(ctx.state.body ?? {}).read);
  });
  return router;
}
