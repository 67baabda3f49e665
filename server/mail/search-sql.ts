/**
 * Turns a parsed search (search-query.ts) into SQL fragments over `messages as m`, with bound
 * parameters only. Conditions an index can list (words through FTS5, senders, recipients, tags)
 * become id sets; search-plan.ts decides which one, if any, drives the query, and may bound every set
 * to an id range (minId..maxId) when it only asks about messages inside it. Not in charge of
 * planning, paging or counting.
 */
import type { Knex } from 'knex';
import type { SearchNode } from './search-query.js';
import { foldText, ftsString, toFtsExpression } from './search-query.js';

export type DbLike = Knex | Knex.Transaction;

export interface Sql {
  sql: string;
  bindings: Array<string | number>;
}

export interface Ctx {
  userId: number;
  timeZone: string;
  /** folded tag name → the user's tag ids */
  tagIds: Map<string, number[]>;
  /** "from:<fragment>" / "to:<fragment>" → the addresses it designates */
  addresses: Map<string, string[]>;
  /** id sets may skip ids outside [minId, maxId]: the caller only asks about messages inside */
  minId: number;
  maxId: number;
}

const EXACT_ADDRESS = /^[^\s@]+@[^\s@]+$/;
const MAX_ADDRESSES = 500;
const EMPTY_SET: Sql = { sql: 'SELECT 0 AS id WHERE 0', bindings: [] };

export function inList(values: unknown[]): string {
  return '(' + values.map(() => '?').join(', ') + ')';
}

export function joinSql(parts: Sql[], op: 'AND' | 'OR'): Sql {
  if (parts.length === 1) return parts[0]!;
  return { sql: '(' + parts.map((p) => p.sql).join(` ${op} `) + ')', bindings: parts.flatMap((p) => p.bindings) };
}

/** Offset of a zone from UTC at an instant, in ms, from Intl (no time zone database of our own). */
function zoneOffset(at: number, timeZone: string): number {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  } catch {
    return 0; // an unknown zone (a hand-edited setting) means UTC rather than every dated search failing
  }
  const parts = format.formatToParts(new Date(at));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** Epoch ms of the midnight starting a calendar day (YYYY-MM-DD) in a zone. */
export function startOfDay(day: string, timeZone = 'UTC'): number {
  const guess = Date.parse(day + 'T00:00:00Z');
  const first = guess - zoneOffset(guess, timeZone);
  return guess - zoneOffset(first, timeZone); // second pass settles days a DST change falls in
}

/** [from, to) in epoch ms of a date node; open ends are undefined. */
export function dateBounds(node: Extract<SearchNode, { kind: 'date' }>, timeZone: string): { from?: number; to?: number } {
  return {
    from: node.after ? startOfDay(node.after, timeZone) : undefined,
    to: node.before ? startOfDay(node.before, timeZone) : undefined,
  };
}

function leaves(node: SearchNode): SearchNode[] {
  if (node.kind === 'and' || node.kind === 'or') return node.children.flatMap(leaves);
  return node.kind === 'not' ? leaves(node.child) : [node];
}

/** Tag names compare case- and accent-insensitively, which SQLite's lower() cannot do beyond ASCII. */
async function resolveTags(db: DbLike, userId: number, names: string[]): Promise<Map<string, number[]>> {
  const wanted = new Set(names.map(foldText));
  const out = new Map<string, number[]>();
  if (wanted.size === 0) return out;
  const rows: Array<{ id: number; name: string }> = await db('tags').where('user_id', userId).select('id', 'name');
  for (const r of rows) {
    const key = foldText(r.name);
    if (wanted.has(key)) out.set(key, [...(out.get(key) ?? []), r.id]);
  }
  return out;
}

/** Narrowing a fragment through FTS reads participants of this many messages at most; past it, it is common. */
const NARROW_MAX = 2000;

export async function countUpTo(db: DbLike, sql: string, bindings: Array<string | number>, max: number): Promise<number> {
  const rows = (await db.raw(`SELECT count(*) AS n FROM (${sql} LIMIT ?)`, [...bindings, max])) as Array<{ n: number }>;
  return Number(rows[0]?.n ?? 0);
}

/**
 * Every address the user has in the role, with its latest name: DISTINCT on the address index is a
 * skip-scan (~1 ms for 100,000 messages), then one index seek per address for the name.
 */
async function allAddresses(db: DbLike, userId: number, kind: 'from' | 'to'): Promise<Array<{ address: string; name: string | null }>> {
  const [table, col, name] = kind === 'from' ? ['messages', 'from_address', 'from_name'] : ['participants', 'address', 'name'];
  const latestName = `SELECT x.${name} FROM ${table} x WHERE x.user_id = ? AND x.${col} = d.a ORDER BY x.id DESC LIMIT 1`;
  const addresses = `SELECT DISTINCT ${col} AS a FROM ${table} WHERE user_id = ? AND ${col} IS NOT NULL`;
  const sql = `SELECT d.a AS address, (${latestName}) AS name FROM (${addresses}) AS d`;
  return (await db.raw(sql, [userId, userId])) as Array<{ address: string; name: string | null }>;
}

/**
 * The addresses a fragment ("ivan", "flomke.test", "helene") designates, folded like the FTS tokenizer
 * so that "helene" finds "Hélène" (SQLite's LIKE folds neither accents nor non-ASCII case). A rare
 * fragment is narrowed through the FTS participants column (words starting with it); a common one
 * is looked for among all the user's addresses.
 */
async function addressesFor(db: DbLike, userId: number, kind: 'from' | 'to', value: string): Promise<string[]> {
  let rows: Array<{ address: string; name: string | null }> | null = null;
  const match = `{participants} : ${ftsString(value)} *`;
  const narrow = /[\p{L}\p{N}]/u.test(value)
    && (await countUpTo(db, 'SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?', [match], NARROW_MAX + 1)) <= NARROW_MAX;
  if (narrow) {
    rows = await db('participants as p').distinct('p.address', 'p.name')
      .where('p.user_id', userId).whereIn('p.role', kind === 'from' ? ['from'] : ['to', 'cc'])
      .whereRaw('p.message_id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)', [match]);
  }
  rows ??= await allAddresses(db, userId, kind);
  const needle = foldText(value);
  const hits = rows.filter((r) => foldText(r.address).includes(needle) || foldText(r.name ?? '').includes(needle));
  return [...new Set(hits.map((r) => r.address))].slice(0, MAX_ADDRESSES);
}

/** Looks up, before compiling, what the query names indirectly: tags and address fragments. */
export async function resolveContext(db: DbLike, userId: number, root: SearchNode, timeZone: string): Promise<Ctx> {
  const all = leaves(root);
  const tagIds = await resolveTags(db, userId, all.flatMap((n) => (n.kind === 'tag' ? [n.name] : [])));
  const addresses = new Map<string, string[]>();
  for (const n of all) {
    const key = `${n.kind}:${n.kind === 'from' || n.kind === 'to' ? n.value : ''}`;
    if ((n.kind === 'from' || n.kind === 'to') && !EXACT_ADDRESS.test(n.value) && !addresses.has(key)) {
      addresses.set(key, await addressesFor(db, userId, n.kind, n.value));
    }
  }
  return { userId, timeZone, tagIds, addresses, minId: 0, maxId: Number.MAX_SAFE_INTEGER };
}

function addressesOf(node: Extract<SearchNode, { kind: 'from' | 'to' }>, ctx: Ctx): string[] {
  return EXACT_ADDRESS.test(node.value) ? [node.value] : ctx.addresses.get(`${node.kind}:${node.value}`) ?? [];
}

/**
 * The ids a condition designates when an index can list them, as a SELECT of one column `id`,
 * restricted to [ctx.minId, ctx.maxId] so that an index reads only that part of its list.
 */
export function idSet(node: SearchNode, ctx: Ctx): Sql | null {
  const range = [ctx.minId, ctx.maxId];
  const fts = toFtsExpression(node);
  if (fts !== null) {
    return { sql: 'SELECT rowid AS id FROM messages_fts WHERE messages_fts MATCH ? AND rowid BETWEEN ? AND ?', bindings: [fts, ...range] };
  }
  switch (node.kind) {
    case 'from': {
      const addrs = addressesOf(node, ctx);
      if (addrs.length === 0) return EMPTY_SET;
      const sql = `SELECT id FROM messages WHERE user_id = ? AND from_address IN ${inList(addrs)} AND id BETWEEN ? AND ?`;
      return { sql, bindings: [ctx.userId, ...addrs, ...range] };
    }
    case 'to': {
      const addrs = addressesOf(node, ctx);
      if (addrs.length === 0) return EMPTY_SET;
      const sql = `SELECT message_id AS id FROM participants WHERE user_id = ? AND address IN ${inList(addrs)}`
        + " AND role IN ('to', 'cc') AND message_id BETWEEN ? AND ?";
      return { sql, bindings: [ctx.userId, ...addrs, ...range] };
    }
    case 'tag': {
      const ids = ctx.tagIds.get(foldText(node.name)) ?? [];
      if (ids.length === 0) return EMPTY_SET;
      const sql = `SELECT message_id AS id FROM message_tags WHERE tag_id IN ${inList(ids)} AND message_id BETWEEN ? AND ?`;
      return { sql, bindings: [...ids, ...range] };
    }
    default:
      return null;
  }
}

/**
 * "idExpr is in the node's set", or null when the node has no set. A recipient list is read through
 * the participants of each message (index on message_id): the (user_id, address) index does not
 * hold message ids, so listing a common recipient (the user's own address) reads every row.
 */
export function membership(node: SearchNode, ctx: Ctx, idExpr: string): Sql | null {
  if (node.kind === 'to') {
    const addrs = addressesOf(node, ctx);
    if (addrs.length === 0) return { sql: '0', bindings: [] };
    const sql = `EXISTS (SELECT 1 FROM participants p WHERE p.message_id = ${idExpr} AND p.address IN ${inList(addrs)}`
      + " AND p.role IN ('to', 'cc'))";
    return { sql, bindings: addrs };
  }
  const set = idSet(node, ctx);
  return set ? { sql: `+${idExpr} IN (${set.sql})`, bindings: set.bindings } : null;
}

/** idSet, plus a top-level date range, listed by the (user_id, date) index. */
export function topLevelSet(node: SearchNode, ctx: Ctx): Sql | null {
  if (node.kind !== 'date') return idSet(node, ctx);
  const { from, to } = dateBounds(node, ctx.timeZone);
  return {
    sql: 'SELECT id FROM messages WHERE user_id = ? AND date >= ? AND date < ? AND id BETWEEN ? AND ?',
    bindings: [ctx.userId, from ?? Number.MIN_SAFE_INTEGER, to ?? Number.MAX_SAFE_INTEGER, ctx.minId, ctx.maxId],
  };
}

const FLAG_SQL: Record<string, string> = {
  unread: 'm.is_read = 0',
  read: 'm.is_read = 1',
  encrypted: 'm.is_encrypted = 1',
  signed: 'm.is_signed = 1',
  spam: 'm.is_spam = 1',
  attachment: 'm.attachment_count > 0',
};

function isText(c: SearchNode, inAnd: boolean): boolean {
  return toFtsExpression(c) !== null || (inAnd && c.kind === 'not' && toFtsExpression(c.child) !== null);
}

/** Text children of an AND/OR become one FTS expression: one index walk instead of several. */
export function mergeText(node: Extract<SearchNode, { kind: 'and' | 'or' }>): SearchNode[] {
  const text = node.children.filter((c) => isText(c, node.kind === 'and'));
  // FTS5 NOT needs a positive left side: "-foo" beside non-text terms stays a separate condition.
  if (!text.some((c) => toFtsExpression(c) !== null)) return node.children;
  const merged: SearchNode = text.length === 1 ? text[0]! : { kind: node.kind, children: text };
  return [merged, ...node.children.filter((c) => !isText(c, node.kind === 'and'))];
}

/**
 * A WHERE fragment that uses no index of messages ("+" disables one for SQLite): search-plan.ts
 * chooses how the rows are reached, and this is how each of them is then checked.
 */
export function condition(node: SearchNode, ctx: Ctx): Sql {
  const member = membership(node, ctx, 'm.id');
  if (member) return member;
  switch (node.kind) {
    case 'and': case 'or':
      return joinSql(mergeText(node).map((c) => condition(c, ctx)), node.kind === 'and' ? 'AND' : 'OR');
    case 'not': {
      const inner = condition(node.child, ctx);
      return { sql: `NOT (${inner.sql})`, bindings: inner.bindings };
    }
    case 'flag':
      return { sql: FLAG_SQL[node.flag]!, bindings: [] };
    case 'range': {
      const col = node.field === 'pi' ? 'm.pi_score' : 'm.importance';
      const parts: Sql[] = [{ sql: `${col} IS NOT NULL`, bindings: [] }];
      if (node.min !== undefined) parts.push({ sql: `${col} >= ?`, bindings: [node.min] });
      if (node.max !== undefined) parts.push({ sql: `${col} <= ?`, bindings: [node.max] });
      return joinSql(parts, 'AND');
    }
    case 'date': {
      const { from, to } = dateBounds(node, ctx.timeZone);
      const parts: Sql[] = [];
      if (from !== undefined) parts.push({ sql: '+m.date >= ?', bindings: [from] });
      if (to !== undefined) parts.push({ sql: '+m.date < ?', bindings: [to] });
      return parts.length ? joinSql(parts, 'AND') : { sql: '1', bindings: [] };
    }
    default:
      return { sql: '0', bindings: [] }; // text, from, to and tags always have an id set
  }
}

/** The top-level AND terms, text merged: those with an id set can drive the query. */
export function conjuncts(root: SearchNode): SearchNode[] {
  return root.kind === 'and' ? mergeText(root) : [root];
}
