/**
 * When to try again. Temporary failures wait 5 min, 15 min, 1 h, 3 h, 6 h, 12 h, then every 24 h,
 * until the message is maxAge old (5 days by default): the last try happens at expiry, and a
 * failure then is final. A delay notice goes to the sender once, after delayNotice (4 h).
 */
const MINUTE = 60_000;
export const RETRY_DELAYS_MS = [5, 15, 60, 180, 360, 720, 1440].map((m) => m * MINUTE);

/** The time of the next attempt after `attempts` failed ones, or null when the message has expired. */
export function nextAttemptAt(attempts: number, now: number, expiresAt: number): number | null {
  if (now >= expiresAt) return null;
  const delay = RETRY_DELAYS_MS[Math.min(Math.max(attempts, 1), RETRY_DELAYS_MS.length) - 1]!;
  return Math.min(now + delay, expiresAt);
}

export function isDelayNoticeDue(createdAt: number, now: number, delayNoticeMs: number, alreadyNotified: boolean): boolean {
  return !alreadyNotified && now - createdAt >= delayNoticeMs;
}
