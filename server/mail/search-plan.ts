/**
 * How a search runs in bounded time, since SQLite's own planner has no statistics to go on.
 *
 * Every top-level term an index can list (words through FTS5, a sender, a recipient, a tag, a date
 * range) is sized with a bounded, index-only count. Then:
 * - few candidates (the smallest list is short): read them all, sort by date;
 * - otherwise the page comes from walking the date index from the newest message, over windows
 *   grown from the density seen so far, and the capped count from the smallest list's newest ids;
 * - no list at all (flags, OR of mixed terms): both come from date windows.
 * Inside a window or an id range, every id set is bounded to that range, so FTS5 and the other
 * indexes read only that part of their lists. The work is bounded by the page, the cap and the
 * rarest term, not by the size of the mailbox; what cannot be bounded (a flag alone over a huge
 * mailbox) degrades to one pass over the date index.
 */
import { toFtsExpression, type SearchNode, type SearchQuery } from './search-query.js';
import {
  condition, conjuncts, dateBounds, joinSql, membership, resolveContext, topLevelSet, type Ctx, type DbLike, type Sql,
} from './search-sql.js';

/** The planner's work bounds; tests shrink them to take every path on a small mailbox. */
export const searchTuning = {
  /**
   * Counting costs a row read per hit (spam, flags and the user live in the row), ~1-5 µs each:
   * past this many the total is reported as "at least" (totalCapped) rather than paid for.
   */
  totalCap: 1000,
  /** Sets are sized up to this many ids (an index-only count): enough to pick the smallest. */
  probeMax: 10_000,
  /** Word lists cost more to count (FTS5 decodes position lists for a column filter). */
  textProbeMax: 5000,
  /** Candidates up to this many are all read and sorted; more, and the page is found by date. */
  driverMax: 1000,
  /** Messages in the first date window (or driver ids in the first counting range). */
  firstWindow: 2000,
};

export interface MessageRow {
  id: number; discussion_id: number; subject: string | null; from_address: string | null; from_name: string | null;
  date: number; excerpt: string | null; pi_score: number | null; pi_letter: string | null; is_read: number;
  attachment_count: number; importance: number; n?: number;
}

const HIT_COLUMNS = ['m.id', 'm.discussion_id', 'm.subject', 'm.from_address', 'm.from_name', 'm.date', 'm.excerpt',
  'm.pi_score', 'm.pi_letter', 'm.is_read', 'm.attachment_count', 'm.importance'];

interface Scope {
  ctx: Ctx;
  conj: SearchNode[];
  /** top-level terms answered together as candidate ids, smallest first; empty: walk the date index */
  sets: number[];
  hideSpam: boolean;
  window?: { from?: number; to?: number };
}

/** Ids in every set of the scope: the first (smallest) one is read, the others are probed. */
function candidates(s: Scope): Sql {
  const [first, ...rest] = s.sets.map((i) => s.conj[i]!);
  const from = topLevelSet(first!, s.ctx)!;
  // "+c.id IN": SQLite must not turn a probed set into a loop of FTS5 lookups by rowid (~0.2 ms each).
  const filters = rest.map((c): Sql => {
    if (c.kind !== 'date') return membership(c, s.ctx, 'c.id')!;
    const range = topLevelSet(c, s.ctx)!;
    return { sql: `+c.id IN (${range.sql})`, bindings: range.bindings };
  });
  const where = joinSql(filters, 'AND');
  const sql = `SELECT c.id FROM (${from.sql}) AS c` + (filters.length ? ' WHERE ' + where.sql : '');
  return { sql, bindings: [...from.bindings, ...(filters.length ? where.bindings : [])] };
}

function whereOf(s: Scope): Sql {
  const parts: Sql[] = [];
  if (s.sets.length > 0) {
    // "+": the candidate ids drive, not an index of messages on user_id.
    parts.push({ sql: '+m.user_id = ?', bindings: [s.ctx.userId] });
    const c = candidates(s);
    parts.push({ sql: `m.id IN (${c.sql})`, bindings: c.bindings });
  } else {
    parts.push({ sql: 'm.user_id = ?', bindings: [s.ctx.userId] });
    if (s.window?.from !== undefined) parts.push({ sql: 'm.date >= ?', bindings: [s.window.from] });
    if (s.window?.to !== undefined) parts.push({ sql: 'm.date < ?', bindings: [s.window.to] });
  }
  s.conj.forEach((c, i) => {
    if (!s.sets.includes(i)) parts.push(condition(c, s.ctx));
  });
  if (s.hideSpam) parts.push({ sql: 'm.is_spam = 0', bindings: [] });
  return joinSql(parts, 'AND');
}

async function pageRows(db: DbLike, s: Scope, limit: number, offset: number, withTotal: boolean): Promise<MessageRow[]> {
  const w = whereOf(s);
  const q = db('messages as m').select(HIT_COLUMNS).whereRaw(w.sql, w.bindings)
    .orderBy([{ column: 'm.date', order: 'desc' }, { column: 'm.id', order: 'desc' }]).limit(limit).offset(offset);
  if (withTotal) q.select(db.raw('count(*) OVER () AS n')); // every candidate is read and sorted anyway
  return q;
}

async function countRows(db: DbLike, s: Scope): Promise<number> {
  const w = whereOf(s);
  const inner = db('messages as m').select(db.raw('1')).whereRaw(w.sql, w.bindings).limit(searchTuning.totalCap + 1);
  const row = (await db.from(inner.as('hits')).count({ n: '*' }).first()) as { n: number } | undefined;
  return Number(row?.n ?? 0);
}

interface SetSize { index: number; n: number; lo: number; hi: number; complete: boolean }

/** How many ids a set lists (up to `max`) and their range, from its index alone. */
async function probe(db: DbLike, set: Sql, index: number, max: number): Promise<SetSize> {
  const sql = `SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM (${set.sql} LIMIT ?)`;
  const rows = (await db.raw(sql, [...set.bindings, max])) as Array<{ n: number; lo: number | null; hi: number | null }>;
  const r = rows[0];
  const n = Number(r?.n ?? 0);
  return { index, n, lo: Number(r?.lo ?? 0), hi: Number(r?.hi ?? 0), complete: n < max };
}

/**
 * Sizes the top-level terms that have an id set, smallest first. Index lists first: they are cheap
 * to count, and a word list then only needs counting as far as the smallest size seen so far.
 */
async function sizeSets(db: DbLike, conj: SearchNode[], ctx: Ctx): Promise<SetSize[]> {
  const order = conj.map((c, i) => ({ c, i, words: toFtsExpression(c) !== null })).sort((a, b) => Number(a.words) - Number(b.words));
  const sizes: SetSize[] = [];
  let best = searchTuning.probeMax;
  for (const { c, i, words } of order) {
    const set = topLevelSet(c, ctx);
    if (!set) continue;
    const z = await probe(db, set, i, words ? Math.min(best, searchTuning.textProbeMax) : best);
    sizes.push(z);
    best = Math.min(best, Math.max(z.n, 1));
    if (z.n === 0) break; // nothing can match
  }
  return sizes.sort((a, b) => a.n - b.n || Number(b.complete) - Number(a.complete));
}

/** The date range every hit lies in, from the top-level date: terms. */
function windowBase(s: Scope): { from?: number; to?: number } {
  let from: number | undefined;
  let to: number | undefined;
  for (const c of s.conj) {
    if (c.kind !== 'date') continue;
    const b = dateBounds(c, s.ctx.timeZone);
    if (b.from !== undefined) from = Math.max(from ?? b.from, b.from);
    if (b.to !== undefined) to = Math.min(to ?? b.to, b.to);
  }
  return { from, to };
}

export interface Hits { rows: MessageRow[]; total: number }

interface Window { from?: number; to?: number; minId: number; full: boolean; size: number }

/**
 * The newest `size` messages of the range (more on a tie), as "date >= t", and minId, the smallest
 * id among all of them: it bounds every message the window holds, whatever order ids came in.
 */
async function windowAt(db: DbLike, s: Scope, size: number, base: { from?: number; to?: number }): Promise<Window> {
  const q = db('messages').where('user_id', s.ctx.userId);
  if (base.from !== undefined) q.where('date', '>=', base.from);
  if (base.to !== undefined) q.where('date', '<', base.to);
  const edge = (await q.clone().orderBy('date', 'desc').offset(size - 1).limit(1).first('date')) as { date: number } | undefined;
  if (!edge) return { ...base, minId: 0, full: true, size };
  const from = Number(edge.date);
  const row = (await q.clone().where('date', '>=', from).min({ id: 'id' }).first()) as { id: number | null } | undefined;
  return { from, to: base.to, minId: Number(row?.id ?? 0), full: false, size };
}

/** The next window: sized from the density seen so far to hold what is still missing. */
function nextSize(win: Window, hits: number, need: number): number {
  return Math.max(Math.ceil((win.size * need * 1.5) / Math.max(hits, 1)), win.size * 2);
}

/**
 * Common matches: newest windows first, grown until the page is full and, unless the count is
 * known otherwise (countKnown), until the capped count is.
 */
async function walkDates(db: DbLike, s: Scope, limit: number, offset: number, countKnown: boolean): Promise<Hits> {
  const base = windowBase(s);
  let rows: MessageRow[] | null = null;
  for (let size = Math.max(searchTuning.firstWindow, 2 * (offset + limit)); ;) {
    const win = await windowAt(db, s, size, base);
    const ws: Scope = { ...s, ctx: { ...s.ctx, minId: win.minId }, window: win };
    if (rows === null) {
      const r = await pageRows(db, ws, limit, offset, false);
      if (r.length === limit || win.full) rows = r;
      if (rows !== null && (countKnown || (win.full && offset === 0 && r.length < limit))) return { rows, total: r.length };
    }
    const hits = await countRows(db, ws);
    if (rows !== null && (hits > searchTuning.totalCap || win.full)) return { rows, total: hits };
    size = nextSize(win, hits, rows === null ? offset + limit : searchTuning.totalCap + 1);
  }
}

/**
 * Counts candidates up to the cap over the driver's newest ids first: the other sets are then read
 * only over that id range, which for a common pair of terms is a small part of their lists.
 */
async function countCandidates(db: DbLike, cs: Scope): Promise<number> {
  const driver = topLevelSet(cs.conj[cs.sets[0]!]!, cs.ctx)!;
  for (let k = searchTuning.firstWindow; ;) {
    const sql = `SELECT id FROM (${driver.sql}) ORDER BY id DESC LIMIT 1 OFFSET ?`;
    const edge = (await db.raw(sql, [...driver.bindings, k - 1])) as Array<{ id: number }>;
    if (edge.length === 0) return countRows(db, cs); // the whole list is smaller than this range
    const n = await countRows(db, { ...cs, ctx: { ...cs.ctx, minId: Math.max(cs.ctx.minId, Number(edge[0]!.id)) } });
    if (n > searchTuning.totalCap) return n;
    k = Math.max(Math.ceil((k * (searchTuning.totalCap + 1) * 1.5) / Math.max(n, 1)), k * 2);
  }
}

export interface FindOptions {
  includeSpam?: boolean;
  timeZone?: string;
}

/**
 * Few candidates: read and sort them all. More: the page comes from the newest windows and the
 * count from the candidates (bounded by the cap). Only common lists, or none: both from windows.
 */
export async function findHits(
  db: DbLike, userId: number, query: SearchQuery, opts: FindOptions, limit: number, offset: number,
): Promise<Hits> {
  const ctx = await resolveContext(db, userId, query.root, opts.timeZone ?? 'UTC');
  const conj = conjuncts(query.root);
  const s: Scope = { ctx, conj, sets: [], hideSpam: !opts.includeSpam && !query.includesSpam };
  const sizes = await sizeSets(db, conj, ctx);
  if (sizes.length === 0) return walkDates(db, s, limit, offset, false);
  const driver = sizes[0]!;
  if (!driver.complete) return walkDates(db, s, limit, offset, false);
  // Every candidate lies in the smallest set's id range: the other sets need not be read outside it.
  const cs: Scope = { ...s, sets: sizes.map((z) => z.index), ctx: { ...ctx, minId: driver.lo, maxId: driver.hi } };
  if (driver.n <= searchTuning.driverMax) {
    const rows = await pageRows(db, cs, limit, offset, true);
    return { rows, total: rows.length > 0 ? Number(rows[0]!.n) : offset > 0 ? await countRows(db, cs) : 0 };
  }
  const { rows } = await walkDates(db, s, limit, offset, true);
  return { rows, total: await countCandidates(db, cs) };
}

