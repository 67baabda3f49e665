/**
 * The learning filter's storage: per-user token counts (spam_tokens) and how many messages the user
 * sorted each way (spam_stats). Plain functions over knex; `db` may be a transaction, so a caller that
 * also flips messages.spam_trained can do both atomically (knex nests with a savepoint).
 */
import type { Knex } from 'knex';
import { type SpamStats, type TokenCounts, isTrained } from './bayes.js';

export type TrainedAs = 'spam' | 'ham';

/** ≤ 500 tokens per statement: well under SQLite's bound-variable limit and a cheap query plan. */
const CHUNK = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

interface CountRow {
  token: string | null;
  spam: number;
  ham: number;
}

// Raw SQL on the hot path: the query builder costs about a quarter more CPU per message (measured with
// bench/spam/eval.ts) and these statements never change shape.
const TOKENS_SQL = (n: number) => `SELECT token, spam, ham FROM spam_tokens WHERE user_id = ? AND token IN (${placeholders(n)})`;
const TOTALS_SQL = 'SELECT NULL AS token, spam_messages AS spam, ham_messages AS ham FROM spam_stats WHERE user_id = ?';

function placeholders(n: number): string {
  return new Array<string>(n).fill('?').join(',');
}

async function rows(db: Knex, sql: string, bindings: readonly (string | number)[]): Promise<CountRow[]> {
  return (await db.raw(sql, bindings as (string | number)[])) as CountRow[];
}

export async function loadSpamStats(db: Knex, userId: number): Promise<SpamStats> {
  const [row] = await rows(db, TOTALS_SQL, [userId]);
  return { spamMessages: row?.spam ?? 0, hamMessages: row?.ham ?? 0 };
}

/** Counts of the given tokens; tokens never trained are absent from the map. One query per 500 tokens. */
export async function loadTokenCounts(db: Knex, userId: number, tokens: readonly string[]): Promise<Map<string, TokenCounts>> {
  const counts = new Map<string, TokenCounts>();
  for (const part of chunks([...new Set(tokens)], CHUNK)) {
    for (const r of await rows(db, TOKENS_SQL(part.length), [userId, ...part])) counts.set(r.token!, { spam: r.spam, ham: r.ham });
  }
  return counts;
}

/**
 * What scoring needs, in one round trip for messages of ≤ 500 tokens: the first chunk's counts and the
 * user's totals come back together (UNION ALL, totals marked by a NULL token). Further chunks are read
 * only when the filter is trained, so an untrained user costs exactly one query per message.
 */
export async function loadBayesInput(
  db: Knex,
  userId: number,
  tokens: readonly string[],
): Promise<{ stats: SpamStats; counts: Map<string, TokenCounts> }> {
  const [first = [], ...rest] = chunks([...new Set(tokens)], CHUNK);
  const sql = first.length ? `${TOKENS_SQL(first.length)} UNION ALL ${TOTALS_SQL}` : TOTALS_SQL;
  const counts = new Map<string, TokenCounts>();
  let stats: SpamStats = { spamMessages: 0, hamMessages: 0 };
  for (const r of await rows(db, sql, first.length ? [userId, ...first, userId] : [userId])) {
    if (r.token === null) stats = { spamMessages: r.spam, hamMessages: r.ham };
    else counts.set(r.token, { spam: r.spam, ham: r.ham });
  }
  if (isTrained(stats)) {
    for (const part of rest) {
      for (const r of await rows(db, TOKENS_SQL(part.length), [userId, ...part])) counts.set(r.token!, { spam: r.spam, ham: r.ham });
    }
  }
  return { stats, counts };
}

/**
 * Teach the filter that a message (its tokens) is spam or not. `previously` is what this message was
 * last taught as (messages.spam_trained): the same class again is a no-op, so a message never counts
 * twice; the other class is undone first, so a user flipping SPAM → not-SPAM moves the counts rather
 * than adding to both. Returns whether anything changed.
 */
export async function trainSpam(
  db: Knex,
  userId: number,
  tokens: readonly string[],
  isSpam: boolean,
  previously: TrainedAs | null,
): Promise<boolean> {
  const target: TrainedAs = isSpam ? 'spam' : 'ham';
  if (previously === target) return false;
  const unique = [...new Set(tokens)];
  await db.transaction(async (trx) => {
    if (previously) await untrainTokens(trx, userId, unique, previously);
    await trainTokens(trx, userId, unique, target);
    await addToStats(trx, userId, target, previously);
  });
  return true;
}

async function untrainTokens(trx: Knex.Transaction, userId: number, tokens: string[], from: TrainedAs): Promise<void> {
  for (const part of chunks(tokens, CHUNK)) {
    // MAX(…, 0): counts may have been taught by an older tokenizer; never go negative
    await trx.raw(`UPDATE spam_tokens SET ${from} = MAX(${from} - 1, 0) WHERE user_id = ? AND token IN (${placeholders(part.length)})`, [
      userId,
      ...part,
    ]);
  }
}

async function trainTokens(trx: Knex.Transaction, userId: number, tokens: string[], to: TrainedAs): Promise<void> {
  const [spam, ham] = to === 'spam' ? [1, 0] : [0, 1];
  for (const part of chunks(tokens, CHUNK)) {
    await trx.raw(
      `INSERT INTO spam_tokens (user_id, token, spam, ham) VALUES ${part.map(() => `(?, ?, ${spam}, ${ham})`).join(',')}
       ON CONFLICT (user_id, token) DO UPDATE SET ${to} = ${to} + 1`,
      part.flatMap((token) => [userId, token]),
    );
  }
}

async function addToStats(trx: Knex.Transaction, userId: number, to: TrainedAs, from: TrainedAs | null): Promise<void> {
  const delta = { spam: 0, ham: 0 };
  delta[to] += 1;
  if (from) delta[from] -= 1;
  await trx.raw(
    `INSERT INTO spam_stats (user_id, spam_messages, ham_messages) VALUES (?, ?, ?)
     ON CONFLICT (user_id) DO UPDATE SET spam_messages = MAX(spam_messages + ?, 0), ham_messages = MAX(ham_messages + ?, 0)`,
    [userId, Math.max(delta.spam, 0), Math.max(delta.ham, 0), delta.spam, delta.ham],
  );
}
