/**
 * SMTP front end: the inbound MX (port 25) speaking the protocol with the world — banner, EHLO
 * extensions (STARTTLS, SIZE, 8BITMIME, SMTPUTF8, PIPELINING, ENHANCEDSTATUSCODES), recipient
 * checks at RCPT time, session limits, refusal of SMTP smuggling, and the TLS facts of each session.
 * It decides nothing about mail itself: which addresses exist and how a message is stored come in
 * through InboundHandlers (wired to mail.ingest by the app), and it replies 250 only once deliver()
 * says the message is on disk. Not here: submission with AUTH (587/465), outbound delivery
 * (delivery/), SPF/DKIM/DMARC verification and parsing (mail/).
 */
export { createInboundServer } from './inbound-server.js';
export type { InboundHandlers, InboundServer, InboundServerOptions } from './inbound-server.js';
export { loadOrCreateTlsCert } from './tls-cert.js';
export type { TlsMaterial } from './tls-cert.js';
export { LineEndingScanner } from './smuggling.js';
export type { BareLineEnding } from './smuggling.js';
export * as replies from './replies.js';
