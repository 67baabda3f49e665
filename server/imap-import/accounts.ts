/**
 * External accounts as the API and the CLI see them: test a connection (nothing stored), add an
 * account (only once its server answers and the credentials work, so a typo is said at once), trust
 * a self-signed certificate by the fingerprint the user was shown, change settings. Syncing is
 * runner.ts; storage is account-store.ts.
 */
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import {
  createAccount, getAccount, openAccount, openSmtp, saveFolderList, updateAccount,
  type AccountPatch, type ExternalAccount, type NewAccount, type SmtpInput,
} from './account-store.js';
import { assertSmtpTlsAllowed, pinSmtpCertificate, testSmtp } from './send-as.js';
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

/** Sending-server settings as the user gives them: no certificate body, the password left out of an edit to keep it. */
export type SmtpGiven = Omit<SmtpInput, 'trustedCertPem'>;

/**
 * Sending-server settings are kept only once the server took the login: the certificate pinned
 * if the user trusts one, the stored password used when an edit leaves it out.
 */
async function checkedSmtp(deps: Pick<Deps, 'config' | 'dns'>, given: SmtpGiven, keptPassword: string | null = null): Promise<SmtpInput & { password: string }> {
  assertSmtpTlsAllowed(given.host, given.tls);
  const password = given.password ?? keptPassword;
  if (!password) throw new AppError('validation_failed', 'the sending server needs a password');
  const pin = given.trustedFingerprint ? await pinSmtpCertificate(deps, given, given.trustedFingerprint) : { trustedFingerprint: null, trustedCertPem: null };
  const checked = { ...given, ...pin, password };
  await testSmtp(deps, checked);
  return checked;
}

/** The add form's "test sending server": nothing stored. */
export async function testNewSmtp(deps: Pick<Deps, 'config' | 'dns'>, given: SmtpGiven): Promise<void> {
  await checkedSmtp(deps, given);
}

export type AddAccountInput = Omit<NewAccount, 'userId' | 'trustedCertPem' | 'intervalMinutes' | 'smtp'> & { intervalMinutes?: number; smtp?: SmtpGiven | null };

export async function addAccount(deps: AccountDeps, userId: number, input: AddAccountInput): Promise<ExternalAccount> {
  const pin = input.trustedFingerprint ? await pinCertificate(deps, input, input.trustedFingerprint) : { trustedFingerprint: null, trustedCertPem: null };
  const report = await testConnection(deps, { ...input, ...pin });
  const smtp = input.smtp ? await checkedSmtp(deps, input.smtp) : null;
  const account = await createAccount(deps.db, deps.secrets, {
    ...input, ...pin, smtp, userId, intervalMinutes: input.intervalMinutes ?? deps.config.imports.intervalMinutes,
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

export type EditAccountInput = Omit<AccountPatch, 'trustedCertPem' | 'smtp'> & { smtp?: SmtpGiven | null };

/** A change of server, credentials or certificate is checked against the server before it is kept. */
export async function editAccount(deps: AccountDeps, userId: number, id: number, patch: EditAccountInput): Promise<ExternalAccount> {
  const current = await openAccount(deps.db, deps.secrets, (await getAccount(deps.db, userId, id)).id);
  const next = { ...current, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as typeof current;
  const connectionChanged = ['host', 'port', 'tls', 'username', 'password', 'trustedFingerprint'].some((k) => (patch as Record<string, unknown>)[k] !== undefined);
  const full: AccountPatch = { ...patch, smtp: undefined };
  if (patch.smtp === null) full.smtp = null;
  else if (patch.smtp) full.smtp = await checkedSmtp(deps, patch.smtp, (await openSmtp(deps.db, deps.secrets, id))?.password ?? null);
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
