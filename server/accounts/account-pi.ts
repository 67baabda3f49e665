/**
 * The Privacy Index of an account (SPEC §7), from what the box actually knows today. Signals that
 * cannot be verified yet (password strength, second factor, devices) earn
 * nothing and say so: no point is given for what was not checked. The weights of the account PI are
 * this table; the message PI has its own in privacy/weights.ts (privacy/ does not cover accounts).
 */
import type { Knex } from 'knex';
import { piColour, piLetter } from '../privacy/index.js';

export type AccountAxis = 'access' | 'keys' | 'exchanges';
type Lang = 'en' | 'fr';

interface AccountWeight {
  axis: AccountAxis;
  /** maximum points; shares earn a proportion of it */
  points: number;
  help: Record<Lang, string>;
}

export const ACCOUNT_WEIGHTS = {
  PASSWORD_POLICY: {
    axis: 'access', points: 10,
    help: {
      en: 'Your password met the 10-character minimum when it was set. Its strength is not measured yet, so it earns half of the 20 points.',
      fr: 'Votre mot de passe respectait le minimum de 10 caractères à sa création. Sa force n’est pas encore mesurée : il rapporte la moitié des 20 points.',
    },
  },
  NO_SECOND_FACTOR: {
    axis: 'access', points: 0,
    help: { en: 'No second factor protects the login (coming in a later version; worth 15 points).', fr: 'Aucun second facteur ne protège la connexion (à venir ; vaut 15 points).' },
  },
  NO_VERIFIED_DEVICE: {
    axis: 'access', points: 0,
    help: { en: 'Devices are not verified yet (coming; verified devices are worth up to 15 points).', fr: 'Les appareils ne sont pas encore vérifiés (à venir ; des appareils vérifiés valent jusqu’à 15 points).' },
  },
  KEY_PAIR_PROTECTED: {
    axis: 'keys', points: 15,
    help: { en: 'You have an OpenPGP key pair, its private key protected by your passphrase (the box refuses an unprotected one): people can write to you sealed.', fr: 'Vous avez une paire de clés OpenPGP, la clé privée protégée par votre phrase de passe (le boîtier refuse une clé non protégée) : on peut vous écrire sous pli scellé.' },
  },
  NO_KEY_PAIR: {
    axis: 'keys', points: 0,
    help: { en: 'You have no OpenPGP key pair yet: mail to you cannot be sealed end to end (worth 15 points).', fr: 'Vous n’avez pas encore de paire de clés OpenPGP : on ne peut pas vous écrire sous pli scellé (vaut 15 points).' },
  },
  CONTACTS_WITH_KEYS: {
    axis: 'keys', points: 10,
    help: { en: 'Share of your contacts whose encryption key you hold (up to 10 points).', fr: 'Part de vos contacts dont vous avez la clé de chiffrement (jusqu’à 10 points).' },
  },
  SEALED_TEXT_PRIVATE: {
    axis: 'exchanges', points: 5,
    help: { en: 'The text of sealed mail stays out of the box: only your browser reads it, and search sees its senders and dates only.', fr: 'Le texte du courrier scellé reste hors du boîtier : seul votre navigateur le lit, et la recherche n’en voit que les expéditeurs et les dates.' },
  },
  SEALED_TEXT_INDEXED: {
    axis: 'exchanges', points: 0,
    help: { en: 'You let the box index the text of the sealed mail you open: search finds it, but the box now holds those words, and so would anyone who took it (5 points when this is off).', fr: 'Vous laissez le boîtier indexer le texte du courrier scellé que vous ouvrez : la recherche le trouve, mais le boîtier détient ces mots, comme quiconque le prendrait (5 points quand c’est désactivé).' },
  },
  ENCRYPTED_MAIL: {
    axis: 'exchanges', points: 15,
    help: { en: 'Share of your mail of the last 30 days that was end-to-end encrypted (up to 15 points).', fr: 'Part de vos messages des 30 derniers jours chiffrés de bout en bout (jusqu’à 15 points).' },
  },
} as const satisfies Record<string, AccountWeight>;

type AccountSignal = keyof typeof ACCOUNT_WEIGHTS;

export interface AccountReason {
  signal: AccountSignal;
  axis: AccountAxis;
  points: number;
  detail: string | null;
  help: string;
}

export interface AccountPi {
  score: number;
  letter: string;
  colour: string;
  axes: Record<AccountAxis, number>;
  reasons: AccountReason[];
}

const DAY_MS = 86_400_000;

function reason(id: AccountSignal, lang: Lang, share = 1, detail: string | null = null): AccountReason {
  const w = ACCOUNT_WEIGHTS[id];
  return { signal: id, axis: w.axis, points: Math.round(w.points * share), detail, help: w.help[lang] };
}

/** What the database says today; each query is one indexed scan of the user's own rows. */
export async function computeAccountPi(db: Knex, userId: number, now: number, lang: Lang): Promise<AccountPi> {
  const mail = await db('messages')
    .where('user_id', userId)
    .andWhere('date', '>=', now - 30 * DAY_MS)
    .first(db.raw('count(*) as n'), db.raw('sum(is_encrypted) as enc'));
  const contacts = await db('contacts').where({ user_id: userId }).first(db.raw('count(*) as n'));
  // private keys are stored passphrase-protected only (crypto/pgp.ts refuses others): present = protected
  const keyPair = await db('user_keys').where({ user_id: userId }).whereNull('revoked_at').first('id');
  const indexing = await db('pgp_settings').where({ user_id: userId }).first('index_decrypted');
  const withKeys = await db('contacts as c').where('c.user_id', userId)
    .whereExists(db('contact_emails as ce').join('contact_keys as k', function () {
      this.on('k.user_id', 'ce.user_id').andOn('k.address', 'ce.address');
    }).whereRaw('ce.contact_id = c.id').andWhere('k.revoked', false).select(db.raw('1')))
    .first(db.raw('count(*) as n'));
  const total = Number(contacts?.n ?? 0);
  const keyed = Number(withKeys?.n ?? 0);
  const n = Number(mail?.n ?? 0);
  const enc = Number(mail?.enc ?? 0);
  const reasons = [
    reason('PASSWORD_POLICY', lang),
    reason('NO_SECOND_FACTOR', lang),
    reason('NO_VERIFIED_DEVICE', lang),
    reason(keyPair ? 'KEY_PAIR_PROTECTED' : 'NO_KEY_PAIR', lang),
    reason('CONTACTS_WITH_KEYS', lang, total ? keyed / total : 0, `${keyed} of ${total} contacts`),
    // the trade-off of the search-index setting (keys screen), said where the user reads their PI
    ...(keyPair ? [reason(indexing?.index_decrypted ? 'SEALED_TEXT_INDEXED' : 'SEALED_TEXT_PRIVATE', lang)] : []),
    reason('ENCRYPTED_MAIL', lang, n ? enc / n : 0, n ? `${enc} of ${n} messages` : 'no mail in the last 30 days'),
  ];
  const axes: Record<AccountAxis, number> = { access: 0, keys: 0, exchanges: 0 };
  for (const r of reasons) axes[r.axis] += r.points;
  const score = Math.min(100, axes.access + axes.keys + axes.exchanges);
  return { score, letter: piLetter(score), colour: piColour(score), axes, reasons };
}
