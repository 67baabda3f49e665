/**
 * The Privacy Index of messages (SPEC §7): small pure analyzers name what they observed about a
 * message's travel (TLS, Received hops), its sender (verified DKIM/SPF/DMARC, contact history) and its
 * content (OpenPGP, trackers); `computePi` turns those signals into a score with the one weights table
 * (weights.ts), which also holds every reason's help text in English and French.
 * Not in charge of: verifying authentication (server/mail/authenticate.ts does, with mailauth),
 * decrypting or verifying OpenPGP (the browser does; callers pass `verifiedSignature`), storing PI
 * history, blocking remote content (the HTML sanitizer does), nor the PI of contacts, devices and accounts.
 */
export { WEIGHTS, isSignalId, weightOf, signal, type SignalId, type SignalWeight } from './weights.js';
export { tlsVersionOf, tlsSignal, transportSignals } from './transport.js';
export {
  parseReceivedChain,
  parseReceived,
  externalHops,
  receivedChainSignals,
  type ReceivedHop,
  type ChainContext,
} from './received-chain.js';
export { authSignals } from './auth-signals.js';
export { senderSignals } from './sender-signals.js';
export {
  contentSignals,
  findRemoteContent,
  isPgpEncrypted,
  hasPgpSignature,
  type RemoteContent,
  type ContentView,
} from './content-signals.js';
export { collectPrivacySignals, type CollectInput } from './collect.js';
export {
  computePi,
  piLetter,
  piColour,
  explainReason,
  discussionPi,
  type DiscussionPi,
  type PiLetter,
  type PiColour,
} from './score.js';
