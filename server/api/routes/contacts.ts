/**
 * Contacts: the list (search, tag = group, status, cursor), the card with its PI, add by hand, edit,
 * delete, accept a suggestion, tags, the discussions with a contact, and vCard import/export. The
 * import body is the file itself (text/vcard), so the JSON body reader leaves that route alone.
 */
import { z } from 'zod';
import type { Router } from '@koa/router';
import type { ParameterizedContext } from 'koa';
import { AppError } from '../../errors.js';
import { acceptContact, changeContactTags, contactDiscussions, createContact, deleteContact, getContact, updateContact } from '../../contacts/contacts.js';
import { listContacts, MAX_CONTACTS_PAGE } from '../../contacts/contact-list.js';
import { exportContactVCard, exportVCards, importVCards, MAX_VCARD_BYTES } from '../../contacts/contact-vcards.js';
import { MAX_LIMIT } from '../../mail/timeline.js';
import { sendDownload } from '../downloads.js';
import { langOf } from '../presenters.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';
import { idParams, queryInt } from './params.js';

// Lengths and formats are the domain's (contact-input.ts); zod bounds the shape.
const text = (max: number) => z.string().max(max).nullish();
const place = z.enum(['home', 'work', 'other']).nullish();
const email = z.union([z.string().max(1000), z.strictObject({ address: z.string().max(1000), type: place, preferred: z.boolean().optional() })]);
const phone = z.strictObject({ number: z.string().max(200), type: z.string().max(200).nullish() });
const postal = z.strictObject({ type: place, street: text(2000), city: text(500), region: text(500), postcode: text(500), country: text(500) });
const organisation = z.strictObject({ name: text(500), department: text(500), title: text(500) });
const cardBody = z.strictObject({
  display_name: text(500), given_name: text(500), family_name: text(500), additional_names: text(500), name_prefix: text(500), name_suffix: text(500),
  notes: text(40_000), emails: z.array(email).max(100).optional(), phones: z.array(phone).max(100).optional(),
  addresses: z.array(postal).max(50).optional(), organisations: z.array(organisation).max(50).optional(),
});
const listQuery = z.object({
  q: z.string().max(200).optional(), tag: z.string().min(1).max(64).optional(), status: z.enum(['known', 'suggested']).optional(),
  limit: queryInt(1, MAX_CONTACTS_PAGE), cursor: z.string().max(600).optional(),
});
const pageQuery = z.object({ limit: queryInt(1, MAX_LIMIT), before: z.string().max(40).optional() });
const version = z.object({ version: z.enum(['4.0', '3.0']).default('4.0') });
const exportQuery = version.extend({ status: z.enum(['known', 'suggested', 'all']).default('known') });
const tagName = z.string().trim().min(1).max(64);
const tagsBody = z.strictObject({ add: z.array(tagName).max(50).optional(), remove: z.array(tagName).max(50).optional() });

async function readVCardBody(ctx: ParameterizedContext<ApiState>): Promise<Buffer> {
  const tooBig = () => new AppError('message_too_big', `vCard files may be at most ${MAX_VCARD_BYTES} bytes`);
  if (Number(ctx.get('Content-Length') || 0) > MAX_VCARD_BYTES) throw tooBig();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_VCARD_BYTES) throw tooBig();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function contactRoutes({ services }: RouteContext): Router<ApiState> {
  const { db, clock } = services.deps;
  const router = protectedRouter();
  const view = (ctx: { state: ApiState }) => ({ now: clock.now().getTime(), lang: langOf(authOf(ctx).user) });
  router.get('/contacts', async (ctx) => {
    ctx.body = await listContacts(db, authOf(ctx).user.id, listQuery.parse(ctx.query), clock.now().getTime());
  });
  router.get('/contacts/export.vcf', async (ctx) => {
    const q = exportQuery.parse(ctx.query);
    const text = await exportVCards(db, authOf(ctx).user.id, { version: q.version, status: q.status });
    sendDownload(ctx, Buffer.from(text, 'utf8'), 'contacts.vcf', 'text/vcard; charset=utf-8');
  });
  router.post('/contacts/import', async (ctx) => {
    const body = await readVCardBody(ctx);
    ctx.body = await importVCards(db, authOf(ctx).user.id, body, { charset: ctx.request.charset || undefined, now: clock.now().getTime() });
  });
  router.post('/contacts', async (ctx) => {
    const input = cardBody.parse(ctx.state.body ?? {});
    ctx.status = 201;
    ctx.body = await createContact(db, authOf(ctx).user.id, input, view(ctx));
  });
  router.get('/contacts/:id', async (ctx) => {
    ctx.body = await getContact(db, authOf(ctx).user.id, idParams.parse(ctx.params).id, view(ctx));
  });
  router.patch('/contacts/:id', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    ctx.body = await updateContact(db, authOf(ctx).user.id, id, cardBody.parse(ctx.state.body ?? {}), view(ctx));
  });
  router.delete('/contacts/:id', async (ctx) => {
    await deleteContact(db, authOf(ctx).user.id, idParams.parse(ctx.params).id);
    ctx.status = 204;
  });
  router.post('/contacts/:id/accept', async (ctx) => {
    ctx.body = await acceptContact(db, authOf(ctx).user.id, idParams.parse(ctx.params).id, view(ctx));
  });
  router.post('/contacts/:id/tags', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    ctx.body = await changeContactTags(db, authOf(ctx).user.id, id, tagsBody.parse(ctx.state.body ?? {}), clock.now().getTime());
  });
  router.get('/contacts/:id/discussions', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    ctx.body = await contactDiscussions(db, authOf(ctx).user.id, id, pageQuery.parse(ctx.query));
  });
  router.get('/contacts/:id/vcard', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    const text = await exportContactVCard(db, authOf(ctx).user.id, id, version.parse(ctx.query).version);
    sendDownload(ctx, Buffer.from(text, 'utf8'), `contact-${id}.vcf`, 'text/vcard; charset=utf-8');
  });
  return router;
}
