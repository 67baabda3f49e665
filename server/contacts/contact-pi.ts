/**
 * The Privacy Index of a contact (SPEC §7): how private exchanges with this person can be. The
 * weights are this one table, with the help text of every reason in English and French; the score
 * comes from facts read from the user's own mail (contact-pi-facts.ts), never from what a message
 * merely claims. Keys and Autocrypt arrive with the OpenPGP issue: until then they earn 0 and their
 * reasons say so, rather than pretending.
 *
 * Regular exchanges: the six 30-day periods before now are counted back from the present; the
 * contact earns the points when at least 3 of them hold a message exchanged with them (from them,
 * or to them from the user), spam left out.
 */
import { piColour, piLetter } from '../privacy/index.js';

export type ContactAxis = 'keys' | 'exchanges' | 'travel';
export type Lang = 'en' | 'fr';

interface ContactWeight {
  axis: ContactAxis;
  /** points given; for a share, the most it can give */
  points: number;
  help: Record<Lang, string>;
}

export const CONTACT_WEIGHTS = {
  KEY_STRONG: {
    axis: 'keys', points: 30,
    help: { en: 'You hold a strong OpenPGP key of this contact (elliptic curve, or RSA of 3072 bits or more).', fr: 'Vous avez une clé OpenPGP robuste de ce contact (courbe elliptique, ou RSA de 3072 bits ou plus).' },
  },
  KEY_RSA_2048: {
    axis: 'keys', points: 20,
    help: { en: 'You hold an RSA-2048 OpenPGP key of this contact: sound today, a stronger one earns 30 points.', fr: 'Vous avez une clé OpenPGP RSA-2048 de ce contact : correcte aujourd’hui, une clé plus robuste rapporte 30 points.' },
  },
  KEY_WEAK: {
    axis: 'keys', points: 10,
    help: { en: 'The OpenPGP key you hold for this contact is weak (RSA under 2048 bits, or an old algorithm).', fr: 'La clé OpenPGP que vous avez pour ce contact est faible (RSA de moins de 2048 bits, ou algorithme ancien).' },
  },
  NO_KEY: {
    axis: 'keys', points: 0,
    help: {
      en: 'No OpenPGP key is known for this contact: mail to them travels unsealed. Add their key on the contact card, or it arrives by itself (Autocrypt, WKD) when they use OpenPGP (a strong key is worth 30 points, RSA-2048 20, a weaker one 10).',
      fr: 'Aucune clé OpenPGP n’est connue pour ce contact : vos messages partent sans être scellés. Ajoutez sa clé sur la fiche du contact, ou elle arrive d’elle-même (Autocrypt, WKD) s’il utilise OpenPGP (une clé robuste vaut 30 points, RSA-2048 20, une plus faible 10).',
    },
  },
  KEY_VERIFIED: {
    axis: 'keys', points: 20,
    help: { en: 'You checked this contact’s key fingerprint with them: nobody can slip you a forged key.', fr: 'Vous avez vérifié l’empreinte de la clé de ce contact avec lui : personne ne peut vous glisser une fausse clé.' },
  },
  KEY_NOT_VERIFIED: {
    axis: 'keys', points: 0,
    help: { en: 'This contact’s key is not verified by its fingerprint yet (worth 20 points).', fr: 'La clé de ce contact n’est pas encore vérifiée par son empreinte (vaut 20 points).' },
  },
  AUTOCRYPT_MUTUAL: {
    axis: 'keys', points: 10,
    help: { en: 'You and this contact both use Autocrypt and agreed to encrypt to each other.', fr: 'Ce contact et vous utilisez Autocrypt et êtes convenus de vous écrire chiffré.' },
  },
  NO_AUTOCRYPT: {
    axis: 'keys', points: 0,
    help: { en: 'This contact’s mail client has not said (by Autocrypt) that it prefers encrypted mail (mutual Autocrypt is worth 10 points).', fr: 'La messagerie de ce contact n’a pas indiqué (par Autocrypt) qu’elle préfère le courrier chiffré (Autocrypt mutuel vaut 10 points).' },
  },
  ENCRYPTED_EXCHANGES: {
    axis: 'exchanges', points: 20,
    help: { en: 'Share of your messages with this contact that were end-to-end encrypted (up to 20 points).', fr: 'Part de vos messages avec ce contact chiffrés de bout en bout (jusqu’à 20 points).' },
  },
  REGULAR_EXCHANGES: {
    axis: 'exchanges', points: 10,
    help: { en: 'You exchange mail regularly: in at least 3 of the last six 30-day periods. A regular correspondent is known, and forgeries stand out.', fr: 'Vous échangez régulièrement : au moins 3 des six dernières périodes de 30 jours. Un correspondant régulier est connu, et les contrefaçons se voient.' },
  },
  IRREGULAR_EXCHANGES: {
    axis: 'exchanges', points: 0,
    help: { en: 'Fewer than 3 of the last six 30-day periods saw mail with this contact (regular exchanges are worth 10 points).', fr: 'Moins de 3 des six dernières périodes de 30 jours ont vu un message avec ce contact (des échanges réguliers valent 10 points).' },
  },
  TLS_REACHABLE: {
    axis: 'travel', points: 10,
    help: { en: 'The last message from this contact reached us over an encrypted connection (TLS 1.2 or newer), or from inside this box.', fr: 'Le dernier message de ce contact nous est parvenu par une connexion chiffrée (TLS 1.2 ou plus récent), ou de l’intérieur de ce boîtier.' },
  },
  TLS_NOT_REACHABLE: {
    axis: 'travel', points: 0,
    help: { en: 'The last message from this contact came without encryption, or with an outdated one: their provider could do better (worth 10 points).', fr: 'Le dernier message de ce contact est arrivé sans chiffrement, ou avec un chiffrement dépassé : son fournisseur peut mieux faire (vaut 10 points).' },
  },
  TLS_UNKNOWN: {
    axis: 'travel', points: 0,
    help: { en: 'Nothing received from this contact yet, or how their last message travelled was not recorded: no points without proof.', fr: 'Rien reçu de ce contact pour l’instant, ou le trajet de son dernier message n’a pas été enregistré : pas de points sans preuve.' },
  },
} as const satisfies Record<string, ContactWeight>;

export type ContactSignal = keyof typeof CONTACT_WEIGHTS;

/** An OpenPGP key as the OpenPGP issue will describe it. */
export interface ContactKey {
  /** 'rsa', 'ecc' (ed25519/curve25519/NIST/brainpool), 'dsa', 'elgamal'… */
  algorithm: string;
  bits: number | null;
  verified: boolean;
}

export interface ContactFacts {
  keys: ContactKey[];
  autocryptMutual: boolean;
  /** messages exchanged with the contact (not spam), and how many were encrypted */
  messages: number;
  encrypted: number;
  /** how many of the last six 30-day periods hold an exchange */
  activePeriods: number;
  /** how the last message from them reached us: null when none was received */
  lastReceived: { travel: 'tls' | 'local' | 'old_tls' | 'plain' | 'unknown'; detail: string | null } | null;
}

export interface ContactReason {
  signal: ContactSignal;
  axis: ContactAxis;
  points: number;
  detail: string | null;
}

export interface ContactPiReport {
  score: number;
  letter: string;
  colour: string;
  axes: Record<ContactAxis, number>;
  reasons: ContactReason[];
}

export const PERIOD_DAYS = 30;
export const PERIODS = 6;
export const REGULAR_MIN_PERIODS = 3;

function reason(signal: ContactSignal, share = 1, detail: string | null = null): ContactReason {
  const w = CONTACT_WEIGHTS[signal];
  return { signal, axis: w.axis, points: Math.round(w.points * share), detail };
}

/** RFC 9580 §12 and NIST SP 800-57: elliptic curves and RSA ≥ 3072 are strong; RSA-2048 is its own step. */
export function keyStrength(key: ContactKey): 'KEY_STRONG' | 'KEY_RSA_2048' | 'KEY_WEAK' {
  const alg = key.algorithm.toLowerCase();
  if (alg === 'ecc' || alg === 'ecdsa' || alg === 'eddsa' || alg === 'ed25519' || alg === 'ed448') return 'KEY_STRONG';
  if (alg === 'rsa' && (key.bits ?? 0) >= 3072) return 'KEY_STRONG';
  if (alg === 'rsa' && (key.bits ?? 0) >= 2048) return 'KEY_RSA_2048';
  return 'KEY_WEAK';
}

const STRENGTH_ORDER = ['KEY_STRONG', 'KEY_RSA_2048', 'KEY_WEAK'] as const;

function keyReasons(keys: ContactKey[]): ContactReason[] {
  if (!keys.length) return [reason('NO_KEY', 1, 'no key known')];
  const best = STRENGTH_ORDER.find((s) => keys.some((k) => keyStrength(k) === s))!;
  return [reason(best, 1, `${keys.length} key${keys.length > 1 ? 's' : ''}`), keys.some((k) => k.verified) ? reason('KEY_VERIFIED') : reason('KEY_NOT_VERIFIED')];
}

function travelReason(last: ContactFacts['lastReceived']): ContactReason {
  if (!last) return reason('TLS_UNKNOWN', 1, 'nothing received yet');
  if (last.travel === 'tls' || last.travel === 'local') return reason('TLS_REACHABLE', 1, last.detail);
  if (last.travel === 'unknown') return reason('TLS_UNKNOWN', 1, last.detail ?? 'not recorded');
  return reason('TLS_NOT_REACHABLE', 1, last.detail);
}

/** The score of a contact from its facts: pure, the whole of the rule. */
export function scoreContact(f: ContactFacts): ContactPiReport {
  const reasons = [
    ...keyReasons(f.keys),
    f.autocryptMutual ? reason('AUTOCRYPT_MUTUAL') : reason('NO_AUTOCRYPT'),
    reason('ENCRYPTED_EXCHANGES', f.messages ? f.encrypted / f.messages : 0, f.messages ? `${f.encrypted} of ${f.messages} messages` : 'no exchanges yet'),
    f.activePeriods >= REGULAR_MIN_PERIODS
      ? reason('REGULAR_EXCHANGES', 1, `${f.activePeriods} of the last ${PERIODS} periods of ${PERIOD_DAYS} days`)
      : reason('IRREGULAR_EXCHANGES', 1, `${f.activePeriods} of the last ${PERIODS} periods of ${PERIOD_DAYS} days`),
    travelReason(f.lastReceived),
  ];
  const axes: Record<ContactAxis, number> = { keys: 0, exchanges: 0, travel: 0 };
  for (const r of reasons) axes[r.axis] += r.points;
  const score = Math.min(100, axes.keys + axes.exchanges + axes.travel);
  return { score, letter: piLetter(score), colour: piColour(score), axes, reasons };
}

/** The report with each reason's help text in the user's language. */
export function presentContactPi(report: ContactPiReport, lang: Lang) {
  return { ...report, reasons: report.reasons.map((r) => ({ ...r, help: CONTACT_WEIGHTS[r.signal]?.help[lang] ?? r.signal })) };
}

/** Two reports differ when their score or a reason's points do (details such as counts alone do not make history). */
export function samePi(a: { score: number; reasons: Array<{ signal: string; points: number }> }, b: ContactPiReport): boolean {
  const key = (rs: Array<{ signal: string; points: number }>) => rs.map((r) => `${r.signal}:${r.points}`).sort().join(',');
  return a.score === b.score && key(a.reasons) === key(b.reasons);
}
