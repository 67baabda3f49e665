/**
 * External accounts (issue 6): list with status, autoconfig, test connection, add, edit, remove,
 * folder selection, sync now. Passwords go in and never come out: the presenter has no field for
 * them. A failed connection answers its own code (imap_auth_failed, imap_tls_failed with the
 * certificate to trust, imap_host_not_found, imap_timeout…). Progress comes as `import-progress`
 * events on GET /events. An account may carry its own sending server (`smtp`), checked by logging
 * in before it is kept; its address can then be the From of a message (sent through that server,
 * copied to the account's Sent folder).
 */
import { z } from 'zod';
import type { Router } from '@koa/router';
import { addAccount, editAccount, testNewSettings, testNewSmtp, testStoredAccount, type ConnectionReport } from '../../imap-import/accounts.js';
import { getAccount, listAccounts, listFolders, removeAccount, selectFolders, type ExternalAccount, type ExternalFolder } from '../../imap-import/account-store.js';
import { discoverSettings } from '../../imap-import/autoconfig.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';
import { idParams } from './params.js';

const server = {
  host: z.string().trim().min(1).max(253),
  port: z.number().int().min(1).max(65535),
  tls: z.enum(['implicit', 'starttls', 'plain']),
  username: z.string().min(1).max(320),
  password: z.string().min(1).max(1000),
  trusted_fingerprint: z.string().max(200).nullish(),
};
const testBody = z.strictObject(server);
/** the sending server; its password may be left out of an edit to keep the stored one */
const smtpBody = z.strictObject({ ...server, password: server.password.optional() });
const addBody = z.strictObject({
  ...server,
  address: z.string().trim().min(3).max(320),
  interval_minutes: z.number().int().min(5).max(1440).optional(),
  delete_after_import: z.boolean().optional(),
  smtp: smtpBody.nullish(),
});
const patchBody = addBody.partial().extend({ paused: z.boolean().optional() }).strict();
const foldersBody = z.strictObject({ selected: z.record(z.string().max(1000), z.boolean()) });
const autoconfigQuery = z.object({ address: z.string().trim().min(3).max(320) });

export function presentFolder(f: ExternalFolder) {
  return { path: f.path, special_use: f.specialUse, selected: f.selected, total: f.total, done: f.done, exists: f.existsRemote, last_sync_at: f.lastSyncAt };
}

/**
 * "syncing" while a sync holds the lease (or runs here and has not written its outcome yet); a
 * status left at syncing by a process that died is shown as idle (the next sync resumes).
 */
function statusOf(a: ExternalAccount, running: boolean, now: number): string {
  if ((running && a.status === 'syncing') || (a.leaseUntil !== null && a.leaseUntil > now)) return 'syncing';
  return a.status === 'syncing' ? 'idle' : a.status;
}

export function presentAccount(a: ExternalAccount, running: boolean, now: number, folders?: ExternalFolder[]) {
  return {
    id: a.id, address: a.address, host: a.host, port: a.port, tls: a.tls, username: a.username,
    trusted_fingerprint: a.trustedFingerprint, interval_minutes: a.intervalMinutes, delete_after_import: a.deleteAfterImport,
    status: statusOf(a, running, now), needs_attention: a.needsAttention, paused: a.paused,
    last_error: a.lastError ? { code: a.lastErrorCode, message: a.lastError } : null,
    failing_since: a.failingSince, last_sync_at: a.lastSyncAt, last_success_at: a.lastSuccessAt, next_sync_at: a.nextSyncAt,
    imported: a.importedCount, created_at: a.createdAt,
    smtp: a.smtp ? { host: a.smtp.host, port: a.smtp.port, tls: a.smtp.tls, username: a.smtp.username, trusted_fingerprint: a.smtp.trustedFingerprint } : null,
    ...(folders ? { folders: folders.map(presentFolder) } : {}),
  };
}

const presentReport = (r: ConnectionReport) => ({ ok: true, tls: r.tls, folders: r.folders.map((f) => ({ path: f.path, special_use: f.specialUse })) });

const smtpOf = (b: z.infer<typeof smtpBody>) => ({ host: b.host, port: b.port, tls: b.tls, username: b.username, password: b.password, trustedFingerprint: b.trusted_fingerprint ?? null });

const toDomain = (b: Partial<z.infer<typeof addBody>>) => ({
  address: b.address, host: b.host, port: b.port, tls: b.tls, username: b.username, password: b.password,
  trustedFingerprint: b.trusted_fingerprint, intervalMinutes: b.interval_minutes, deleteAfterImport: b.delete_after_import,
  smtp: b.smtp === undefined ? undefined : b.smtp === null ? null : smtpOf(b.smtp),
});

export function externalAccountRoutes({ services }: RouteContext): Router<ApiState> {
  const { deps, imports } = services;
  const router = protectedRouter();
  const withFolders = async (a: ExternalAccount) => presentAccount(a, imports.running(a.id), deps.clock.now().getTime(), await listFolders(deps.db, a.id));

  router.get('/external-accounts', async (ctx) => {
    const accounts = await listAccounts(deps.db, authOf(ctx).user.id);
    ctx.body = { items: await Promise.all(accounts.map(withFolders)) };
  });
  router.get('/external-accounts/autoconfig', async (ctx) => {
    ctx.body = await discoverSettings(deps.fetch, autoconfigQuery.parse(ctx.query).address);
  });
  router.post('/external-accounts/test', async (ctx) => {
    const b = testBody.parse(ctx.state.body ?? {});
    ctx.body = presentReport(await testNewSettings(deps, { ...b, trustedFingerprint: b.trusted_fingerprint ?? null }));
  });
  router.post('/external-accounts/test-smtp', async (ctx) => {
    const b = testBody.parse(ctx.state.body ?? {});
    await testNewSmtp(deps, smtpOf(b));
    ctx.body = { ok: true };
  });
  router.post('/external-accounts', async (ctx) => {
    const b = addBody.parse(ctx.state.body ?? {});
    const account = await addAccount(deps, authOf(ctx).user.id, {
      address: b.address, host: b.host, port: b.port, tls: b.tls, username: b.username, password: b.password,
      trustedFingerprint: b.trusted_fingerprint ?? null, intervalMinutes: b.interval_minutes, deleteAfterImport: b.delete_after_import,
      smtp: b.smtp ? smtpOf(b.smtp) : null,
    });
    ctx.status = 201;
    ctx.body = { account: await withFolders(account) };
  });
  router.get('/external-accounts/:id', async (ctx) => {
    ctx.body = { account: await withFolders(await getAccount(deps.db, authOf(ctx).user.id, idParams.parse(ctx.params).id)) };
  });
  router.patch('/external-accounts/:id', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    const b = patchBody.parse(ctx.state.body ?? {});
    ctx.body = { account: await withFolders(await editAccount(deps, authOf(ctx).user.id, id, { ...toDomain(b), paused: b.paused })) };
  });
  router.delete('/external-accounts/:id', async (ctx) => {
    await removeAccount(deps.db, authOf(ctx).user.id, idParams.parse(ctx.params).id);
    ctx.body = { ok: true };
  });
  router.post('/external-accounts/:id/test', async (ctx) => {
    ctx.body = presentReport(await testStoredAccount(deps, authOf(ctx).user.id, idParams.parse(ctx.params).id));
  });
  router.put('/external-accounts/:id/folders', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    const folders = await selectFolders(deps.db, authOf(ctx).user.id, id, foldersBody.parse(ctx.state.body ?? {}).selected);
    ctx.body = { folders: folders.map(presentFolder) };
  });
  router.post('/external-accounts/:id/sync', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    await imports.syncNow(authOf(ctx).user.id, id);
    ctx.status = 202;
    ctx.body = { started: true };
  });
  return router;
}
