/**
 * One sync of one external account: list the folders, then for each selected folder read the
 * messages above its cursor (UIDVALIDITY + last UID) in bounded batches, streaming, with
 * BODY.PEEK (nothing is marked seen; the folder is opened read-only unless the user chose
 * "delete after import"), and hand each one to the same ingest() as SMTP mail. The cursor moves
 * only once every message below it is committed, so a crash anywhere resumes without loss, and a
 * message read twice is a duplicate to ingest (Message-ID + content hash), never a second copy.
 * Not in charge of scheduling, retries or the account's status: see runner.ts.
 */
import type { ImapFlow, FetchMessageObject } from 'imapflow';
import type { Deps } from '../deps.js';
import type { Ingestor } from '../mail/ingest.js';
import type { TransportInfo } from '../mail/types.js';
import { listFolders, saveFolderList, updateFolder, setAccountState, type AccountSecrets, type ExternalFolder } from './account-store.js';
import { remoteFolders, tagsOfFlags, tagsOfFolder } from './folder-tags.js';
import { transportOf } from './connect.js';
import { changeTags } from '../mail/message-tags.js';
import type { ProgressTracker } from './progress.js';

export interface SyncLimits {
  batchMessages: number;
  batchBytes: number;
  concurrency: number;
}

export interface SyncContext {
  deps: Deps;
  ingestor: Ingestor;
  client: ImapFlow;
  account: AccountSecrets;
  limits: SyncLimits;
  progress: ProgressTracker;
  /** called after each committed batch (the runner renews its lease there) */
  onBatch?: () => Promise<void>;
  signal?: AbortSignal;
}

export interface SyncSummary {
  imported: number;
  duplicates: number;
  folders: number;
}

/** "3:5,9,12:13": UIDs as an IMAP sequence set, short whatever the batch. */
export function uidSet(uids: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < uids.length; ) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j]! + 1) j++;
    parts.push(i === j ? `${uids[i]}` : `${uids[i]}:${uids[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Consecutive UIDs whose count and summed size stay under the limits (one larger message goes alone). */
export function batchesOf(pending: Array<{ uid: number; size: number }>, limits: Pick<SyncLimits, 'batchMessages' | 'batchBytes'>): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let bytes = 0;
  for (const m of pending) {
    if (cur.length && (cur.length >= limits.batchMessages || bytes + m.size > limits.batchBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(m.uid);
    bytes += m.size;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** Messages of each selected folder not yet imported, as far as STATUS tells without opening it. */
async function estimatePending(client: ImapFlow, folders: ExternalFolder[]): Promise<{ total: number; pending: number }> {
  let total = 0;
  let pending = 0;
  for (const f of folders) {
    const st = await client.status(f.path, { messages: true, uidNext: true, uidValidity: true });
    if (!st) continue;
    const messages = st.messages ?? 0;
    total += messages;
    const sameCursor = f.uidvalidity !== null && String(st.uidValidity) === f.uidvalidity;
    pending += sameCursor ? Math.max(0, Math.min(messages, (st.uidNext ?? 1) - 1 - f.lastUid)) : messages;
  }
  return { total, pending };
}

export async function syncAccount(ctx: SyncContext): Promise<SyncSummary> {
  const { client, account, deps, progress } = ctx;
  const listed = remoteFolders(await client.list());
  await saveFolderList(deps.db, account.id, listed);
  const folders = (await listFolders(deps.db, account.id)).filter((f) => f.selected && f.existsRemote);
  const { total, pending } = await estimatePending(client, folders);
  progress.update({ state: 'running', total, done: total - pending }, true);
  const transport = transportOf(client, account.host);
  for (const folder of folders) {
    if (ctx.signal?.aborted) break;
    await syncFolder(ctx, folder, transport);
  }
  return { imported: progress.current.imported, duplicates: progress.current.duplicates, folders: folders.length };
}

async function syncFolder(ctx: SyncContext, folder: ExternalFolder, transport: TransportInfo): Promise<void> {
  const { client, account, deps, progress } = ctx;
  const lock = await client.getMailboxLock(folder.path, { readOnly: !account.deleteAfterImport });
  try {
    const box = client.mailbox;
    if (!box) return;
    let lastUid = folder.lastUid;
    const uidvalidity = String(box.uidValidity);
    if (folder.uidvalidity !== uidvalidity) {
      // RFC 3501 §2.3.1.1: a new UIDVALIDITY voids every UID we knew; read the folder again
      if (folder.uidvalidity !== null) deps.log.info('imap folder UIDVALIDITY changed: reading it again', { account: account.id, folder: folder.path });
      lastUid = 0;
      await updateFolder(deps.db, folder.id, { uidvalidity, last_uid: 0, done: 0 });
    }
    const pending: Array<{ uid: number; size: number }> = [];
    if (box.exists > 0) {
      for await (const m of client.fetch(`${lastUid + 1}:*`, { uid: true, size: true }, { uid: true })) {
        if (m.uid > lastUid) pending.push({ uid: m.uid, size: m.size ?? 0 });
      }
    }
    pending.sort((a, b) => a.uid - b.uid);
    const folderTotal = box.exists;
    progress.update({ folder: folder.path, folderTotal, folderDone: Math.max(0, folderTotal - pending.length) }, true);
    await updateFolder(deps.db, folder.id, { total: folderTotal, done: Math.max(0, folderTotal - pending.length) });
    const folderTags = tagsOfFolder(folder);
    for (const batch of batchesOf(pending, ctx.limits)) {
      if (ctx.signal?.aborted) return;
      await importBatch(ctx, folder, batch, folderTags, transport);
    }
    await updateFolder(deps.db, folder.id, { last_sync_at: deps.clock.now().getTime() });
  } finally {
    lock.release();
  }
}

/**
 * Fetches one batch and ingests it with a small window of messages in flight. Whatever happens
 * (the server closing mid-fetch, an ingest failing), the cursor moves to the highest UID below
 * which every message of the batch is committed, and the error is then thrown.
 */
async function importBatch(ctx: SyncContext, folder: ExternalFolder, uids: number[], folderTags: string[], transport: TransportInfo): Promise<void> {
  const { client, account, deps, progress, limits } = ctx;
  const committed = new Set<number>();
  const fresh = new Set<number>();
  const inFlight = new Set<Promise<void>>();
  let firstError: unknown = null;
  const ingestOne = (m: FetchMessageObject): Promise<void> => {
    const { read, tags } = tagsOfFlags(m.flags);
    const receivedAt = m.internalDate ? new Date(m.internalDate) : undefined;
    const allTags = [...folderTags, ...tags];
    return ctx.ingestor
      .ingest({ source: 'imap', raw: m.source!, userIds: [account.userId], transport, receivedAt, read, tags: allTags, sentByUser: folder.specialUse === '\\Sent' })
      .then(async (outcomes) => {
        // the other server (or the user there) judged it junk: it is spam here too, and the filter learns it
        for (const o of allTags.includes('SPAM') ? outcomes.filter((x) => !x.isSpam) : []) {
          await changeTags(deps, o.userId, o.messageId, { add: ['SPAM'] });
        }
        committed.add(m.uid);
        const duplicate = outcomes.every((o) => o.duplicate);
        if (!duplicate) fresh.add(m.uid);
        progress.count(duplicate);
      })
      .catch((err: unknown) => {
        firstError ??= err;
      });
  };
  try {
    for await (const m of client.fetch(uidSet(uids), { uid: true, flags: true, internalDate: true, source: true }, { uid: true })) {
      if (!m.source) continue;
      const p = ingestOne(m).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= limits.concurrency) await Promise.race(inFlight);
      if (firstError) break;
    }
  } catch (err) {
    firstError ??= err;
  }
  await Promise.all(inFlight);
  let upTo = -1;
  for (const uid of uids) {
    if (!committed.has(uid)) break;
    upTo = uid;
  }
  // a UID asked for but not returned was expunged meanwhile: nothing to import, unless we stopped early
  if (!firstError) upTo = uids[uids.length - 1]!;
  if (upTo > 0) {
    const done = uids.filter((u) => u <= upTo);
    if (account.deleteAfterImport) await client.messageDelete(uidSet(done), { uid: true });
    await updateFolder(deps.db, folder.id, { last_uid: upTo, done: progress.current.folderDone });
    const imported = done.filter((u) => fresh.has(u)).length;
    if (imported) await setAccountState(deps.db, account.id, { imported_count: deps.db.raw('imported_count + ?', [imported]) });
  }
  if (firstError) throw firstError;
  await ctx.onBatch?.();
}
