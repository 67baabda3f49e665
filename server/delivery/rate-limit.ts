/**
 * Sending limits per user, against a compromised account used to spam: messages handed to the
 * box in the last hour and the last day, counted from outbound_messages (indexed by user, time).
 */
import type { Knex } from 'knex';
import { AppError } from '../errors.js';

const HOUR = 3_600_000;

export interface SendLimits {
  perHour: number;
  perDay: number;
}

export async function checkSendRate(db: Knex, userId: number, now: number, limits: SendLimits): Promise<void> {
  const row = (await db('outbound_messages')
    .where({ user_id: userId })
    .andWhere('created_at', '>', now - 24 * HOUR)
    .select(db.raw('COUNT(*) AS day'), db.raw('SUM(CASE WHEN created_at > ? THEN 1 ELSE 0 END) AS hour', [now - HOUR]))
    .first()) as { day: number; hour: number | null };
  if ((row.hour ?? 0) >= limits.perHour) {
    throw new AppError('rate_limited', `sending limit reached: ${limits.perHour} messages per hour; try again later`);
  }
  if (row.day >= limits.perDay) {
    throw new AppError('rate_limited', `sending limit reached: ${limits.perDay} messages per day; try again tomorrow`);
  }
}
