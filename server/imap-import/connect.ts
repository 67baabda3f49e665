/**
 * Connecting to an external IMAP server: TLS mode (implicit, STARTTLS required, plain only on
 * loopback), a certificate the user chose to trust (pinned by SHA-256 fingerprint: the chain must
 * be exactly that certificate, whatever the name), and one classification of what went wrong into
 * stable error codes: imap_auth_failed, imap_tls_failed (with the fingerprint to offer),
 * imap_host_not_found, imap_timeout, imap_unreachable, imap_failed. The password is never logged:
 * imapflow's logger is off.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { AppError } from '../errors.js';
import type { TlsMode } from './account-store.js';
import type { TransportInfo } from '../mail/types.js';
import type { DnsResolver } from '../dns.js';

export interface ConnectSettings {
  host: string;
  port: number;
  tls: TlsMode;
  username: string;
  password: string;
  trustedFingerprint?: string | null;
  trustedCertPem?: string | null;
}

export interface CertificateInfo {
  fingerprint: string;
  subject: string;
  issuer: string;
  validTo: string;
  pem: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127\./.test(host);
}

/** "AB:CD:…" upper-case, the form Node prints and the user compares. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[^0-9a-f]/gi, '').toUpperCase();
  if (hex.length !== 64) throw new AppError('validation_failed', 'a certificate fingerprint is 32 bytes of SHA-256 in hex');
  return hex.match(/../g)!.join(':');
}

export function assertTlsAllowed(host: string, mode: TlsMode): void {
  if (mode === 'plain' && !isLoopback(host)) {
    throw new AppError('plain_imap_not_loopback', 'IMAP without TLS is only allowed to a server on this machine (127.0.0.1)');
  }
}

/**
 * Host names are resolved through the box's injected resolver (deps.dns, CALIOPEN_RESOLVER) like
 * every other name, not the system's getaddrinfo: tests answer from loopback, and a box pointed at
 * its own resolver uses it for IMAP too. `localhost` is the loopback address.
 */
export function lookupVia(dns: DnsResolver): net.LookupFunction {
  return (hostname, options, callback) => {
    const name = hostname.toLowerCase() === 'localhost' ? '127.0.0.1' : hostname;
    const done = (addresses: string[], code: string) => {
      if (!addresses.length) return callback(Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, hostname }), '', 4);
      const list = addresses.map((address) => ({ address, family: net.isIPv6(address) ? 6 : 4 }));
      if (options.all) (callback as unknown as (e: null, l: typeof list) => void)(null, list);
      else callback(null, list[0]!.address, list[0]!.family);
    };
    if (net.isIP(name)) return done([name], '');
    void Promise.allSettled([dns(name, 'A'), dns(name, 'AAAA')]).then((rs) => {
      const found = rs.flatMap((r) => (r.status === 'fulfilled' ? r.value.filter((x): x is string => typeof x === 'string' && net.isIP(x) > 0) : []));
      const codes = rs.map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code : 'ENODATA'));
      done(found, codes.every((c) => c === 'ENOTFOUND' || c === 'ENODATA') ? 'ENOTFOUND' : 'EAI_AGAIN');
    });
  };
}

function tlsOptions(s: ConnectSettings, lookup?: net.LookupFunction): tls.ConnectionOptions {
  // imapflow hands these options to net.connect / tls.connect: the lookup goes with them
  if (!s.trustedFingerprint || !s.trustedCertPem) return { rejectUnauthorized: true, minVersion: 'TLSv1.2', lookup };
  const pinned = normalizeFingerprint(s.trustedFingerprint);
  return {
    lookup,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    // the pinned certificate is the only trust anchor, and the only certificate accepted
    ca: [s.trustedCertPem],
    checkServerIdentity: (_host, cert) =>
      cert.fingerprint256 === pinned ? undefined : Object.assign(new Error(`certificate ${cert.fingerprint256} is not the trusted one`), { code: 'CERT_FINGERPRINT_MISMATCH' }),
  };
}

export function imapClient(s: ConnectSettings, timeoutMs: number, dns?: DnsResolver): ImapFlow {
  assertTlsAllowed(s.host, s.tls);
  const opts: ImapFlowOptions = {
    host: s.host,
    port: s.port,
    secure: s.tls === 'implicit',
    doSTARTTLS: s.tls === 'starttls' ? true : s.tls === 'plain' ? false : undefined,
    tls: tlsOptions(s, dns ? lookupVia(dns) : undefined),
    auth: { user: s.username, pass: s.password },
    logger: false,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: 5 * 60_000,
    disableAutoIdle: true,
    clientInfo: { name: 'Caliopen' },
  };
  return new ImapFlow(opts);
}

/** The TLS of the IMAP link, recorded as the message's last hop (the PI reads it like an SMTP session's). */
export function transportOf(client: ImapFlow, host: string): TransportInfo {
  const socket = (client as unknown as { socket?: tls.TLSSocket }).socket;
  const cipher = socket && typeof socket.getCipher === 'function' ? socket.getCipher() : null;
  const protocol = socket && typeof socket.getProtocol === 'function' ? socket.getProtocol() : null;
  return { tls: cipher && protocol ? { protocol, cipher: cipher.standardName || cipher.name } : null, clientHostname: host };
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET)|ERR_TLS|ERR_SSL|EPROTO|HOSTNAME|ALTNAME/;

/** Turns whatever the connection threw into an AppError with a stable code (details: the certificate for TLS). */
export async function classifyImapError(err: unknown, s: Pick<ConnectSettings, 'host' | 'port' | 'tls'>, dns?: DnsResolver): Promise<AppError> {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; message?: string; authenticationFailed?: boolean; responseText?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  const where = `${s.host}:${s.port}`;
  if (e.authenticationFailed || code === 'AUTHENTICATIONFAILED') {
    return new AppError('imap_auth_failed', `${where} refused the user name or password${e.responseText ? `: ${e.responseText}` : ''}`);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return new AppError('imap_host_not_found', `host ${s.host} not found`);
  if (/TIMEOUT|ETIMEDOUT/i.test(code) || /timeout|timed out/i.test(e.message ?? '')) return new AppError('imap_timeout', `${where} did not answer in time`);
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new AppError('imap_unreachable', `cannot connect to ${where} (${code})`);
  if (TLS_CODES.test(code) || /certificate|TLS|SSL/i.test(e.message ?? '')) {
    const cert = s.tls === 'plain' ? null : await probeCertificate(s.host, s.port, s.tls, 10_000, dns).catch(() => null);
    return new AppError('imap_tls_failed', `TLS with ${where} failed: ${e.message ?? code}${cert ? ` (certificate SHA-256 ${cert.fingerprint})` : ''}`, cert ? { certificate: { fingerprint: cert.fingerprint, subject: cert.subject, issuer: cert.issuer, valid_to: cert.validTo } } : undefined);
  }
  return new AppError('imap_failed', `IMAP with ${where} failed: ${e.responseText ?? e.message ?? String(err)}`);
}

function certInfo(socket: tls.TLSSocket): CertificateInfo {
  const c = socket.getPeerCertificate(true);
  const pem = `-----BEGIN CERTIFICATE-----\n${c.raw.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  const name = (n: unknown) => Object.entries((n ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(', ');
  return { fingerprint: c.fingerprint256, subject: name(c.subject), issuer: name(c.issuer), validTo: c.valid_to, pem };
}

/** The plain-text exchange that leads to STARTTLS: what to send after each complete reply, and when TLS may start. */
const STARTTLS_DIALOGUES = {
  // greeting → P1 STARTTLS → P1 OK
  imap: [{ until: /\r\n/, send: 'P1 STARTTLS\r\n' }, { until: /^P1 /m, ok: /^P1 OK/m }],
  // 220 greeting → EHLO → 250 → STARTTLS → 220
  smtp: [{ until: /^220 .*\r\n/m, send: 'EHLO caliopen\r\n' }, { until: /^\d{3} .*\r\n/m, send: 'STARTTLS\r\n' }, { until: /^\d{3} .*\r\n/m, ok: /^220 /m }],
} as const;

/**
 * Reads the server's certificate without trusting it (nothing is sent but what leads to
 * STARTTLS): for the user to compare its fingerprint, and to pin it once they accept.
 */
export function probeCertificate(host: string, port: number, mode: TlsMode, timeoutMs = 10_000, dns?: DnsResolver, protocol: 'imap' | 'smtp' = 'imap'): Promise<CertificateInfo> {
  const lookup = dns ? lookupVia(dns) : undefined;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(Object.assign(new Error('timed out reading the certificate'), { code: 'ETIMEDOUT' })), timeoutMs);
    let sockets: net.Socket[] = [];
    const fail = (err: Error) => {
      clearTimeout(timer);
      sockets.forEach((x) => x.destroy());
      reject(err);
    };
    const secure = (plain?: net.Socket) => {
      const t = tls.connect({ host, port, socket: plain, lookup, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: false }, () => {
        clearTimeout(timer);
        const info = certInfo(t);
        t.destroy();
        plain?.destroy();
        resolve(info);
      });
      sockets.push(t);
      t.on('error', fail);
    };
    if (mode === 'implicit') return secure();
    const plain = net.connect({ port, host, lookup });
    sockets = [plain];
    const steps: ReadonlyArray<{ until: RegExp; send?: string; ok?: RegExp }> = STARTTLS_DIALOGUES[protocol];
    let step = 0;
    let buf = '';
    plain.on('error', fail);
    plain.on('data', function onData(chunk) {
      buf += chunk.toString('latin1');
      const s = steps[step]!;
      if (!s.until.test(buf)) return;
      if (s.ok) {
        plain.off('data', onData);
        if (!s.ok.test(buf)) return fail(new Error(`the server refused STARTTLS: ${buf.trim()}`));
        return secure(plain);
      }
      buf = '';
      step++;
      plain.write(s.send!);
    });
  });
}

/** SHA-256 of a PEM certificate, in the same form as fingerprint256. */
export function fingerprintOfPem(pem: string): string {
  return new crypto.X509Certificate(pem).fingerprint256;
}
