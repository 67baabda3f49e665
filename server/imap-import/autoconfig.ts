/**
 * Finding an address's IMAP (and SMTP) settings: well-known providers from a small table first
 * (no request leaves the box), then Thunderbird-style autoconfig published by the domain, at
 * https://autoconfig.<domain>/mail/config-v1.1.xml and https://<domain>/.well-known/autoconfig/
 * mail/config-v1.1.xml, through the injected HTTPS fetcher (deps.fetch). Only HTTPS, so a network
 * on the way cannot hand the user a server of its choosing. The XML is read with a few bounded
 * patterns: we need four fields, not a parser.
 */
import type { HttpsFetcher } from '../delivery/types.js';
import { AppError } from '../errors.js';
import type { TlsMode } from './account-store.js';

export interface ServerSettings {
  host: string;
  port: number;
  tls: TlsMode;
  username: string;
}

export interface DiscoveredSettings {
  imap: ServerSettings;
  smtp: ServerSettings | null;
  source: 'preset' | 'autoconfig';
  url?: string;
}

type Preset = { imap: [string, number]; smtp: [string, number, TlsMode] };
const PRESETS: Record<string, Preset> = {
  'gmail.com': { imap: ['imap.gmail.com', 993], smtp: ['smtp.gmail.com', 465, 'implicit'] },
  'googlemail.com': { imap: ['imap.gmail.com', 993], smtp: ['smtp.gmail.com', 465, 'implicit'] },
  'outlook.com': { imap: ['outlook.office365.com', 993], smtp: ['smtp.office365.com', 587, 'starttls'] },
  'hotmail.com': { imap: ['outlook.office365.com', 993], smtp: ['smtp.office365.com', 587, 'starttls'] },
  'live.com': { imap: ['outlook.office365.com', 993], smtp: ['smtp.office365.com', 587, 'starttls'] },
  'yahoo.com': { imap: ['imap.mail.yahoo.com', 993], smtp: ['smtp.mail.yahoo.com', 465, 'implicit'] },
  'icloud.com': { imap: ['imap.mail.me.com', 993], smtp: ['smtp.mail.me.com', 587, 'starttls'] },
  'me.com': { imap: ['imap.mail.me.com', 993], smtp: ['smtp.mail.me.com', 587, 'starttls'] },
  'fastmail.com': { imap: ['imap.fastmail.com', 993], smtp: ['smtp.fastmail.com', 465, 'implicit'] },
  'gmx.com': { imap: ['imap.gmx.com', 993], smtp: ['mail.gmx.com', 465, 'implicit'] },
  'gmx.fr': { imap: ['imap.gmx.net', 993], smtp: ['mail.gmx.net', 465, 'implicit'] },
  'gmx.de': { imap: ['imap.gmx.net', 993], smtp: ['mail.gmx.net', 465, 'implicit'] },
  'laposte.net': { imap: ['imap.laposte.net', 993], smtp: ['smtp.laposte.net', 465, 'implicit'] },
  'orange.fr': { imap: ['imap.orange.fr', 993], smtp: ['smtp.orange.fr', 465, 'implicit'] },
  'free.fr': { imap: ['imap.free.fr', 993], smtp: ['smtp.free.fr', 465, 'implicit'] },
  'posteo.de': { imap: ['posteo.de', 993], smtp: ['posteo.de', 465, 'implicit'] },
  'mailbox.org': { imap: ['imap.mailbox.org', 993], smtp: ['smtp.mailbox.org', 465, 'implicit'] },
  'riseup.net': { imap: ['mail.riseup.net', 993], smtp: ['mail.riseup.net', 465, 'implicit'] },
};

export function splitAddress(address: string): { local: string; domain: string } {
  const m = /^([^@\s]+)@([a-z0-9.-]+\.[a-z]{2,})$/i.exec(address.trim());
  if (!m) throw new AppError('validation_failed', `"${address}" is not an email address`);
  return { local: m[1]!, domain: m[2]!.toLowerCase() };
}

const SOCKET: Record<string, TlsMode> = { SSL: 'implicit', STARTTLS: 'starttls', plain: 'plain' };

function field(block: string, name: string): string | null {
  const m = new RegExp(`<${name}>\\s*([^<]{1,255}?)\\s*</${name}>`, 'i').exec(block);
  return m ? m[1]! : null;
}

function serverOf(xml: string, kind: 'incomingServer' | 'outgoingServer', type: 'imap' | 'smtp', address: string): ServerSettings | null {
  const { local } = splitAddress(address);
  const re = new RegExp(`<${kind}[^>]*type="${type}"[^>]*>([\\s\\S]{0,4000}?)</${kind}>`, 'gi');
  for (const m of xml.matchAll(re)) {
    const block = m[1]!;
    const host = field(block, 'hostname');
    const port = Number(field(block, 'port'));
    const tls = SOCKET[field(block, 'socketType') ?? ''];
    // plain is never proposed for a remote server (assertTlsAllowed would refuse it anyway)
    if (!host || !Number.isInteger(port) || port <= 0 || port > 65535 || !tls || tls === 'plain') continue;
    const username = (field(block, 'username') ?? '%EMAILADDRESS%').replace(/%EMAILADDRESS%/g, address).replace(/%EMAILLOCALPART%/g, local);
    return { host: host.toLowerCase(), port, tls, username };
  }
  return null;
}

/** Reads a Thunderbird autoconfig document (config-v1.1.xml). */
export function parseAutoconfig(xml: string, address: string): Pick<DiscoveredSettings, 'imap' | 'smtp'> | null {
  const imap = serverOf(xml, 'incomingServer', 'imap', address);
  return imap ? { imap, smtp: serverOf(xml, 'outgoingServer', 'smtp', address) } : null;
}

export async function discoverSettings(fetch: HttpsFetcher, address: string): Promise<DiscoveredSettings> {
  const { domain } = splitAddress(address);
  const preset = PRESETS[domain];
  if (preset) {
    return {
      source: 'preset',
      imap: { host: preset.imap[0], port: preset.imap[1], tls: 'implicit', username: address },
      smtp: { host: preset.smtp[0], port: preset.smtp[1], tls: preset.smtp[2], username: address },
    };
  }
  const q = `emailaddress=${encodeURIComponent(address)}`;
  for (const url of [`https://autoconfig.${domain}/mail/config-v1.1.xml?${q}`, `https://${domain}/.well-known/autoconfig/mail/config-v1.1.xml?${q}`]) {
    const res = await fetch(url, { timeoutMs: 5000 }).catch(() => null);
    if (!res || res.status !== 200) continue;
    const found = parseAutoconfig(res.body, address);
    if (found) return { ...found, source: 'autoconfig', url };
  }
  throw new AppError('autoconfig_not_found', `no settings published for ${domain}: enter the server by hand`);
}
