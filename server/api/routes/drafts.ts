/**
 * Drafts: write, autosave, attach, discard, send. Attachments are uploaded as the raw request body
 * (its Content-Type is the file's, the name in ?filename= or X-Filename), so the JSON body reader
 * leaves that one route alone (middleware/json-body.ts).
 */
import { z } from 'zod';
import type { Router } from '@koa/router';
import type { ParameterizedContext } from 'koa';
import { addDraftAttachment, createDraft, discardDraft, getDraft, getDraftAttachment, listDrafts, removeDraftAttachment, sendDraft, updateDraft } from '../../mail/drafts.js';
import { AppError } from '../../errors.js';
import { sendDownload } from '../downloads.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';
import { id, idParams } from './params.js';

const MAX_RECIPIENTS = 500;
const mailbox = z.union([z.string().max(1000), z.object({ address: z.string().max(1000), name: z.string().max(1000).nullish() })]);
const mailboxes = z.array(mailbox).max(MAX_RECIPIENTS);
const fields = {
  from: z.string().max(320).optional(),
  to: mailboxes.optional(),
  cc: mailboxes.optional(),
  bcc: mailboxes.optional(),
  subject: z.string().max(2000).optional(),
  body: z.string().optional(), // bounded by the JSON body limit
};
const newDraftBody = z
  .strictObject({ ...fields, replyTo: id.optional(), replyAll: z.boolean().optional() })
  .refine((b) => !b.replyAll || b.replyTo !== undefined, { message: 'replyAll needs replyTo', path: ['replyAll'] });
const patchBody = z.strictObject(fields);
const attachmentParams = z.object({ id, attId: id });
const uploadName = z.string().trim().min(1, 'give the file name in ?filename= or X-Filename').max(1000);

/** A header can only carry Latin-1: clients percent-encode other names (encodeURIComponent). */
function headerFilename(value: string): string | undefined {
  if (!value) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

async function readUpload(ctx: ParameterizedContext<ApiState>, limit: number): Promise<Buffer> {
  const tooBig = () => new AppError('message_too_big', `attachments may total at most ${limit} bytes`);
  if (Number(ctx.get('Content-Length') || 0) > limit) throw tooBig();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooBig();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function draftRoutes({ services }: RouteContext): Router<ApiState> {
  const { deps } = services;
  const router = protectedRouter();
  router.get('/drafts', async (ctx) => {
    ctx.body = { items: await listDrafts(deps, authOf(ctx).user.id) };
  });
  router.post('/drafts', async (ctx) => {
    const input = newDraftBody.parse(ctx.state.body ?? {});
    ctx.status = 201;
    ctx.body = await createDraft(deps, authOf(ctx).user.id, input);
  });
  router.get('/drafts/:id', async (ctx) => {
    ctx.body = await getDraft(deps, authOf(ctx).user.id, idParams.parse(ctx.params).id);
  });
  router.patch('/drafts/:id', async (ctx) => {
    const { id: draftId } = idParams.parse(ctx.params);
    ctx.body = await updateDraft(deps, authOf(ctx).user.id, draftId, patchBody.parse(ctx.state.body ?? {}));
  });
  router.delete('/drafts/:id', async (ctx) => {
    await discardDraft(deps, authOf(ctx).user.id, idParams.parse(ctx.params).id);
    ctx.status = 204;
  });
  router.post('/drafts/:id/attachments', async (ctx) => {
    const { id: draftId } = idParams.parse(ctx.params);
    const filename = uploadName.parse(ctx.query.filename ?? headerFilename(ctx.get('X-Filename')) ?? '');
    const content = await readUpload(ctx, deps.config.smtp.maxMessageSize);
    ctx.status = 201;
    ctx.body = await addDraftAttachment(deps, authOf(ctx).user.id, draftId, { filename, contentType: ctx.get('Content-Type') || 'application/octet-stream', content });
  });
  router.get('/drafts/:id/attachments/:attId', async (ctx) => {
    const p = attachmentParams.parse(ctx.params);
    const a = await getDraftAttachment(deps, authOf(ctx).user.id, p.id, p.attId);
    sendDownload(ctx, a.content, a.filename, 'application/octet-stream');
  });
  router.delete('/drafts/:id/attachments/:attId', async (ctx) => {
    const p = attachmentParams.parse(ctx.params);
    await removeDraftAttachment(deps, authOf(ctx).user.id, p.id, p.attId);
    ctx.status = 204;
  });
  router.post('/drafts/:id/send', async (ctx) => {
    const { id: draftId } = idParams.parse(ctx.params);
    ctx.status = 202;
    ctx.body = await sendDraft(deps, services.sender, authOf(ctx).user.id, draftId);
  });
  return router;
}
