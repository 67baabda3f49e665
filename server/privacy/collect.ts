/**
 * Runs every message analyzer and returns the signals, travel first, then sender, then content.
 * What counts as "the delivery" depends on how the message came in: over SMTP we saw the
 * connection ourselves; for an import the user's provider wrote it in the newest Received stamp.
 */
import type { ParsedMail } from 'mailparser';
import type { AuthResults, IngestSource, SenderHistory, Signal, TransportInfo } from '../mail/types.js';
import { authSignals } from './auth-signals.js';
import { contentSignals } from './content-signals.js';
import { externalHops, parseReceivedChain, receivedChainSignals, type ReceivedHop } from './received-chain.js';
import { senderSignals } from './sender-signals.js';
import { tlsSignal, transportSignals } from './transport.js';
import { signal } from './weights.js';

export interface CollectInput {
  parsed: ParsedMail;
  /** the message bytes; today every analyzer works from `parsed`, so none reads them again */
  raw: Buffer;
  transport: TransportInfo | null;
  auth: AuthResults | null;
  sender: SenderHistory;
  source: IngestSource;
  /** set by the caller that checked an OpenPGP signature (in the browser); presence alone earns nothing */
  verifiedSignature?: boolean;
  /** this box's host names, so that its own Received stamps are not counted as outside hops */
  ownHosts?: readonly string[];
}

export function collectPrivacySignals(input: CollectInput): Signal[] {
  return [
    ...travelSignals(input),
    ...(input.source === 'sent' ? [] : [...authSignals(input.auth), ...senderSignals(input.sender)]),
    ...(input.source === 'local' ? [signal('LOCAL_SENDER')] : []),
    ...contentSignals(input.parsed, { verifiedSignature: input.verifiedSignature }),
  ];
}

function travelSignals(input: CollectInput): Signal[] {
  const { transport, source } = input;
  // a sent copy has no inbound journey; its transport (when known) is the connection we delivered over
  if (source === 'sent' || source === 'local') return transportSignals(transport);
  const hops = parseReceivedChain(input.parsed.headerLines ?? []);
  if (source === 'smtp') {
    return [
      ...transportSignals(transport),
      ...receivedChainSignals(hops, {
        ownHosts: input.ownHosts,
        deliveringIp: transport?.clientIp,
        deliveredOverTls: transport ? transport.tls !== null : null,
      }),
    ];
  }
  // imports: the IMAP link is only our fetch; the delivery is the provider's newest outside stamp
  const top = externalHops(hops, { ownHosts: input.ownHosts })[0];
  const chain = receivedChainSignals(hops, { ownHosts: input.ownHosts, deliveredOverTls: null });
  return top ? [importedDelivery(top), ...chain] : chain;
}

function importedDelivery(hop: ReceivedHop): Signal {
  const detail = `recorded by ${hop.by ?? 'an unnamed server'}`;
  return hop.tls ? tlsSignal(hop.tlsVersion, detail) : signal('NO_TLS', detail);
}
