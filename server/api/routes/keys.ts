/**
 * OpenPGP (issue 5): the user's key pair (stored only passphrase-protected), contact keys (list,
 * paste/upload, verify, delete), the composer's "sealed or postcard" lookup, Autocrypt gossip
 * reported by the browser, sealed sending, the decrypted-text index setting — and, public, the
 * box's Web Key Directory under /.well-known/openpgpkey/ (advanced and direct methods).
 */
import { z } from 'zod';
import { Router } from '@koa/router';
import type { ParameterizedContext } from 'koa';
import { AppError } from '../../errors.js';
import { currentUserKey, presentUserKey, putUserKey, revokeUserKey } from '../../crypto/user-keys.js';
import { addContactKey, deleteContactKey, listContactKeys, presentContactKey, setKeyVerified } from '../../crypto/contact-keys.js';
import { lookupRecipients } from '../../crypto/lookup.js';
import { gossipOfMessage } from '../../crypto/autocrypt.js';
import { indexDecrypted, pgpSettings, sendSealed, setPgpSettings } from '../../crypto/sealed.js';
import { domainOfHost, isOurDomain, publishedKey } from '../../crypto/wkd-publish.js';
import { sendDownload } from '../downloads.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';
import { id, idParams } from './params.js';

const armored = z.string().min(1).max(200_000);
const keyPair = z.strictObject({ public_key: armored, private_key: armored });
const revoked = z.strictObject({ public_key: armored, private_key: armored.optional() });
const exportQuery = z.object({ part: z.enum(['public', 'private']).default('public') });
const contactKeyQuery = z.object({ address: z.string().max(320).optional(), contact_id: id.optional() });
const newContactKey = z.strictObject({ address: z.string().min(3).max(320), key: armored });
const verifyBody = z.strictObject({ verified: z.boolean() });
const lookupQuery = z.object({ address: z.union([z.string().max(320), z.array(z.string().max(320)).max(100)]) });
const gossipBody = z.strictObject({ message_id: id, headers: z.array(z.string().max(20_000)).max(50) });
const settingsBody = z.strictObject({ index_decrypted: z.boolean() });
const decryptedBody = z.strictObject({ subject: z.string().max(1000).nullish(), text: z.string().max(5_000_000), attachments: z.array(z.string().max(500)).max(200).optional() });
const mailbox = z.union([z.string().max(1000), z.strictObject({ address: z.string().max(320), name: z.string().max(200).nullish() })]);
const sealedBody = z.strictObject({
  from: z.string().max(320).optional(), to: z.array(mailbox).max(100), cc: z.array(mailbox).max(100).optional(), bcc: z.array(mailbox).max(100).optional(),
  armored: z.string().min(1).max(200_000_000), message_id: z.string().max(300).optional(), in_reply_to: z.string().max(300).nullish(),
  references: z.array(z.string().max(300)).max(100).optional(), discussion_id: id.optional(),
});

export function keyRoutes(rc: RouteContext): Router<ApiState>[] {
  return [accountKeyRoutes(rc), wkdRoutes(rc)];
}

function accountKeyRoutes({ services }: RouteContext): Router<ApiState> {
  const { deps, sender } = services;
  const router = protectedRouter();
  const userId = (ctx: { state: ApiState }) => authOf(ctx).user.id;
  router.get('/keys/me', async (ctx) => {
    const key = await currentUserKey(deps.db, userId(ctx));
    ctx.body = { key: key ? presentUserKey(key, { withPrivate: true }) : null };
  });
  router.put('/keys/me', async (ctx) => {
    ctx.body = { key: presentUserKey(await putUserKey(deps, userId(ctx), keyPair.parse(ctx.state.body ?? {})), { withPrivate: true }) };
  });
  router.get('/keys/me/export', async (ctx) => {
    const { part } = exportQuery.parse(ctx.query);
    const key = await currentUserKey(deps.db, userId(ctx));
    if (!key) throw new AppError('key_not_found', 'no key pair on this account');
    const text = part === 'private' ? key.private_armored : key.public_armored;
    sendDownload(ctx, Buffer.from(text, 'utf8'), `${key.fingerprint}-${part}.asc`, 'application/pgp-keys');
  });
  router.post('/keys/me/revoke', async (ctx) => {
    ctx.body = { key: presentUserKey(await revokeUserKey(deps, userId(ctx), revoked.parse(ctx.state.body ?? {})), { withPrivate: true }) };
  });
  router.get('/keys/contacts', async (ctx) => {
    const q = contactKeyQuery.parse(ctx.query);
    ctx.body = { keys: (await listContactKeys(deps.db, userId(ctx), { address: q.address, contactId: q.contact_id })).map(presentContactKey) };
  });
  router.post('/keys/contacts', async (ctx) => {
    const b = newContactKey.parse(ctx.state.body ?? {});
    ctx.status = 201;
    ctx.body = { key: presentContactKey(await addContactKey(deps, userId(ctx), b.address, b.key)) };
  });
  router.post('/keys/contacts/:id/verify', async (ctx) => {
    ctx.body = { key: presentContactKey(await setKeyVerified(deps, userId(ctx), idParams.parse(ctx.params).id, verifyBody.parse(ctx.state.body ?? {}).verified)) };
  });
  router.delete('/keys/contacts/:id', async (ctx) => {
    await deleteContactKey(deps, userId(ctx), idParams.parse(ctx.params).id);
    ctx.status = 204;
  });
  router.get('/keys/lookup', async (ctx) => {
    const { address } = lookupQuery.parse(ctx.query);
    ctx.body = await lookupRecipients(deps, userId(ctx), Array.isArray(address) ? address : [address]);
  });
  router.post('/keys/gossip', async (ctx) => {
    const b = gossipBody.parse(ctx.state.body ?? {});
    ctx.body = { updated: await gossipOfMessage(deps, userId(ctx), b.message_id, b.headers) };
  });
  router.get('/keys/settings', async (ctx) => {
    ctx.body = await pgpSettings(deps, userId(ctx));
  });
  router.put('/keys/settings', async (ctx) => {
    ctx.body = await setPgpSettings(deps, userId(ctx), settingsBody.parse(ctx.state.body ?? {}));
  });
  router.post('/messages/:id/decrypted-text', async (ctx) => {
    await indexDecrypted(deps, userId(ctx), idParams.parse(ctx.params).id, decryptedBody.parse(ctx.state.body ?? {}));
    ctx.status = 204;
  });
  router.post('/messages/sealed', async (ctx) => {
    ctx.body = await sendSealed(deps, sender, userId(ctx), sealedBody.parse(await readLargeJson(ctx, deps.config.smtp.maxMessageSize * 2)));
  });
  return router;
}

const hashParams = z.object({ hash: z.string().regex(/^[ybndrfg8ejkmcpqxot1uwisza345h769]{32}$/), domain: z.string().max(253).optional() });
const localQuery = z.object({ l: z.string().max(64).optional() });

/** draft-koch-openpgp-webkey-service §3.1: the key as binary, or 404; the policy file per domain. */
function wkdRoutes({ services }: RouteContext): Router<ApiState> {
  const { db } = services.deps;
  const router = new Router<ApiState>();
  const sendKey = async (ctx: ParameterizedContext<ApiState>, advanced: boolean) => {
    const p = hashParams.safeParse(ctx.params);
    const domain = advanced ? p.data?.domain : domainOfHost(ctx.host, false);
    const key = p.success && domain ? await publishedKey(db, domain, p.data.hash, localQuery.parse(ctx.query).l) : null;
    if (!key) return notFound(ctx);
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.type = 'application/octet-stream';
    ctx.body = Buffer.from(key);
  };
  const sendPolicy = async (ctx: ParameterizedContext<ApiState>, domain: string) => {
    if (!(await isOurDomain(db, domain))) return notFound(ctx);
    ctx.type = 'text/plain';
    ctx.body = '';
  };
  router.get('/.well-known/openpgpkey/hu/:hash', (ctx) => sendKey(ctx, false));
  router.get('/.well-known/openpgpkey/policy', (ctx) => sendPolicy(ctx, domainOfHost(ctx.host, false)));
  router.get('/.well-known/openpgpkey/:domain/hu/:hash', (ctx) => sendKey(ctx, true));
  router.get('/.well-known/openpgpkey/:domain/policy', (ctx) => sendPolicy(ctx, String(ctx.params.domain)));
  return router;
}

/** The JSON body of a route left alone by the 1 MB body reader (middleware/json-body.ts). */
async function readLargeJson(ctx: ParameterizedContext<ApiState>, limit: number): Promise<unknown> {
  if (!ctx.is('application/json')) throw new AppError('bad_request', 'request bodies must be application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new AppError('message_too_big', `request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new AppError('invalid_json', 'the request body is not valid JSON');
  }
}

function notFound(ctx: ParameterizedContext<ApiState>): void {
  ctx.status = 404;
  ctx.type = 'text/plain';
  ctx.body = 'Not found';
}
