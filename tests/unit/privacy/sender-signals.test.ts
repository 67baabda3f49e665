import t from 'tap';
import type { SenderHistory } from '../../../server/mail/types.js';
import { computePi, senderSignals } from '../../../server/privacy/index.js';

const history = (over: Partial<SenderHistory>): SenderHistory => ({
  isKnownContact: false, contactHasKey: false, userWroteTo: 0, receivedBefore: 0, markedSpamBefore: 0, ...over,
});

t.test('a stranger earns nothing, a contact 10, a contact with a key 15', async (t) => {
  t.same(senderSignals(history({})), [{ id: 'UNKNOWN_SENDER' }]);
  t.same(senderSignals(history({ isKnownContact: true })), [{ id: 'KNOWN_CONTACT' }]);
  t.same(senderSignals(history({ isKnownContact: true, contactHasKey: true })), [{ id: 'KNOWN_CONTACT' }, { id: 'CONTACT_HAS_KEY' }]);
  t.equal(computePi(senderSignals(history({}))).score, 0);
  t.equal(computePi(senderSignals(history({ isKnownContact: true }))).score, 10);
  t.equal(computePi(senderSignals(history({ isKnownContact: true, contactHasKey: true, receivedBefore: 40 }))).score, 15);
});
