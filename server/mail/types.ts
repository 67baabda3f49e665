/** Shapes shared by the ingest pipeline and its stages. */
import type { ParsedMail } from 'mailparser';

/** 'local': written by a user of this box to another (never crossed a network; the writer authenticated to us) */
export type IngestSource = 'smtp' | 'mbox' | 'maildir' | 'imap' | 'sent' | 'local';

/** TLS and peer of the session that handed us the message (our own SMTP session, or the IMAP link). */
export interface TransportInfo {
  tls: { protocol: string; cipher: string } | null;
  /** handed over inside the box (a local user wrote it): never crossed a network */
  local?: boolean;
  /** outbound: the recipient domain's MTA-STS policy was enforced on this delivery */
  mtaSts?: boolean;
  /** outbound: not delivered anywhere yet */
  pending?: boolean;
  clientIp?: string;
  clientHostname?: string;
  helo?: string;
}

export interface Envelope {
  mailFrom: string | null;
  rcptTo: string[];
}

/** Verified authentication results (mailauth), reduced to what the PI, spam and UI need. */
export interface AuthResults {
  spf: { result: string; domain: string | null };
  dkim: Array<{ result: string; domain: string; selector: string | null; aligned: boolean }>;
  dmarc: { result: string; policy: string | null; domain: string | null };
  arc: { result: string };
  headerFrom: string | null;
  /** one line per verdict in plain words, e.g. "signed by example.org, verified" */
  summary: string[];
}

export type PiAxis = 'travel' | 'sender' | 'content';

/** A named fact an analyzer observed; scores come from the weights table, never from analyzers. */
export interface Signal {
  id: string;
  detail?: string;
}

export interface PiReason {
  signal: string;
  axis: PiAxis;
  points: number;
  detail?: string;
}

export interface PiReport {
  score: number;
  letter: 'A' | 'B' | 'C' | 'D' | 'E';
  colour: 'red' | 'pink' | 'amber' | 'green';
  axes: Record<PiAxis, number>;
  reasons: PiReason[];
}

/** What the sender's history with this user looks like, for spam/importance and the PI. */
export interface SenderHistory {
  isKnownContact: boolean;
  contactHasKey: boolean;
  userWroteTo: number; // messages the user sent to this address/contact
  receivedBefore: number; // messages received from it before
  markedSpamBefore: number;
}

export interface SpamVerdict {
  spamScore: number; // 0..1 probability-like
  isSpam: boolean;
  importance: number; // -10..10
  signals: Signal[];
}

export interface IngestContext {
  parsed: ParsedMail;
  raw: Buffer;
  transport: TransportInfo | null;
  auth: AuthResults | null;
}
