/**
 * Antispam and importance (SPEC §2). In charge of: turning a parsed message into tokens, judging it
 * (spam score, spam or not, importance −10..10, and the signals that explain both) from its
 * authentication results, the sender's history with the user, content rules and the user's own
 * learning filter; and teaching that filter when the user marks a message SPAM / not-SPAM.
 * Not in charge of: verifying SPF/DKIM/DMARC (mailauth, upstream), building SenderHistory (contacts),
 * tagging or hiding messages, or remembering what a message was trained as (messages.spam_trained
 * belongs to the caller, who passes it back as `previously`).
 *
 * Typical use on ingest:  const tokens = tokenize(parsed); const v = await scoreSpam(db, userId, {…, tokens});
 * On a user's decision:  await trainSpam(trx, userId, tokenize(parsed), isSpam, row.spam_trained);
 */
export { tokenize, MAX_TOKENS } from './tokenize.js';
export { classify, BAYES, type BayesResult, type SpamStats, type TokenCounts } from './bayes.js';
export { loadBayesInput, loadSpamStats, loadTokenCounts, trainSpam, type TrainedAs } from './repo.js';
export { scoreSpam, judge, type SpamInput } from './score.js';
export { WEIGHTS, SPAM_PRIOR, SPAM_THRESHOLD, type SignalId, type Weight } from './weights.js';
