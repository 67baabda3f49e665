/**
 * Turns signals into a Privacy Index with the weights table: per-axis sums, total, letter, colour
 * and the list of reasons (SPEC §7). Also the discussion PI: a chain is as strong as its weakest link.
 */
import type { PiAxis, PiReason, PiReport, Signal } from '../mail/types.js';
import { weightOf } from './weights.js';

export type PiLetter = PiReport['letter'];
export type PiColour = PiReport['colour'];

const clamp = (n: number): number => Math.min(100, Math.max(0, Math.round(n)));

/** SPEC §7: A 81–100, B 61–80, C 41–60, D 21–40, E 0–20. */
export function piLetter(score: number): PiLetter {
  const s = clamp(score);
  if (s > 80) return 'A';
  if (s > 60) return 'B';
  if (s > 40) return 'C';
  if (s > 20) return 'D';
  return 'E';
}

/** SPEC §7: red < 25, pink < 50, amber < 75, green ≥ 75. */
export function piColour(score: number): PiColour {
  const s = clamp(score);
  if (s < 25) return 'red';
  if (s < 50) return 'pink';
  if (s < 75) return 'amber';
  return 'green';
}

/**
 * Unknown ids are ignored (an old stored signal must not break a page); a repeated id counts once,
 * its details joined, so an analyzer cannot inflate the score by repeating itself.
 */
export function computePi(signals: readonly Signal[]): PiReport {
  const byId = new Map<string, PiReason>();
  for (const s of signals) {
    const w = weightOf(s.id);
    if (!w) continue;
    const seen = byId.get(s.id);
    if (seen) {
      if (s.detail && seen.detail !== s.detail) seen.detail = seen.detail ? `${seen.detail}; ${s.detail}` : s.detail;
      continue;
    }
    byId.set(s.id, { signal: s.id, axis: w.axis, points: w.points, ...(s.detail ? { detail: s.detail } : {}) });
  }
  const reasons = [...byId.values()];
  const raw: Record<PiAxis, number> = { travel: 0, sender: 0, content: 0 };
  for (const r of reasons) raw[r.axis] += r.points;
  const score = clamp(raw.travel + raw.sender + raw.content);
  return {
    score,
    letter: piLetter(score),
    colour: piColour(score),
    axes: { travel: clamp(raw.travel), sender: clamp(raw.sender), content: clamp(raw.content) },
    reasons,
  };
}

/** The help text of a reason, for the badge tooltip and the help page. */
export function explainReason(signalId: string, lang: 'en' | 'fr'): string {
  const w = weightOf(signalId);
  if (w) return w.help[lang];
  return lang === 'fr' ? `Signal inconnu : ${signalId}` : `Unknown signal: ${signalId}`;
}

export interface DiscussionPi {
  score: number;
  letter: PiLetter;
  colour: PiColour;
  trend: 'up' | 'down' | 'flat';
  /** how many recent messages were considered */
  messages: number;
}

/** A trend needs a move of at least this many points to be worth an arrow. */
const TREND_THRESHOLD = 5;

/**
 * The lowest PI of the last `window` messages, and where it is heading: the mean of the newer half
 * against the mean of the older half. Null for a discussion with no scored message.
 */
export function discussionPi(
  messagePis: ReadonlyArray<{ score: number; at: Date | string | number }>,
  window = 10,
): DiscussionPi | null {
  const recent = [...messagePis]
    .map((m) => ({ score: clamp(m.score), at: timeOf(m.at) }))
    .sort((a, b) => a.at - b.at)
    .slice(-Math.max(1, window));
  if (recent.length === 0) return null;
  const score = Math.min(...recent.map((m) => m.score));
  const trend = trendOf(recent.map((m) => m.score));
  return { score, letter: piLetter(score), colour: piColour(score), trend, messages: recent.length };
}

function trendOf(scores: number[]): DiscussionPi['trend'] {
  if (scores.length < 2) return 'flat';
  const half = Math.floor(scores.length / 2);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const delta = mean(scores.slice(scores.length - half)) - mean(scores.slice(0, scores.length - half));
  if (delta >= TREND_THRESHOLD) return 'up';
  if (delta <= -TREND_THRESHOLD) return 'down';
  return 'flat';
}

function timeOf(at: Date | string | number): number {
  const t = at instanceof Date ? at.getTime() : typeof at === 'number' ? at : Date.parse(at);
  return Number.isFinite(t) ? t : 0;
}
