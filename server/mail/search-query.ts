/**
 * The search language (SPEC §3), close to notmuch/Gmail: bare words, "phrases", field operators,
 * -negation, AND/OR (any case) and NOT (capitals), AND binding tighter, juxtaposition meaning AND,
 * and parentheses.
 * Parsing is forgiving: a half-typed operator ("from:", a dangling "or", an unclosed quote or
 * parenthesis) is ignored or closed rather than rejected. Only values that cannot mean anything
 * (a bad date, "pi:abc", "is:bogus") or a query with nothing to search for raise 'invalid_search'.
 * This module knows no SQL; it also renders text-only subtrees as FTS5 expressions, quoting every
 * term so that user input can never become FTS5 syntax. Accents need no folding here: FTS5's
 * tokenizer (unicode61 remove_diacritics 2) folds the query terms as it folded the text.
 */
import { AppError } from '../errors.js';

export type FlagName = 'unread' | 'read' | 'encrypted' | 'signed' | 'spam' | 'attachment';

export type SearchNode =
  | { kind: 'and'; children: SearchNode[] }
  | { kind: 'or'; children: SearchNode[] }
  | { kind: 'not'; child: SearchNode }
  /** field 'any' = subject, body, participants and attachment names */
  | { kind: 'text'; field: 'any' | 'subject'; text: string; phrase: boolean }
  /** value is lower-cased; exact address match when it looks like local@domain */
  | { kind: 'from' | 'to'; value: string }
  | { kind: 'tag'; name: string }
  | { kind: 'flag'; flag: FlagName }
  /** inclusive bounds */
  | { kind: 'range'; field: 'pi' | 'importance'; min?: number; max?: number }
  /** calendar days (YYYY-MM-DD) in the user's time zone: after is inclusive, before exclusive */
  | { kind: 'date'; after?: string; before?: string };

export interface SearchQuery {
  root: SearchNode;
  /** the query asks for spam itself (is:spam, tag:spam), so spam must not be hidden */
  includesSpam: boolean;
}

type Token =
  | { t: 'lp' | 'rp' | 'and' | 'or' | 'not' }
  | { t: 'term'; neg: boolean; field: string | null; value: string; quoted: boolean };

const KEYWORDS = new Set(['and', 'or', 'not']);
const FIELDS = new Set(['from', 'to', 'cc', 'subject', 'tag', 'is', 'has', 'pi', 'importance', 'before', 'after', 'date']);
const FLAGS: Record<string, FlagName> = {
  unread: 'unread', read: 'read', seen: 'read', encrypted: 'encrypted', signed: 'signed', spam: 'spam',
};

function invalid(message: string): never {
  throw new AppError('invalid_search', message);
}

/** Lower-cased, accents removed: what the FTS tokenizer (unicode61 remove_diacritics 2) compares. */
export function foldText(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
}

/** A term the FTS tokenizer would turn into no token at all ("***", "-") cannot match anything. */
function hasWordChars(s: string): boolean {
  return /[\p{L}\p{N}]/u.test(s);
}

function readQuoted(q: string, i: number): [string, number] {
  const end = q.indexOf('"', i + 1);
  return end < 0 ? [q.slice(i + 1), q.length] : [q.slice(i + 1, end), end + 1];
}

function readTerm(q: string, start: number, neg: boolean): [Token, number] {
  let i = start;
  while (i < q.length && !/[\s()"]/u.test(q[i]!)) i++;
  const word = q.slice(start, i);
  const m = /^([a-z]+):(.*)$/i.exec(word);
  const field = m && FIELDS.has(m[1]!.toLowerCase()) ? m[1]!.toLowerCase() : null;
  if (field !== null && m![2] === '' && q[i] === '"') {
    const [value, next] = readQuoted(q, i);
    return [{ t: 'term', neg, field, value, quoted: true }, next];
  }
  // and/or in any case (notmuch, queries.txt); NOT only in capitals: "do not disturb" is three words.
  const lower = word.toLowerCase();
  if (field === null && !neg && ((KEYWORDS.has(lower) && lower !== 'not') || word === 'NOT')) {
    return [{ t: lower as 'and' | 'or' | 'not' }, i];
  }
  return [{ t: 'term', neg, field, value: field === null ? word : m![2]!, quoted: false }, i];
}

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/u.test(c)) { i++; continue; }
    if (c === '(' || c === ')') { out.push({ t: c === '(' ? 'lp' : 'rp' }); i++; continue; }
    const neg = c === '-' && i + 1 < q.length && !/[\s)]/u.test(q[i + 1]!);
    if (neg) i++;
    if (q[i] === '"') {
      const [value, next] = readQuoted(q, i);
      out.push({ t: 'term', neg, field: null, value, quoted: true });
      i = next;
    } else if (q[i] === '(' && neg) {
      out.push({ t: 'not' }); // "-(a OR b)"
    } else {
      const [tok, next] = readTerm(q, i, neg);
      out.push(tok);
      i = Math.max(next, i + 1);
    }
  }
  // A query made only of "and"/"or"/"not" is someone searching for those words.
  if (out.length > 0 && out.every((tk) => tk.t === 'and' || tk.t === 'or' || tk.t === 'not')) {
    return out.map((tk): Token => ({ t: 'term', neg: false, field: null, value: tk.t, quoted: false }));
  }
  return out;
}

function parseRange(field: 'pi' | 'importance', value: string): SearchNode {
  const num = '(-?\\d+)';
  const m = new RegExp(`^(?:(<=|>=|<|>|=)?${num}|${num}?\\.\\.${num}?)$`).exec(value.trim());
  if (!m || (m[3] === undefined && m[4] === undefined && m[2] === undefined)) {
    invalid(`${field}: expects a number, a comparison (<40, >=60) or a range (40..60)`);
  }
  if (m[2] !== undefined) {
    const n = Number(m[2]);
    switch (m[1]) {
      case '<': return { kind: 'range', field, max: n - 1 };
      case '<=': return { kind: 'range', field, max: n };
      case '>': return { kind: 'range', field, min: n + 1 };
      case '>=': return { kind: 'range', field, min: n };
      default: return { kind: 'range', field, min: n, max: n };
    }
  }
  return { kind: 'range', field, min: m[3] === undefined ? undefined : Number(m[3]), max: m[4] === undefined ? undefined : Number(m[4]) };
}

/** YYYY, YYYY-MM or YYYY-MM-DD (or with slashes) → [first day, day after the last] */
function parseDays(value: string): [string, string] {
  const m = /^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?$/.exec(value.trim());
  if (!m) invalid(`"${value}" is not a date (use YYYY-MM-DD)`);
  const [y, mo, d] = [Number(m[1]), m[2] === undefined ? 1 : Number(m[2]), m[3] === undefined ? 1 : Number(m[3])];
  const start = new Date(Date.UTC(y, mo - 1, d));
  if (start.getUTCFullYear() !== y || start.getUTCMonth() !== mo - 1 || start.getUTCDate() !== d) {
    invalid(`"${value}" is not a valid date`);
  }
  const end = new Date(start);
  if (m[3] !== undefined) end.setUTCDate(d + 1);
  else if (m[2] !== undefined) end.setUTCMonth(mo);
  else end.setUTCFullYear(y + 1);
  return [start.toISOString().slice(0, 10), end.toISOString().slice(0, 10)];
}

function parseDate(field: string, value: string): SearchNode {
  if (field === 'before') return { kind: 'date', before: parseDays(value)[0] };
  if (field === 'after') return { kind: 'date', after: parseDays(value)[0] };
  const [a, b] = value.includes('..') ? value.split('..', 2) as [string, string] : [value, value];
  const node: SearchNode = { kind: 'date' };
  if (a !== '') node.after = parseDays(a)[0];
  if (b !== '') node.before = parseDays(b)[1];
  if (a === '' && b === '') invalid('date: expects A..B, A.. or ..B');
  return node;
}

function fieldTerm(field: string, value: string, quoted: boolean): SearchNode | null {
  const v = value.trim();
  if (v === '') return null; // an operator still being typed
  switch (field) {
    case 'subject': return hasWordChars(v) ? { kind: 'text', field: 'subject', text: v.normalize('NFC'), phrase: quoted } : null;
    case 'from': return { kind: 'from', value: v.toLowerCase() };
    case 'to': case 'cc': return { kind: 'to', value: v.toLowerCase() };
    case 'tag': return v.toLowerCase() === 'unread' ? { kind: 'flag', flag: 'unread' } : { kind: 'tag', name: v };
    case 'is': {
      const flag = FLAGS[v.toLowerCase()];
      return flag ? { kind: 'flag', flag } : invalid(`is:${v} is unknown (unread, read, encrypted, signed, spam)`);
    }
    case 'has':
      return /^attachments?$/i.test(v) ? { kind: 'flag', flag: 'attachment' } : invalid(`has:${v} is unknown (attachment)`);
    case 'pi': case 'importance': return parseRange(field, v);
    default: return parseDate(field, v);
  }
}

function termNode(tok: Extract<Token, { t: 'term' }>): SearchNode | null {
  const text = tok.value.trim().normalize('NFC');
  const node = tok.field !== null
    ? fieldTerm(tok.field, tok.value, tok.quoted)
    : hasWordChars(text) ? { kind: 'text' as const, field: 'any' as const, text, phrase: tok.quoted } : null;
  return node && tok.neg ? { kind: 'not', child: node } : node;
}

function combine(kind: 'and' | 'or', parts: SearchNode[]): SearchNode | null {
  const flat = parts.flatMap((p) => (p.kind === kind ? p.children : [p]));
  if (flat.length === 0) return null;
  return flat.length === 1 ? flat[0]! : { kind, children: flat };
}

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token['t'] | 'end' {
    return this.pos < this.toks.length ? this.toks[this.pos]!.t : 'end';
  }

  parseAll(): SearchNode | null {
    const parts: SearchNode[] = [];
    while (this.peek() !== 'end') {
      if (this.peek() === 'rp') { this.pos++; continue; } // stray ")"
      const n = this.parseOr();
      if (n) parts.push(n);
    }
    return combine('and', parts);
  }

  private parseOr(): SearchNode | null {
    const parts: SearchNode[] = [];
    for (;;) {
      const n = this.parseAnd();
      if (n) parts.push(n);
      if (this.peek() !== 'or') break;
      this.pos++;
    }
    return combine('or', parts);
  }

  private parseAnd(): SearchNode | null {
    const parts: SearchNode[] = [];
    for (let t = this.peek(); t !== 'end' && t !== 'rp' && t !== 'or'; t = this.peek()) {
      if (t === 'and') { this.pos++; continue; }
      const n = this.parseUnary();
      if (n) parts.push(n);
    }
    return combine('and', parts);
  }

  private parseUnary(): SearchNode | null {
    const tok = this.toks[this.pos++]!;
    if (tok.t === 'not') {
      if (['end', 'rp', 'or', 'and'].includes(this.peek())) return null;
      const inner = this.parseUnary();
      return inner ? { kind: 'not', child: inner } : null;
    }
    if (tok.t === 'lp') {
      const inner = this.parseOr();
      if (this.peek() === 'rp') this.pos++; // an unclosed "(" closes at the end
      return inner;
    }
    return tok.t === 'term' ? termNode(tok) : null;
  }
}

/** True when the node asks for spam outside any negation. */
function asksForSpam(node: SearchNode): boolean {
  switch (node.kind) {
    case 'and': case 'or': return node.children.some(asksForSpam);
    case 'flag': return node.flag === 'spam';
    case 'tag': return node.name.toLowerCase() === 'spam';
    default: return false;
  }
}

export function parseSearchQuery(q: string): SearchQuery {
  if (q.length > 2000) invalid('search query too long');
  const root = new Parser(tokenize(q)).parseAll();
  if (!root) invalid('nothing to search for');
  return { root, includesSpam: asksForSpam(root) };
}

/** An FTS5 string: every term quoted, inner quotes doubled, so no operator or column can be injected. */
export function ftsString(text: string): string {
  return '"' + text.replace(/"/g, '""') + '"';
}

/**
 * The FTS5 MATCH expression for a subtree made only of text terms, or null when it holds anything
 * else (or is purely negative: FTS5 NOT needs a positive left side).
 */
export function toFtsExpression(node: SearchNode): string | null {
  switch (node.kind) {
    case 'text':
      return (node.field === 'subject' ? '{subject} : ' : '') + ftsString(node.text);
    case 'or': {
      const parts = node.children.map(toFtsExpression);
      return parts.every((p) => p !== null) ? '(' + parts.join(' OR ') + ')' : null;
    }
    case 'and': {
      const pos = node.children.filter((c) => c.kind !== 'not').map(toFtsExpression);
      const neg = node.children.flatMap((c) => (c.kind === 'not' ? [toFtsExpression(c.child)] : []));
      if (pos.length === 0 || [...pos, ...neg].some((p) => p === null)) return null;
      return '(' + pos.join(' AND ') + ')' + neg.map((n) => ' NOT ' + n).join('');
    }
    default:
      return null;
  }
}
