/**
 * External accounts and their folders in the store: plain repository functions. The password goes
 * in sealed (secrets.ts) and only comes out through openAccount(), for a connection; what is listed
 * or presented (ExternalAccount) never holds it.
 */
import type { Knex } from 'knex';
import type { SecretBox } from '../secrets.js';
import { AppError } from '../errors.js';

export type TlsMode = 'implicit' | 'starttls' | 'plain';
export type AccountStatus = 'new' | 'idle' | 'syncing' | 'error' | 'needs_attention' | 'paused';

export interface ExternalAccount {
  id: number;
  userId: number;
  address: string;
  host: string;
  port: number;
  tls: TlsMode;
  username: string;
  trustedFingerprint: string | null;
  intervalMinutes: number;
  deleteAfterImport: boolean;
  status: AccountStatus;
  lastError: string | null;
  lastErrorCode: string | null;
  needsAttention: boolean;
  paused: boolean;
  failures: number;
  failingSince: number | null;
  lastSyncAt: number | null;
  lastSuccessAt: number | null;
  nextSyncAt: number | null;
  importedCount: number;
  createdAt: number;
  /** the sync lease's end: a sync is running (here or in another process) while it is in the future */
  leaseUntil: number | null;
  /** the account's own submission server, to send "as" its address; null: the address only receives here */
  smtp: SmtpServer | null;
}

/** An external account's submission server, as listed (never with its password). */
export interface SmtpServer {
  host: string;
  port: number;
  tls: TlsMode;
  username: string;
  trustedFingerprint: string | null;
}

/** What a submission connection needs: the server with its password opened and the pinned certificate. */
export interface SmtpSecrets extends SmtpServer {
  password: string;
  trustedCertPem: string | null;
}

/** Submission settings as given: the password may be left out of an edit to keep the stored one. */
export type SmtpInput = Omit<SmtpSecrets, 'password' | 'trustedFingerprint' | 'trustedCertPem'> & {
  password?: string;
  trustedFingerprint?: string | null;
  trustedCertPem?: string | null;
};

/** What a connection needs: the account with its password opened and the pinned certificate. */
export interface AccountSecrets extends ExternalAccount {
  password: string;
  trustedCertPem: string | null;
}

export interface ExternalFolder {
  id: number;
  accountId: number;
  path: string;
  delimiter: string | null;
  specialUse: string | null;
  selected: boolean;
  uidvalidity: string | null;
  lastUid: number;
  total: number;
  done: number;
  existsRemote: boolean;
  lastSyncAt: number | null;
}

export type NewAccount = Pick<ExternalAccount, 'userId' | 'address' | 'host' | 'port' | 'tls' | 'username' | 'intervalMinutes'> & {
  password: string;
  deleteAfterImport?: boolean;
  trustedFingerprint?: string | null;
  trustedCertPem?: string | null;
  smtp?: SmtpInput | null;
};

export type AccountPatch = Partial<Omit<NewAccount, 'userId'>> & { paused?: boolean };

type Row = Record<string, unknown>;
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toAccount(r: Row): ExternalAccount {
  return {
    id: Number(r.id), userId: Number(r.user_id), address: String(r.address), host: String(r.host), port: Number(r.port),
    tls: r.tls as TlsMode, username: String(r.username), trustedFingerprint: (r.trusted_fingerprint as string | null) ?? null,
    intervalMinutes: Number(r.interval_minutes), deleteAfterImport: !!r.delete_after_import, status: r.status as AccountStatus,
    lastError: (r.last_error as string | null) ?? null, lastErrorCode: (r.last_error_code as string | null) ?? null,
    needsAttention: !!r.needs_attention, paused: !!r.paused, failures: Number(r.failures), failingSince: num(r.failing_since),
    lastSyncAt: num(r.last_sync_at), lastSuccessAt: num(r.last_success_at), nextSyncAt: num(r.next_sync_at),
    importedCount: Number(r.imported_count), createdAt: Number(r.created_at), leaseUntil: num(r.lock_until),
    smtp: r.smtp_host
      ? { host: String(r.smtp_host), port: Number(r.smtp_port), tls: r.smtp_tls as TlsMode, username: String(r.smtp_username), trustedFingerprint: (r.smtp_trusted_fingerprint as string | null) ?? null }
      : null,
  };
}

/** The submission columns for settings (null: none); the sealed password kept when an edit leaves it out. */
function smtpColumns(secrets: SecretBox, smtp: SmtpInput | null, keptSealed: string | null): Row {
  if (!smtp) return { smtp_host: null, smtp_port: null, smtp_tls: null, smtp_username: null, smtp_password_sealed: null, smtp_trusted_fingerprint: null, smtp_trusted_cert_pem: null };
  const sealed = smtp.password !== undefined ? secrets.seal(smtp.password) : keptSealed;
  if (!sealed) throw new AppError('validation_failed', 'the sending server needs a password');
  return {
    smtp_host: smtp.host, smtp_port: smtp.port, smtp_tls: smtp.tls, smtp_username: smtp.username, smtp_password_sealed: sealed,
    smtp_trusted_fingerprint: smtp.trustedFingerprint ?? null, smtp_trusted_cert_pem: smtp.trustedCertPem ?? null,
  };
}

function toFolder(r: Row): ExternalFolder {
  return {
    id: Number(r.id), accountId: Number(r.account_id), path: String(r.path), delimiter: (r.delimiter as string | null) ?? null,
    specialUse: (r.special_use as string | null) ?? null, selected: !!r.selected, uidvalidity: (r.uidvalidity as string | null) ?? null,
    lastUid: Number(r.last_uid), total: Number(r.total), done: Number(r.done), existsRemote: !!r.exists_remote, lastSyncAt: num(r.last_sync_at),
  };
}

export async function createAccount(db: Knex, secrets: SecretBox, a: NewAccount, now: number): Promise<ExternalAccount> {
  const address = a.address.trim().toLowerCase();
  const existing = await db('external_accounts').where({ user_id: a.userId, address }).first('id');
  if (existing) throw new AppError('external_account_exists', `an external account for ${address} exists already`, { id: existing.id });
  const [id] = await db('external_accounts').insert({
    user_id: a.userId, address, host: a.host, port: a.port, tls: a.tls, username: a.username,
    password_sealed: secrets.seal(a.password), interval_minutes: a.intervalMinutes, delete_after_import: !!a.deleteAfterImport,
    trusted_fingerprint: a.trustedFingerprint ?? null, trusted_cert_pem: a.trustedCertPem ?? null,
    ...smtpColumns(secrets, a.smtp ?? null, null),
    status: 'new', next_sync_at: now, created_at: now, updated_at: now,
  });
  return getAccount(db, a.userId, Number(id));
}

/** userId null: any user's (the scheduler and the CLI); otherwise only that user's account. */
export async function getAccount(db: Knex, userId: number | null, id: number): Promise<ExternalAccount> {
  const q = db('external_accounts').where({ id });
  if (userId !== null) q.andWhere({ user_id: userId });
  const row = await q.first();
  if (!row) throw new AppError('external_account_not_found', `no external account ${id}`);
  return toAccount(row);
}

export async function listAccounts(db: Knex, userId: number): Promise<ExternalAccount[]> {
  return (await db('external_accounts').where({ user_id: userId }).orderBy('id')).map(toAccount);
}

/** The CLI names an account by id or address (any user's: the CLI is the box's admin). */
export async function findAccount(db: Knex, ref: string): Promise<ExternalAccount> {
  const row = /^\d+$/.test(ref)
    ? await db('external_accounts').where({ id: Number(ref) }).first()
    : await db('external_accounts').where({ address: ref.trim().toLowerCase() }).first();
  if (!row) throw new AppError('external_account_not_found', `no external account ${ref}`);
  return toAccount(row);
}

export async function openAccount(db: Knex, secrets: SecretBox, id: number): Promise<AccountSecrets> {
  const row = await db('external_accounts').where({ id }).first();
  if (!row) throw new AppError('external_account_not_found', `no external account ${id}`);
  return { ...toAccount(row), password: secrets.open(String(row.password_sealed)), trustedCertPem: (row.trusted_cert_pem as string | null) ?? null };
}

/** The account's submission server with its password, or null when it has none. */
export async function openSmtp(db: Knex, secrets: SecretBox, id: number): Promise<SmtpSecrets | null> {
  const row = await db('external_accounts').where({ id }).first();
  if (!row) throw new AppError('external_account_not_found', `no external account ${id}`);
  const smtp = toAccount(row).smtp;
  if (!smtp) return null;
  return { ...smtp, password: secrets.open(String(row.smtp_password_sealed)), trustedCertPem: (row.smtp_trusted_cert_pem as string | null) ?? null };
}

/** The user's external addresses that can send through their own server: address → account id. */
export async function sendAsAddresses(db: Knex, userId: number): Promise<Map<string, number>> {
  const rows: Array<{ id: number; address: string }> = await db('external_accounts').where({ user_id: userId }).whereNotNull('smtp_host').select('id', 'address');
  return new Map(rows.map((r) => [r.address, r.id]));
}

/** Accounts the scheduler should sync now: due, not paused, not waiting for the user. */
export async function dueAccounts(db: Knex, now: number): Promise<number[]> {
  const rows: Array<{ id: number }> = await db('external_accounts')
    .where({ paused: false, needs_attention: false })
    .andWhere((q) => q.whereNull('next_sync_at').orWhere('next_sync_at', '<=', now))
    .select('id');
  return rows.map((r) => r.id);
}

/**
 * Changing how the account connects (server, credentials, certificate) is the user fixing it:
 * the "needs attention" mark and a pause are lifted and the account is due at once.
 */
export async function updateAccount(db: Knex, secrets: SecretBox, userId: number, id: number, p: AccountPatch, now: number): Promise<ExternalAccount> {
  await getAccount(db, userId, id);
  const row: Row = { updated_at: now };
  if (p.address !== undefined) row.address = p.address.trim().toLowerCase();
  if (p.host !== undefined) row.host = p.host;
  if (p.port !== undefined) row.port = p.port;
  if (p.tls !== undefined) row.tls = p.tls;
  if (p.username !== undefined) row.username = p.username;
  if (p.password !== undefined) row.password_sealed = secrets.seal(p.password);
  if (p.intervalMinutes !== undefined) row.interval_minutes = p.intervalMinutes;
  if (p.deleteAfterImport !== undefined) row.delete_after_import = p.deleteAfterImport;
  if (p.trustedFingerprint !== undefined) row.trusted_fingerprint = p.trustedFingerprint;
  if (p.trustedCertPem !== undefined) row.trusted_cert_pem = p.trustedCertPem;
  if (p.smtp !== undefined) {
    const kept = (await db('external_accounts').where({ id }).first('smtp_password_sealed')) as { smtp_password_sealed: string | null };
    Object.assign(row, smtpColumns(secrets, p.smtp, kept.smtp_password_sealed));
  }
  const fixes = ['host', 'port', 'tls', 'username', 'password', 'trustedFingerprint'].some((k) => (p as Row)[k] !== undefined);
  if (fixes || p.paused === false) Object.assign(row, { needs_attention: false, paused: false, failures: 0, failing_since: null, status: 'idle', next_sync_at: now });
  if (p.paused === true) Object.assign(row, { paused: true, status: 'paused' });
  await db('external_accounts').where({ id, user_id: userId }).update(row);
  return getAccount(db, userId, id);
}

export async function removeAccount(db: Knex, userId: number, id: number): Promise<void> {
  const n = await db('external_accounts').where({ id, user_id: userId }).delete();
  if (!n) throw new AppError('external_account_not_found', `no external account ${id}`);
}

/** Raw state columns, for the sync engine and the scheduler. */
export async function setAccountState(db: Knex, id: number, state: Row): Promise<void> {
  await db('external_accounts').where({ id }).update(state);
}

export async function listFolders(db: Knex, accountId: number): Promise<ExternalFolder[]> {
  return (await db('external_folders').where({ account_id: accountId }).orderBy('path')).map(toFolder);
}

/** Special-use folders that would only repeat or resurrect mail are not selected unless the user asks. */
const UNSELECTED_BY_DEFAULT = new Set(['\\All', '\\Trash']);

/** Records the server's folder list: new ones added (selected unless \All or \Trash), vanished ones marked. */
export async function saveFolderList(db: Knex, accountId: number, remote: Array<{ path: string; delimiter: string | null; specialUse: string | null }>): Promise<ExternalFolder[]> {
  await db.transaction(async (trx) => {
    await trx('external_folders').where({ account_id: accountId }).update({ exists_remote: false });
    for (const f of remote) {
      await trx('external_folders')
        .insert({ account_id: accountId, path: f.path, delimiter: f.delimiter, special_use: f.specialUse, selected: !UNSELECTED_BY_DEFAULT.has(f.specialUse ?? ''), exists_remote: true })
        .onConflict(['account_id', 'path'])
        .merge({ delimiter: f.delimiter, special_use: f.specialUse, exists_remote: true });
    }
  });
  return listFolders(db, accountId);
}

export async function selectFolders(db: Knex, userId: number, accountId: number, selection: Record<string, boolean>): Promise<ExternalFolder[]> {
  await getAccount(db, userId, accountId);
  await db.transaction(async (trx) => {
    for (const [path, selected] of Object.entries(selection)) {
      const n = await trx('external_folders').where({ account_id: accountId, path }).update({ selected });
      if (!n) throw new AppError('external_folder_not_found', `no folder ${path} in this account`);
    }
  });
  return listFolders(db, accountId);
}

export async function updateFolder(db: Knex, folderId: number, state: Row): Promise<void> {
  await db('external_folders').where({ id: folderId }).update(state);
}
