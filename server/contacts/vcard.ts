/**
 * vCard 2.1, 3.0 and 4.0 cards to plain values and back (4.0 or 3.0). Pure: no database, no
 * contacts rules (contact-vcards.ts merges cards into the address book). What is read: VERSION, UID,
 * FN, N, EMAIL, TEL, ADR, ORG, TITLE, NOTE, CATEGORIES; other properties (PHOTO, BDAY, X-…) are
 * left out. ORG and TITLE sharing a group (`item1.ORG`, `item1.TITLE`) are one organisation; the
 * writer groups them when a card has several, so they come back paired.
 */
import {
  decodeValue, escapeText, foldLine, parseContentLine, splitEscaped, toByteString, unescapeText, unfold,
  type ContentLine, type VCardVersion,
} from './vcard-lines.js';

export type { VCardVersion } from './vcard-lines.js';

export interface VCardName {
  family: string | null;
  given: string | null;
  additional: string | null;
  prefix: string | null;
  suffix: string | null;
}

export interface VCardEmail { address: string; type: string | null; preferred: boolean }
export interface VCardPhone { number: string; type: string | null }
export interface VCardAddress { type: string | null; street: string | null; city: string | null; region: string | null; postcode: string | null; country: string | null }
export interface VCardOrganisation { name: string | null; department: string | null; title: string | null }

export interface VCard {
  uid: string | null;
  fn: string | null;
  n: VCardName | null;
  emails: VCardEmail[];
  phones: VCardPhone[];
  addresses: VCardAddress[];
  organisations: VCardOrganisation[];
  note: string | null;
  categories: string[];
}

export type ParsedCard = { index: number; version: VCardVersion; card: VCard } | { index: number; error: string };

const VERSIONS = new Set<string>(['2.1', '3.0', '4.0']);
/** Where a TYPE says what kind of email or postal address it is. */
export const PLACE_TYPES = ['home', 'work', 'other'] as const;
/** TEL types kept (RFC 6350 §6.4.1 and RFC 2426 §3.3.1); 'mobile' is read as 'cell'. */
export const PHONE_TYPES: ReadonlySet<string> = new Set(['cell', 'home', 'work', 'fax', 'pager', 'text', 'video', 'textphone', 'voice', 'main', 'other']);

const orNull = (s: string | undefined): string | null => (s === undefined || s.trim() === '' ? null : s.trim());

function typesOf(line: ContentLine): string[] {
  return (line.params.get('TYPE') ?? []).flatMap((t) => t.split(',')).map((t) => t.trim().toLowerCase()).filter(Boolean);
}

function isPreferred(line: ContentLine): boolean {
  return typesOf(line).includes('pref') || line.params.get('PREF')?.[0]?.trim() === '1';
}

function placeType(types: string[]): string | null {
  return PLACE_TYPES.find((t) => types.includes(t)) ?? null;
}

function phoneType(types: string[]): string | null {
  const kept = [...new Set(types.map((t) => (t === 'mobile' ? 'cell' : t)).filter((t) => PHONE_TYPES.has(t)))];
  return kept.length ? kept.join(',') : null;
}

interface Reader {
  version: VCardVersion;
  charset: string;
}

const text = (r: Reader, l: ContentLine) => unescapeText(decodeValue(l, r.version, r.charset), r.version);
const components = (r: Reader, l: ContentLine) => splitEscaped(decodeValue(l, r.version, r.charset), ';').map((c) => unescapeText(c, r.version));

/** ORG/TITLE pairs: by group first, then in order of appearance. */
function pairOrganisations(orgs: Array<{ group: string | null; name: string | null; department: string | null }>, titles: Array<{ group: string | null; title: string }>): VCardOrganisation[] {
  const out = orgs.map((o) => ({ group: o.group, org: { name: o.name, department: o.department, title: null as string | null } }));
  const rest: string[] = [];
  for (const t of titles) {
    const same = t.group ? out.find((o) => o.group === t.group && o.org.title === null) : undefined;
    if (same) same.org.title = t.title;
    else rest.push(t.title);
  }
  for (const title of rest) {
    const free = out.find((o) => o.org.title === null && (o.group === null || !titles.some((t) => t.group === o.group)));
    if (free) free.org.title = title;
    else out.push({ group: null, org: { name: null, department: null, title } });
  }
  return out.map((o) => o.org);
}

function readCard(lines: ContentLine[], charset: string): { version: VCardVersion; card: VCard } | string {
  const v = lines.find((l) => l.name === 'VERSION');
  const version = v ? v.raw.trim() : '3.0'; // a card without VERSION is read as 3.0
  if (!VERSIONS.has(version)) return `unsupported vCard version "${version.slice(0, 10)}"`;
  const r: Reader = { version: version as VCardVersion, charset };
  const card: VCard = { uid: null, fn: null, n: null, emails: [], phones: [], addresses: [], organisations: [], note: null, categories: [] };
  const orgs: Array<{ group: string | null; name: string | null; department: string | null }> = [];
  const titles: Array<{ group: string | null; title: string }> = [];
  const notes: string[] = [];
  for (const l of lines) {
    switch (l.name) {
      case 'UID': card.uid = orNull(text(r, l)); break;
      case 'FN': card.fn = orNull(text(r, l)); break;
      case 'N': {
        const [family, given, additional, prefix, suffix] = components(r, l);
        card.n = { family: orNull(family), given: orNull(given), additional: orNull(additional), prefix: orNull(prefix), suffix: orNull(suffix) };
        break;
      }
      case 'EMAIL': {
        const address = orNull(text(r, l).replace(/^\s*mailto:/i, ''));
        if (address) card.emails.push({ address, type: placeType(typesOf(l)), preferred: isPreferred(l) });
        break;
      }
      case 'TEL': {
        const number = orNull(text(r, l).replace(/^\s*tel:/i, ''));
        if (number) card.phones.push({ number, type: phoneType(typesOf(l)) });
        break;
      }
      case 'ADR': {
        const [pobox, ext, street, city, region, postcode, country] = components(r, l);
        const a = { type: placeType(typesOf(l)), street: orNull([pobox, ext, street].map((s) => s?.trim()).filter(Boolean).join('\n')), city: orNull(city), region: orNull(region), postcode: orNull(postcode), country: orNull(country) };
        if (a.street || a.city || a.region || a.postcode || a.country) card.addresses.push(a);
        break;
      }
      case 'ORG': {
        const [name, ...units] = components(r, l);
        const o = { group: l.group, name: orNull(name), department: orNull(units.map((u) => u.trim()).filter(Boolean).join('; ')) };
        if (o.name || o.department) orgs.push(o);
        break;
      }
      case 'TITLE': {
        const title = orNull(text(r, l));
        if (title) titles.push({ group: l.group, title });
        break;
      }
      case 'NOTE': {
        const note = orNull(text(r, l));
        if (note) notes.push(note);
        break;
      }
      case 'CATEGORIES': {
        // 2.1 has no CATEGORIES of its own; its writers separate them with ';' or ','
        const raw = decodeValue(l, r.version, r.charset);
        const items = r.version === '2.1' ? splitEscaped(raw, ';').flatMap((s) => splitEscaped(s, ',')) : splitEscaped(raw, ',');
        for (const item of items.map((s) => unescapeText(s, r.version).trim())) if (item && !card.categories.includes(item)) card.categories.push(item);
        break;
      }
      default:
        break;
    }
  }
  card.organisations = pairOrganisations(orgs, titles);
  card.note = notes.length ? notes.join('\n\n') : null;
  return { version: r.version, card };
}

/**
 * Every card of a file, in order, each read or with the reason it could not be. Lines outside
 * BEGIN:VCARD … END:VCARD are ignored, and so is a card nested in another (2.1 AGENT).
 * `charset` is the file's (HTTP Content-Type), for 2.1/3.0 values without a CHARSET of their own.
 */
export function parseVCards(input: Buffer | string, opts: { charset?: string } = {}): ParsedCard[] {
  const out: ParsedCard[] = [];
  let current: { lines: ContentLine[]; error: string | null } | null = null;
  let depth = 0;
  let afterAgent = false;
  for (const { lineNo, text: line } of unfold(toByteString(input))) {
    const parsed = parseContentLine(lineNo, line);
    const isBegin = typeof parsed !== 'string' && parsed.name === 'BEGIN' && parsed.raw.trim().toUpperCase() === 'VCARD';
    const isEnd = typeof parsed !== 'string' && parsed.name === 'END' && parsed.raw.trim().toUpperCase() === 'VCARD';
    const agent = afterAgent;
    afterAgent = typeof parsed !== 'string' && parsed.name === 'AGENT' && parsed.raw.trim() === '';
    if (current && isBegin && !agent && depth === 0) {
      // a BEGIN where an END was due: the card before it is cut short, this one starts afresh
      out.push({ index: out.length, error: current.error ?? `the card has no END:VCARD before line ${lineNo}` });
      current = null;
    }
    if (!current) {
      if (isBegin) current = { lines: [], error: null };
      continue;
    }
    if (isBegin) depth++;
    else if (isEnd && depth > 0) depth--;
    else if (isEnd) {
      const index = out.length;
      const read = current.error ?? readCard(current.lines, opts.charset ?? 'utf-8');
      out.push(typeof read === 'string' ? { index, error: read } : { index, ...read });
      current = null;
    } else if (depth === 0) {
      if (typeof parsed === 'string') current.error ??= parsed;
      else current.lines.push(parsed);
    }
  }
  if (current) out.push({ index: out.length, error: current.error ?? 'the card has no END:VCARD' });
  return out;
}

function property(name: string, params: string[], value: string, group?: string): string {
  return foldLine(`${group ? group + '.' : ''}${name}${params.map((p) => ';' + p).join('')}:${value}`);
}

const compound = (parts: Array<string | null>) => parts.map((p) => escapeText(p ?? '')).join(';');

/** One card, CRLF line ends, folded at 75 octets. `fn` is required by both versions: callers give the shown name. */
export function serializeVCard(card: VCard, version: '3.0' | '4.0'): string {
  const v4 = version === '4.0';
  const lines = ['BEGIN:VCARD', `VERSION:${version}`];
  if (card.uid) lines.push(property('UID', [], escapeText(card.uid)));
  lines.push(property('FN', [], escapeText(card.fn ?? '')));
  const n = card.n;
  if (n && (n.family || n.given || n.additional || n.prefix || n.suffix)) lines.push(property('N', [], compound([n.family, n.given, n.additional, n.prefix, n.suffix])));
  else if (!v4) lines.push('N:;;;;'); // required in 3.0 (RFC 2426 §3.1.2)
  for (const e of card.emails) {
    const types = [...(v4 ? [] : ['internet']), ...(e.type ? [e.type] : []), ...(e.preferred && !v4 ? ['pref'] : [])];
    lines.push(property('EMAIL', [...(types.length ? [`TYPE=${types.join(',')}`] : []), ...(e.preferred && v4 ? ['PREF=1'] : [])], escapeText(e.address)));
  }
  for (const p of card.phones) lines.push(property('TEL', p.type ? [`TYPE=${p.type}`] : [], escapeText(p.number)));
  for (const a of card.addresses) lines.push(property('ADR', a.type ? [`TYPE=${a.type}`] : [], compound(['', '', a.street, a.city, a.region, a.postcode, a.country])));
  const grouped = card.organisations.length > 1;
  card.organisations.forEach((o, i) => {
    const group = grouped ? `org${i + 1}` : undefined;
    if (o.name || o.department) lines.push(property('ORG', [], compound(o.department ? [o.name, o.department] : [o.name]), group));
    if (o.title) lines.push(property('TITLE', [], escapeText(o.title), group));
  });
  if (card.note) lines.push(property('NOTE', [], escapeText(card.note)));
  if (card.categories.length) lines.push(property('CATEGORIES', [], card.categories.map(escapeText).join(',')));
  lines.push('END:VCARD');
  return lines.join('\r\n') + '\r\n';
}
