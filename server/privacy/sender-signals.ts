/**
 * Sender analyzer: what the user's own history says about the sender. The history is looked up by
 * the caller (contacts module); this only names the facts.
 */
import type { SenderHistory, Signal } from '../mail/types.js';
import { signal } from './weights.js';

export function senderSignals(history: SenderHistory): Signal[] {
  const out: Signal[] = [signal(history.isKnownContact ? 'KNOWN_CONTACT' : 'UNKNOWN_SENDER')];
  if (history.contactHasKey) out.push(signal('CONTACT_HAS_KEY'));
  return out;
}
