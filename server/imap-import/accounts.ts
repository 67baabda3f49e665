/**
 * External accounts as the API and the CLI see them: test a connection (nothing stored), add an
 * account (only once its server answers and the credentials work, so a typo is said at once), trust
 * a self-signed certificate by the fingerprint the user was shown, change settings. Syncing is
 * runner.ts; storage is account-store.ts.
 */
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import {
  createAccount, getAccount, openAccount, saveFolderList, updateAccount,
  type AccountPatch, type ExternalAccount, type NewAccount,
} from './account-store.js';
import { assertTlsAllowed, classifyImapError, imapClient, normalizeFingerprint, probeCertificate, transportOf, type ConnectSettings } from './connect.js';
import { remoteFolders, type RemoteFolder } from './folder-tags.js';

export type AccountDeps = Pick<Deps, 'db' | 'clock' | 'secrets' | 'config' | 'log' | 'dns'>;

export interface ConnectionReport {
  folders: RemoteFolder[];
  tls: { protocol: string; cipher: string } | null;
}

/** Connects, logs in and lists the folders; a failure is an AppError with a stable code. */
export async function testConnection(deps: Pick<Deps, 'config' | 'dns'>, s: ConnectSettings): Promise<ConnectionReport> {
  assertTlsAllowed(s.host, s.tls);
  const client = imapClient(s, deps.config.imports.connectTimeoutMs, deps.dns);
  client.on('error', () => undefined); // the awaited command rejects with the same error
  try {
    await client.connect();
    const folders = remoteFolders(await client.list());
    const { tls } = transportOf(client, s.host);
    await client.logout();
    return { folders, tls };
  } catch (err) {
    throw await classifyImapError(err, s, deps.dns);
  } finally {
    client.close();
  }
}

/** The certificate the server shows now, if it is the one the user accepted (by fingerprint). */
async function pinCertificate(deps: Pick<Deps, 'dns'>, s: Pick<ConnectSettings, 'host' | 'port' | 'tls'>, fingerprint: string): Promise<{ trustedFingerprint: string; trustedCertPem: string }> {
  const wanted = normalizeFingerprint(fingerprint);
  if (s.tls === 'plain') throw new AppError('validation_failed', 'a certificate can only be trusted for a TLS connection');
  const cert = await probeCertificate(s.host, s.port, s.tls, 10_000, deps.dns).catch(async (err) => {
    throw await classifyImapError(err, s, deps.dns);
  });
  if (cert.fingerprint !== wanted) {
    throw new AppError('imap_tls_failed', `the server now shows certificate ${cert.fingerprint}, not the one to trust (${wanted})`, { certificate: { fingerprint: cert.fingerprint, subject: cert.subject, issuer: cert.issuer, valid_to: cert.validTo } });
  }
  return { trustedFingerprint: cert.fingerprint, trustedCertPem: cert.pem };
}

export type AddAccountInput = Omit<NewAccount, 'userId' | 'trustedCertPem' | 'intervalMinutes'> & { intervalMinutes?: number };

export async function addAccount(deps: AccountDeps, userId: number, input: AddAccountInput): Promise<ExternalAccount> {
  const pin = input.trustedFingerprint ? await pinCertificate(deps, input, input.trustedFingerprint) : { trustedFingerprint: null, trustedCertPem: null };
  const report = await testConnection(deps, { ...input, ...pin });
  const account = await createAccount(deps.db, deps.secrets, {
    ...input, ...pin, userId, intervalMinutes: input.intervalMinutes ?? deps.config.imports.intervalMinutes,
  }, deps.clock.now().getTime());
  await saveFolderList(deps.db, account.id, report.folders);
  deps.log.info('external account added', { account: account.id, host: input.host });
  return account;
}

/** Tests a stored account as it is now (its sealed password, its pinned certificate). */
export async function testStoredAccount(deps: AccountDeps, userId: number, id: number): Promise<ConnectionReport> {
  await getAccount(deps.db, userId, id);
  const account = await openAccount(deps.db, deps.secrets, id);
  const report = await testConnection(deps, account);
  await saveFolderList(deps.db, id, report.folders);
  return report;
}

export type EditAccountInput = Omit<AccountPatch, 'trustedCertPem'>;

/** A change of server, credentials or certificate is checked against the server before it is kept. */
export async function editAccount(deps: AccountDeps, userId: number, id: number, patch: EditAccountInput): Promise<ExternalAccount> {
  const current = await openAccount(deps.db, deps.secrets, (await getAccount(deps.db, userId, id)).id);
  const next = { ...current, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as typeof current;
  const connectionChanged = ['host', 'port', 'tls', 'username', 'password', 'trustedFingerprint'].some((k) => (patch as Record<string, unknown>)[k] !== undefined);
  const full: AccountPatch = { ...patch };
  if (patch.trustedFingerprint) Object.assign(full, await pinCertificate(deps, next, patch.trustedFingerprint));
  else if (patch.trustedFingerprint === null) Object.assign(full, { trustedCertPem: null });
  if (connectionChanged) {
    const report = await testConnection(deps, { ...next, trustedFingerprint: full.trustedFingerprint ?? next.trustedFingerprint, trustedCertPem: full.trustedCertPem ?? (patch.trustedFingerprint === null ? null : current.trustedCertPem) });
    await saveFolderList(deps.db, id, report.folders);
  }
  return updateAccount(deps.db, deps.secrets, userId, id, full, deps.clock.now().getTime());
}

/** The add form's "test connection": settings not stored yet, perhaps with a fingerprint the user accepted. */
export async function testNewSettings(deps: Pick<Deps, 'config' | 'dns'>, s: Omit<ConnectSettings, 'trustedCertPem'>): Promise<ConnectionReport> {
  assertTlsAllowed(s.host, s.tls);
  const pin = s.trustedFingerprint ? await pinCertificate(deps, s, s.trustedFingerprint) : { trustedFingerprint: null, trustedCertPem: null };
  return testConnection(deps, { ...s, ...pin });
}
