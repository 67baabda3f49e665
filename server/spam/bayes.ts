/**
 * The per-user learning filter's arithmetic: Robinson's token probabilities combined with Fisher's
 * chi-square method (as in SpamBayes). Pure functions over counts: the database lives in repo.ts.
 *
 * Chi-square combining was chosen over Graham's product because it says "unsure" (near 0.5) when a
 * message holds strong evidence both ways, instead of jumping to 0 or 1, which suits a filter that
 * learns from a single user's few dozen decisions.
 */

export interface TokenCounts {
  spam: number;
  ham: number;
}

export interface SpamStats {
  spamMessages: number;
  hamMessages: number;
}

export interface BayesClue {
  token: string;
  probability: number;
}

export interface BayesResult {
  /** 0..1; 0.5 when not ready or without evidence */
  probability: number;
  /** false until the user has sorted enough messages of each kind */
  ready: boolean;
  /** tokens that counted, most decisive first (at most 5, for explanations) */
  clues: BayesClue[];
  /** how many tokens took part */
  used: number;
}

export interface BayesOptions {
  minSpam: number;
  minHam: number;
  strength: number;
  assumed: number;
  minDeviation: number;
  maxClues: number;
}

export const BAYES: BayesOptions = {
  /** below these many trained messages of each class the filter stays neutral */
  minSpam: 5,
  minHam: 5,
  /** Robinson's s and x: how much an unknown or rarely seen token is pulled towards x (SpamBayes defaults) */
  strength: 0.45,
  assumed: 0.5,
  /** tokens closer than this to 0.5 say nothing and are ignored */
  minDeviation: 0.1,
  /** the most decisive tokens that are combined; bounds the work and stops long mails from shouting */
  maxClues: 150,
};

export function isTrained(stats: SpamStats, o: BayesOptions = BAYES): boolean {
  return stats.spamMessages >= o.minSpam && stats.hamMessages >= o.minHam;
}

/** Robinson's f(w): the token's spam probability, pulled towards `assumed` when it was seen rarely. */
export function tokenProbability(c: TokenCounts, stats: SpamStats, o: BayesOptions = BAYES): number {
  // ratios, not raw counts, so that training many more ham than spam does not bias every token;
  // capped at 1 because a retrained count may briefly exceed the class total
  const spamRatio = stats.spamMessages > 0 ? Math.min(1, c.spam / stats.spamMessages) : 0;
  const hamRatio = stats.hamMessages > 0 ? Math.min(1, c.ham / stats.hamMessages) : 0;
  const n = c.spam + c.ham;
  if (spamRatio + hamRatio === 0) return o.assumed;
  const p = spamRatio / (spamRatio + hamRatio);
  return (o.strength * o.assumed + n * p) / (o.strength + n);
}

/** Upper tail of the chi-square distribution for an even number of degrees of freedom. */
export function chi2Q(x2: number, dof: number): number {
  const m = x2 / 2;
  let term = Math.exp(-m);
  let sum = term;
  for (let i = 1; i < dof / 2; i++) {
    term *= m / i;
    sum += term;
  }
  return Math.min(sum, 1);
}

/** The spam probability of a message from the counts of its tokens (tokens absent from `counts` are unknown). */
export function classify(counts: ReadonlyMap<string, TokenCounts>, stats: SpamStats, o: BayesOptions = BAYES): BayesResult {
  if (!isTrained(stats, o)) return { probability: 0.5, ready: false, clues: [], used: 0 };
  const clues: BayesClue[] = [];
  for (const [token, c] of counts) {
    const p = tokenProbability(c, stats, o);
    if (Math.abs(p - 0.5) >= o.minDeviation) clues.push({ token, probability: p });
  }
  clues.sort((a, b) => Math.abs(b.probability - 0.5) - Math.abs(a.probability - 0.5));
  const used = clues.slice(0, o.maxClues);
  if (used.length === 0) return { probability: 0.5, ready: true, clues: [], used: 0 };
  let sumLnP = 0;
  let sumLnNotP = 0;
  for (const { probability } of used) {
    const p = Math.min(Math.max(probability, 1e-6), 1 - 1e-6);
    sumLnP += Math.log(p);
    sumLnNotP += Math.log(1 - p);
  }
  // S near 1 when many tokens are spammy, H near 1 when many are hammy; (S - H + 1) / 2 maps to 0..1
  const s = 1 - chi2Q(-2 * sumLnNotP, 2 * used.length);
  const h = 1 - chi2Q(-2 * sumLnP, 2 * used.length);
  return { probability: (s - h + 1) / 2, ready: true, clues: used.slice(0, 5), used: used.length };
}
