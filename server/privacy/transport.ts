/**
 * Travel analyzer for the connection that delivered the message: TLS version → TLS_1_3 / TLS_1_2 /
 * TLS_OLD / NO_TLS. Pure: reads TransportInfo (recorded by our SMTP session) or a version string.
 */
import type { Signal, TransportInfo } from '../mail/types.js';
import { signal } from './weights.js';

/**
 * Normalises the many spellings of a TLS version — Node's `TLSv1.3`, Sendmail/Google's `TLS1_3`,
 * Exim's `TLS1.2`, `SSLv3` — to "1.3", "1.2", "1.0", "ssl3"; null when none is recognised.
 */
export function tlsVersionOf(protocol: string | null | undefined): string | null {
  if (!protocol) return null;
  const tls = /\bTLS\s?v?\s?1(?:[._](\d))?\b/i.exec(protocol);
  if (tls) return `1.${tls[1] ?? '0'}`;
  if (/\bSSL\s?v?[23]\b/i.test(protocol)) return 'ssl3';
  return null;
}

/** One signal for "this hop was encrypted with version X"; detail says who recorded it. */
export function tlsSignal(version: string | null, detail?: string): Signal {
  if (version === '1.3') return signal('TLS_1_3', detail);
  if (version === '1.2') return signal('TLS_1_2', detail);
  if (version === null) return signal('TLS_VERSION_UNKNOWN', detail);
  // RFC 8996 deprecates TLS 1.0 and 1.1: encrypted, but no longer worth points
  return signal('TLS_OLD', detail ? `${version}, ${detail}` : version);
}

/** Signals for the session that handed us the message; nothing when we do not know it (imports). */
export function transportSignals(transport: TransportInfo | null): Signal[] {
  if (!transport) return [];
  if (transport.local) return [signal('LOCAL_DELIVERY')];
  if (transport.pending) return [signal('NOT_YET_DELIVERED')];
  const sts = transport.mtaSts ? [signal('MTA_STS')] : [];
  return [...sts, ...tlsTransportSignals(transport)];
}

function tlsTransportSignals(transport: TransportInfo): Signal[] {
  if (!transport.tls) return [signal('NO_TLS', transport.clientHostname ?? transport.clientIp)];
  const version = tlsVersionOf(transport.tls.protocol);
  const detail = [transport.tls.protocol, transport.tls.cipher].filter(Boolean).join(' ');
  return [tlsSignal(version, detail || undefined)];
}
