/**
 * The Received trace line our MX prepends to what it accepts (RFC 5321 §4.4: a server MUST add
 * one). It records our own hop, including its TLS, so that later readers of the raw message
 * (and the PI's hop analysis) see how the last hop travelled. "for <rcpt>" only with a single
 * recipient, so that a Bcc recipient is not revealed to the others.
 */
import type { Envelope, TransportInfo } from './types.js';

function rfc5322Date(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

function clean(s: string | undefined, max = 200): string {
  return (s ?? '').replace(/[^\x21-\x7e]/g, '').slice(0, max);
}

export function receivedHeader(opts: { hostname: string; transport: TransportInfo; envelope: Envelope; at: Date; id: string }): string {
  const t = opts.transport;
  const from = `from ${clean(t.helo) || 'unknown'} (${clean(t.clientHostname) || 'unknown'} [${clean(t.clientIp)}])`;
  const tls = t.tls ? ` (using ${clean(t.tls.protocol)} with cipher ${clean(t.tls.cipher)})` : '';
  const proto = t.tls ? 'ESMTPS' : 'ESMTP';
  const rcpt = opts.envelope.rcptTo.length === 1 ? `\r\n\tfor <${clean(opts.envelope.rcptTo[0], 320)}>` : '';
  return `Received: ${from}\r\n\tby ${clean(opts.hostname)} (Caliopen) with ${proto} id ${clean(opts.id)}${tls}${rcpt};\r\n\t${rfc5322Date(opts.at)}\r\n`;
}
