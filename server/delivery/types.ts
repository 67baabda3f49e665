/**
 * Shapes shared by the sending side: the send path (send.ts), the queue (queue.ts), the delivery
 * worker (worker.ts) and the SMTP transport (transport.ts). Delivery results are values, never
 * exceptions: every recipient ends an attempt delivered, temp_fail or perm_fail, with the reply.
 */

import type { ResolvedRelay } from './relay-routes.js';

export type RecipientStatus = 'delivered' | 'temp_fail' | 'perm_fail';

export interface RecipientResult {
  address: string;
  status: RecipientStatus;
  /** SMTP reply code and enhanced status when there was a reply, e.g. "550 5.1.1"; null for network errors */
  code: string | null;
  /** the remote reply or a plain description of what went wrong ("connection refused by mx.example.org") */
  response: string;
}

/** How a delivery travelled, for the sent message's PI and the queue view. */
export interface TravelInfo {
  /** the host that took the message (MX or relay) */
  host: string;
  tls: { protocol: string; cipher: string } | null;
  /** the recipient domain's MTA-STS policy was in force (mode enforce) and satisfied */
  mtaSts: boolean;
  route: 'direct' | 'relay';
}

export interface DeliveryReport {
  recipients: RecipientResult[];
  /** set when at least one recipient was accepted */
  travel: TravelInfo | null;
}

/** One message to one recipient domain: what the worker hands the transport. */
export interface DeliveryJob {
  domain: string;
  mailFrom: string; // '' for DSNs (null reverse-path)
  recipients: string[];
  raw: Buffer;
  /** leave through this server whatever the recipient domain (a message sent "as" an external address) */
  via?: ResolvedRelay;
}

export interface Transport {
  /** Delivers one job; never throws for remote or network failures (they are results). */
  deliver(job: DeliveryJob): Promise<DeliveryReport>;
  /** closes pooled connections */
  close(): Promise<void>;
}

/** Fetches https://mta-sts.<domain>/.well-known/mta-sts.txt (and later WKD): injected so tests serve policies locally. */
export type HttpsFetcher = (url: string, opts?: { timeoutMs?: number }) => Promise<{ status: number; body: string; headers?: Record<string, string>; /** the body's bytes (WKD serves binary keys) */ raw?: Buffer }>;

/** A message the box has to send, before it is signed and queued. */
export interface OutgoingMessage {
  userId: number;
  /** unsigned RFC 5322 bytes (composed by the API, or as received from a submission client) */
  raw: Buffer;
  envelope: { mailFrom: string; rcptTo: string[] };
  source: 'api' | 'submission';
  /** the discussion a reply belongs to, when known */
  discussionId?: number;
}

export interface SendOutcome {
  outboundId: number | null; // null when every recipient was local
  messageId: number; // the Sent copy
  discussionId: number;
  headerMessageId: string;
  local: string[]; // delivered inside the box
  queued: string[]; // waiting for remote delivery
}

/** The one send path behind the API and submission: sign, store the Sent copy, deliver locally, queue the rest. */
export interface Sender {
  /** Throws AppError (rate_limited, sender_not_allowed, invalid_recipient, no_recipients) before anything is stored. */
  submit(msg: OutgoingMessage): Promise<SendOutcome>;
}
