/**
 * The verdict on one inbound message: spam score, spam or not, importance (−10..10) and the signals
 * behind them. Runs on every message, so it reads the database once (repo.loadBayesInput) and reuses
 * the caller's parse and tokens.
 */
import type { Knex } from 'knex';
import type { ParsedMail, AddressObject } from 'mailparser';
import type { AuthResults, SenderHistory, SpamVerdict } from '../mail/types.js';
import { type BayesResult, classify } from './bayes.js';
import { loadBayesInput } from './repo.js';
import { type SpamSignal, authSignals, contentSignals, historySignals } from './rules.js';
import { headerText, listHeaders, senderOf } from './facts.js';
import { BAYES_MAX_LOGIT, SPAM_PRIOR, SPAM_THRESHOLD, WEIGHTS } from './weights.js';

export interface SpamInput {
  parsed: ParsedMail;
  auth: AuthResults | null;
  history: SenderHistory;
  tokens: string[];
  /** the user's addresses (lower-case), to tell To from Cc; without them that distinction is skipped */
  userAddresses?: readonly string[];
  /** In-Reply-To/References name a message the user sent; when unknown, guessed from history */
  repliesToUser?: boolean;
}

export async function scoreSpam(db: Knex, userId: number, input: SpamInput, o: { untrained?: boolean } = {}): Promise<SpamVerdict> {
  // a filter known (from recent totals) not to be trained yet has nothing to say: no token look-up
  if (o.untrained) return judge(input, classify(new Map(), { spamMessages: 0, hamMessages: 0 }));
  const { stats, counts } = await loadBayesInput(db, userId, input.tokens);
  return judge(input, classify(counts, stats));
}

/** The pure part of scoreSpam: signals and the learned probability → verdict. */
export function judge(input: SpamInput, bayes: BayesResult): SpamVerdict {
  const spamSignals = [
    ...authSignals(input.auth),
    ...historySignals(input.history, input.auth),
    ...contentSignals(input.parsed, input.tokens),
    bayesSignal(bayes),
  ].filter((s): s is SpamSignal => s !== null);
  const logit = SPAM_PRIOR + sum(spamSignals, 'spam') + bayesLogit(bayes);
  const spamScore = Math.round(sigmoid(logit) * 1e4) / 1e4;
  const isSpam = spamScore >= SPAM_THRESHOLD;
  const signals = [...spamSignals, ...importanceSignals(input)];
  if (isSpam) signals.push({ id: 'IMPORTANCE_SPAM', detail: `spam score ${spamScore.toFixed(2)}` });
  const importance = Math.max(-10, Math.min(10, Math.round(sum(signals, 'importance'))));
  return { spamScore, isSpam, importance, signals };
}

function sum(signals: readonly SpamSignal[], key: 'spam' | 'importance'): number {
  let total = 0;
  for (const s of signals) {
    const w = WEIGHTS[s.id] as { spam?: number; importance?: number };
    total += w[key] ?? 0;
  }
  return total;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function bayesLogit(bayes: BayesResult): number {
  if (!bayes.ready) return 0;
  const p = Math.min(Math.max(bayes.probability, 1e-6), 1 - 1e-6);
  return Math.max(-BAYES_MAX_LOGIT, Math.min(BAYES_MAX_LOGIT, Math.log(p / (1 - p))));
}

function bayesSignal(bayes: BayesResult): SpamSignal | null {
  if (!bayes.ready) return { id: 'BAYES_UNTRAINED' };
  const p = bayes.probability;
  const id = p >= 0.9 ? 'SPAM_BAYES_HIGH' : p >= 0.6 ? 'SPAM_BAYES_LEANING' : p <= 0.1 ? 'HAM_BAYES_LOW' : p <= 0.4 ? 'HAM_BAYES_LEANING' : null;
  if (!id) return null;
  const words = bayes.clues.slice(0, 3).map((c) => c.token);
  return { id, detail: `${Math.round(p * 100)}%` + (words.length ? ` (${words.join(', ')})` : '') };
}

const AUTOMATED_SENDER = /^(no-?reply|do-?not-?reply|notifications?|mailer-daemon|bounces?|alerts?)([+._-]|$)/;

function importanceSignals(input: SpamInput): SpamSignal[] {
  const { parsed, history } = input;
  const out: SpamSignal[] = [];
  const list = listHeaders(parsed);
  const precedence = headerText(parsed, 'precedence')?.trim().toLowerCase();
  // a discussion list (one members can post to) also says Precedence: bulk and List-Unsubscribe:
  // only a list nobody answers to is a newsletter
  const discussion = list.id !== null && list.post;
  const bulk = !discussion && (precedence === 'bulk' || precedence === 'junk' || list.unsubscribe);
  if (list.id !== null) out.push({ id: 'IMPORTANCE_MAILING_LIST', detail: list.id || undefined });
  if (bulk) out.push({ id: 'IMPORTANCE_BULK' });
  // newsletters are addressed to each reader personally: that "To: you" is mail merge, not attention
  else out.push(...recipientSignals(parsed, input.userAddresses));
  const replies = input.repliesToUser ?? (Boolean(parsed.inReplyTo) && history.userWroteTo > 0);
  if (replies) out.push({ id: 'IMPORTANCE_REPLY_TO_USER', detail: input.repliesToUser ? 'answers a message you sent' : 'a reply from someone you wrote to' });
  const auto = headerText(parsed, 'auto-submitted')?.trim().toLowerCase();
  const local = senderOf(parsed)?.address.split('@')[0] ?? '';
  const machine = auto !== undefined && auto !== 'no';
  if (machine || AUTOMATED_SENDER.test(local)) out.push({ id: 'IMPORTANCE_AUTOMATED', detail: machine ? `Auto-Submitted: ${auto}` : local });
  const known = history.isKnownContact || history.userWroteTo > 0;
  if (known && isUrgent(parsed)) out.push({ id: 'IMPORTANCE_URGENT' });
  return out;
}

function addressesIn(obj: AddressObject | AddressObject[] | undefined): string[] {
  const out: string[] = [];
  for (const o of Array.isArray(obj) ? obj : obj ? [obj] : []) {
    for (const a of o.value) {
      for (const m of a.group ?? [a]) if (m.address) out.push(m.address.toLowerCase());
    }
  }
  return out;
}

function recipientSignals(parsed: ParsedMail, userAddresses: readonly string[] | undefined): SpamSignal[] {
  if (!userAddresses?.length) return [];
  const mine = new Set(userAddresses.map((a) => a.toLowerCase()));
  const to = addressesIn(parsed.to);
  const cc = addressesIn(parsed.cc);
  if (to.some((a) => mine.has(a))) {
    const alone = to.length + cc.length === 1;
    return alone ? [{ id: 'IMPORTANCE_DIRECT_TO' }, { id: 'IMPORTANCE_SOLE_RECIPIENT' }] : [{ id: 'IMPORTANCE_DIRECT_TO' }];
  }
  return cc.some((a) => mine.has(a)) ? [{ id: 'IMPORTANCE_CC' }] : [];
}

/** mailparser folds Priority, X-Priority, X-MSMail-Priority and Importance into one "priority" header. */
function isUrgent(parsed: ParsedMail): boolean {
  return headerText(parsed, 'priority') === 'high';
}
