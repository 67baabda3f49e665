/** Validation shared by routes: ids in paths, flags and numbers in query strings. */
import { z } from 'zod';

export const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const idParams = z.object({ id });

/** "1"/"true" → true, "0"/"false" → false; anything else is a validation error. */
export const flag = z.enum(['1', '0', 'true', 'false']).transform((v) => v === '1' || v === 'true');

/** A query-string integer within bounds; absent stays undefined. */
export function queryInt(min: number, max: number) {
  return z.coerce.number().int().min(min).max(max).optional();
}
