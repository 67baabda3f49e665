// Strings and dates. Every visible string comes from web/i18n/<lang>.json through t(); the
// language is the user's setting once known, else the browser's. Dates are shown in the user's
// time zone (their setting) with Intl, so the box never formats a date for the browser.
export const LANGS = ['en', 'fr'];

let lang = 'en';
let catalogue = {};
let timeZone;
let formatter = null;

export function browserLang() {
  return (navigator.language || 'en').toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

export function currentLang() {
  return lang;
}

/** Loads the catalogue of `next` (en or fr); the current one stays if it cannot be fetched. */
export async function setLanguage(next) {
  const wanted = LANGS.includes(next) ? next : 'en';
  if (wanted === lang && Object.keys(catalogue).length) return;
  const res = await fetch(new URL(`../i18n/${wanted}.json`, import.meta.url));
  if (!res.ok) return;
  catalogue = await res.json();
  lang = wanted;
  formatter = null;
  document.documentElement.lang = lang;
  document.title = t('app.title');
}

/** An IANA zone ("Europe/Paris"); an unknown one falls back to the browser's. */
export function setTimeZone(zone) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    timeZone = zone;
  } catch {
    timeZone = undefined;
  }
  formatter = null;
}

/** The string of `key` with {name} placeholders filled; the key itself when missing (tests look for that). */
export function t(key, vars = {}) {
  const text = catalogue[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

/** A date and time (epoch ms) in the user's language and time zone. */
export function formatDate(ms) {
  if (ms === null || ms === undefined) return '';
  formatter ??= new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone });
  return formatter.format(new Date(ms));
}

/** The words for an ApiError: error.<code> when the catalogue has it, else error.other. */
export function errorText(err) {
  const key = `error.${err.code}`;
  return key in catalogue ? t(key, { message: err.message }) : t('error.other', { message: err.message });
}
