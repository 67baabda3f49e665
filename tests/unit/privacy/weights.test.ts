import t from 'tap';
import { WEIGHTS, explainReason, isSignalId } from '../../../server/privacy/index.js';

t.test('SPEC §7 message weights are the ones in the table', async (t) => {
  const spec: Record<string, [string, number]> = {
    TLS_1_3: ['travel', 15],
    TLS_1_2: ['travel', 10],
    ALL_HOPS_TLS: ['travel', 10],
    FEW_EXTERNAL_HOPS: ['travel', 5],
    DKIM_PASS_ALIGNED: ['sender', 10],
    SPF_PASS: ['sender', 5],
    DMARC_PASS: ['sender', 10],
    KNOWN_CONTACT: ['sender', 10],
    CONTACT_HAS_KEY: ['sender', 5],
    PGP_ENCRYPTED: ['content', 20],
    SIGNATURE_VERIFIED: ['content', 10],
    NO_REMOTE_CONTENT: ['content', 5],
    // SPEC §7 names these without a weight: "for sent mail: the transport we used (TLS to the MX, MTA-STS)".
    // Mail between two users of the box is worth what its best internet equivalents are worth.
    MTA_STS: ['travel', 5],
    LOCAL_DELIVERY: ['travel', 15], // = TLS 1.3: it never left the box
    LOCAL_SENDER: ['sender', 25], // = DKIM aligned + SPF + DMARC: the writer signed in to us
  };
  for (const [id, [axis, points]] of Object.entries(spec)) {
    t.ok(isSignalId(id), `${id} is in the table`);
    t.same([WEIGHTS[id as keyof typeof WEIGHTS].axis, WEIGHTS[id as keyof typeof WEIGHTS].points], [axis, points], id);
  }
  // the only points the table gives are the ones above; every other signal is informational
  for (const [id, w] of Object.entries(WEIGHTS)) {
    if (!(id in spec)) t.ok(w.points <= 0, `${id} is informational (${w.points})`);
  }
});

t.test('every signal has an id, an axis and help in English and French', async (t) => {
  const ids = Object.keys(WEIGHTS);
  t.ok(ids.length >= 20);
  const seen = new Set<string>();
  for (const [id, w] of Object.entries(WEIGHTS)) {
    t.match(id, /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/, `${id} is SCREAMING_SNAKE`);
    t.ok(['travel', 'sender', 'content'].includes(w.axis), `${id} axis`);
    t.ok(w.help.en.length > 20, `${id} has English help`);
    t.ok(w.help.fr.length > 20, `${id} has French help`);
    t.not(w.help.en, w.help.fr, `${id} French help is not the English text`);
    t.equal(explainReason(id, 'fr'), w.help.fr);
    t.notOk(seen.has(w.help.en), `${id} help is not copied from another signal`);
    seen.add(w.help.en);
  }
  t.notOk(isSignalId('toString'), 'prototype keys are not signals');
});
