/**
 * A contact card as the user gives it (API body or vCard), checked and normalised the one way both
 * paths store it: text trimmed (empty is null), bounded, without control characters; emails are
 * addresses the box can write to, lower-cased as the ingest pipeline records them; at most one email
 * is preferred (the first one marked). Lists given replace the stored ones; fields left out stay.
 */
import { AppError } from '../errors.js';
import { toAsciiAddress } from '../mail/address-syntax.js';
import { PHONE_TYPES, PLACE_TYPES } from './vcard.js';
import type { NameParts } from './names.js';

export interface CardEmail { address: string; type: string | null; preferred: boolean }
export interface CardPhone { number: string; type: string | null }
export interface CardAddress { type: string | null; street: string | null; city: string | null; region: string | null; postcode: string | null; country: string | null }
export interface CardOrganisation { name: string | null; department: string | null; title: string | null }

export const NAME_FIELDS = ['display_name', 'given_name', 'family_name', 'additional_names', 'name_prefix', 'name_suffix'] as const;
export type NameField = (typeof NAME_FIELDS)[number];

export interface CardFields extends Record<NameField, string | null> {
  notes: string | null;
  emails: CardEmail[];
  phones: CardPhone[];
  addresses: CardAddress[];
  organisations: CardOrganisation[];
}

export type CardPatch = Partial<CardFields>;

/** The raw shape before checks (what zod lets through, or what a vCard gives). */
export interface CardInput extends NameParts {
  notes?: string | null;
  emails?: Array<string | { address: string; type?: string | null; preferred?: boolean }>;
  phones?: Array<{ number: string; type?: string | null }>;
  addresses?: Array<{ type?: string | null; street?: string | null; city?: string | null; region?: string | null; postcode?: string | null; country?: string | null }>;
  organisations?: Array<{ name?: string | null; department?: string | null; title?: string | null }>;
}

export const LIMITS = { name: 200, notes: 20_000, number: 64, street: 1000, place: 200, emails: 50, phones: 50, addresses: 20, organisations: 20 };

const invalid = (message: string) => new AppError('validation_failed', message);

function text(value: string | null | undefined, field: string, max: number, multiline = false): string | null {
  if (value === null || value === undefined) return null;
  const s = value.replace(/\r\n?/g, '\n').trim();
  if (!s) return null;
  if (s.length > max) throw invalid(`${field}: at most ${max} characters`);
  if ((multiline ? /[\x00-\x08\x0b-\x1f\x7f]/ : /[\x00-\x1f\x7f]/).test(s)) throw invalid(`${field}: control characters are not allowed`);
  return s;
}

function placeType(value: string | null | undefined, field: string): string | null {
  const t = value?.trim().toLowerCase();
  if (!t) return null;
  if (!(PLACE_TYPES as readonly string[]).includes(t)) throw invalid(`${field}: a type is one of ${PLACE_TYPES.join(', ')}`);
  return t;
}

function phoneType(value: string | null | undefined, field: string): string | null {
  const types = [...new Set((value ?? '').toLowerCase().split(',').map((t) => t.trim()).filter(Boolean).map((t) => (t === 'mobile' ? 'cell' : t)))];
  const bad = types.find((t) => !PHONE_TYPES.has(t));
  if (bad) throw invalid(`${field}: "${bad.slice(0, 20)}" is not a phone type (${[...PHONE_TYPES].join(', ')})`);
  return types.length ? types.join(',') : null;
}

/** The address as stored: ASCII domain, lower case; throws when the box could not write to it. */
export function normalizeEmail(raw: string, field = 'email'): string {
  const ascii = toAsciiAddress(raw.trim().replace(/^mailto:/i, ''));
  if (!ascii) throw invalid(`${field}: "${raw.slice(0, 100)}" is not an email address`);
  return ascii.toLowerCase();
}

function emails(list: NonNullable<CardInput['emails']>): CardEmail[] {
  if (list.length > LIMITS.emails) throw invalid(`emails: at most ${LIMITS.emails}`);
  const out: CardEmail[] = [];
  list.forEach((e, i) => {
    const item = typeof e === 'string' ? { address: e } : e;
    const address = normalizeEmail(item.address, `emails.${i}`);
    if (out.some((o) => o.address === address)) throw invalid(`emails.${i}: ${address} is given twice`);
    out.push({ address, type: placeType(item.type, `emails.${i}.type`), preferred: !!item.preferred && !out.some((o) => o.preferred) });
  });
  return out;
}

function listOf<T, U>(list: T[], field: string, max: number, map: (item: T, at: string) => U | null): U[] {
  if (list.length > max) throw invalid(`${field}: at most ${max}`);
  return list.map((item, i) => map(item, `${field}.${i}`)).filter((x): x is U => x !== null);
}

/** Checks and normalises; only the fields present in the input are in the result. */
export function normalizeCard(input: CardInput): CardPatch {
  const out: CardPatch = {};
  for (const f of NAME_FIELDS) if (input[f] !== undefined) out[f] = text(input[f], f, LIMITS.name);
  if (input.notes !== undefined) out.notes = text(input.notes, 'notes', LIMITS.notes, true);
  if (input.emails) out.emails = emails(input.emails);
  if (input.phones) {
    out.phones = listOf(input.phones, 'phones', LIMITS.phones, (p, at) => {
      const number = text(p.number, `${at}.number`, LIMITS.number);
      return number ? { number, type: phoneType(p.type, `${at}.type`) } : null;
    });
  }
  if (input.addresses) {
    out.addresses = listOf(input.addresses, 'addresses', LIMITS.addresses, (a, at) => {
      const v = {
        type: placeType(a.type, `${at}.type`), street: text(a.street, `${at}.street`, LIMITS.street, true),
        city: text(a.city, `${at}.city`, LIMITS.place), region: text(a.region, `${at}.region`, LIMITS.place),
        postcode: text(a.postcode, `${at}.postcode`, LIMITS.place), country: text(a.country, `${at}.country`, LIMITS.place),
      };
      return v.street || v.city || v.region || v.postcode || v.country ? v : null;
    });
  }
  if (input.organisations) {
    out.organisations = listOf(input.organisations, 'organisations', LIMITS.organisations, (o, at) => {
      const v = { name: text(o.name, `${at}.name`, LIMITS.name), department: text(o.department, `${at}.department`, LIMITS.name), title: text(o.title, `${at}.title`, LIMITS.name) };
      return v.name || v.department || v.title ? v : null;
    });
  }
  return out;
}
