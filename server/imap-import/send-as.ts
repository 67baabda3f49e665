/**
 * Sending "as" an external address through that account's own submission server (SPEC §6):
 * checking the settings the user gives (log in, then quit: clear error codes like the IMAP side),
 * turning a stored account into the relay the delivery transport uses, and appending the copy of
 * what left to the account's Sent folder over IMAP, as a desktop client does. The passwords stay
 * sealed in the store and only pass through here on their way to a connection.
 */
import net from 'node:net';
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { resolveHost } from '../delivery/mx.js';
import type { ResolvedRelay, RelaySecurity } from '../delivery/relay-routes.js';
import { SessionError, SmtpSession } from '../delivery/smtp-session.js';
import { openAccount, openSmtp, listFolders, type SmtpSecrets, type TlsMode } from './account-store.js';
import { imapClient, isLoopback, normalizeFingerprint, probeCertificate, type CertificateInfo } from './connect.js';

export function assertSmtpTlsAllowed(host: string, mode: TlsMode): void {
  if (mode === 'plain' && !isLoopback(host)) {
    throw new AppError('plain_smtp_not_loopback', 'sending without TLS is only allowed to a server on this machine (127.0.0.1)');
  }
}

const SECURITY: Record<TlsMode, RelaySecurity> = { implicit: 'tls', starttls: 'starttls', plain: 'none' };

/** The certificate the user trusts for this server, if any. */
function pinOf(s: Pick<SmtpSecrets, 'trustedFingerprint' | 'trustedCertPem'>): { fingerprint: string; pem: string } | null {
  return s.trustedFingerprint && s.trustedCertPem ? { fingerprint: s.trustedFingerprint, pem: s.trustedCertPem } : null;
}

export function relayOf(accountId: number, s: SmtpSecrets): ResolvedRelay {
  return { source: `account:${accountId}`, host: s.host, port: s.port, security: SECURITY[s.tls], username: s.username, password: s.password, pin: pinOf(s) };
}

/** The relay a message sent "as" this account leaves through; null when the account is gone or has no server any more. */
export async function sendAsRelay(deps: Pick<Deps, 'db' | 'secrets'>, accountId: number): Promise<ResolvedRelay | null> {
  const smtp = await openSmtp(deps.db, deps.secrets, accountId).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'external_account_not_found') return null;
    throw err;
  });
  return smtp ? relayOf(accountId, smtp) : null;
}

function certificateDetails(cert: CertificateInfo | null) {
  return cert ? { certificate: { fingerprint: cert.fingerprint, subject: cert.subject, issuer: cert.issuer, valid_to: cert.validTo } } : undefined;
}

/** The certificate the server shows now, if it is the one the user accepted (by fingerprint). */
export async function pinSmtpCertificate(deps: Pick<Deps, 'dns'>, s: Pick<SmtpSecrets, 'host' | 'port' | 'tls'>, fingerprint: string): Promise<{ trustedFingerprint: string; trustedCertPem: string }> {
  const wanted = normalizeFingerprint(fingerprint);
  if (s.tls === 'plain') throw new AppError('validation_failed', 'a certificate can only be trusted for a TLS connection');
  const cert = await probeCertificate(s.host, s.port, s.tls, 10_000, deps.dns, 'smtp').catch((err: Error) => {
    throw new AppError('smtp_tls_failed', `could not read the certificate of ${s.host}:${s.port}: ${err.message}`);
  });
  if (cert.fingerprint !== wanted) {
    throw new AppError('smtp_tls_failed', `the server now shows certificate ${cert.fingerprint}, not the one to trust (${wanted})`, certificateDetails(cert));
  }
  return { trustedFingerprint: cert.fingerprint, trustedCertPem: cert.pem };
}

/**
 * Connects, logs in and quits. Errors: smtp_auth_failed, smtp_tls_failed (with the certificate to
 * offer for trust), smtp_host_not_found, smtp_timeout, smtp_unreachable, smtp_failed.
 */
export async function testSmtp(deps: Pick<Deps, 'config' | 'dns'>, s: SmtpSecrets): Promise<{ tls: { protocol: string; cipher: string } | null }> {
  assertSmtpTlsAllowed(s.host, s.tls);
  const where = `${s.host}:${s.port}`;
  const addrs = await resolveHost(deps.dns, s.host);
  if ('failure' in addrs) throw new AppError(addrs.nonexistent ? 'smtp_host_not_found' : 'smtp_failed', addrs.nonexistent ? `host ${s.host} not found` : addrs.failure.response);
  let session: SmtpSession;
  try {
    session = await SmtpSession.open({
      ip: addrs.addresses[0]!, port: s.port, host: net.isIP(s.host) ? addrs.addresses[0]! : s.host,
      tls: s.tls === 'implicit' ? 'implicit' : s.tls === 'starttls' ? 'starttls' : 'plain', verify: s.tls !== 'plain',
      auth: { user: s.username, pass: s.password }, pin: pinOf(s),
    }, { ehloName: deps.config.hostname, connectTimeoutMs: deps.config.imports.connectTimeoutMs, commandTimeoutMs: deps.config.imports.connectTimeoutMs });
  } catch (err) {
    if (!(err instanceof SessionError)) throw err;
    const why = err.failure.response;
    switch (err.kind) {
      case 'auth': throw new AppError('smtp_auth_failed', `${where} refused the user name or password: ${why}`);
      case 'refused': throw new AppError('smtp_unreachable', why);
      case 'timeout': throw new AppError('smtp_timeout', why);
      case 'tls': {
        const cert = s.tls === 'plain' ? null : await probeCertificate(s.host, s.port, s.tls, 10_000, deps.dns, 'smtp').catch(() => null);
        throw new AppError('smtp_tls_failed', `${why}${cert ? ` (certificate SHA-256 ${cert.fingerprint})` : ''}`, certificateDetails(cert));
      }
      default: throw new AppError(/timed out/.test(why) ? 'smtp_timeout' : 'smtp_failed', why);
    }
  }
  const tls = session.tls;
  await session.close();
  return { tls };
}

/** \Sent if the server names one, else a folder called Sent (any case), else "Sent", created. */
async function sentFolderOf(deps: Pick<Deps, 'db'>, accountId: number): Promise<{ path: string; known: boolean }> {
  const folders = await listFolders(deps.db, accountId);
  const found = folders.find((f) => f.existsRemote && f.specialUse === '\\Sent') ?? folders.find((f) => f.existsRemote && /^(?:inbox[./])?sent$/i.test(f.path));
  return found ? { path: found.path, known: true } : { path: 'Sent', known: false };
}

/** Appends what left to the account's Sent folder, marked read; returns the folder's name. */
export async function appendToSent(deps: Pick<Deps, 'db' | 'secrets' | 'config' | 'dns'>, accountId: number, raw: Buffer, at: Date): Promise<string> {
  const account = await openAccount(deps.db, deps.secrets, accountId);
  const folder = await sentFolderOf(deps, accountId);
  const client = imapClient(account, deps.config.imports.connectTimeoutMs, deps.dns);
  client.on('error', () => undefined); // the awaited command rejects with the same error
  try {
    await client.connect();
    if (!folder.known) await client.mailboxCreate(folder.path).catch(() => undefined); // exists already: fine
    const done = await client.append(folder.path, raw, ['\\Seen'], at);
    if (!done) throw new Error(`the server did not take the copy into ${folder.path}`);
    await client.logout();
    return folder.path;
  } finally {
    client.close();
  }
}
