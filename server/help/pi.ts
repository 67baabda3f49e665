/**
 * The online help about the Privacy Index (SPEC §6, §7), built from the very tables and functions
 * the server scores with: the message weights (privacy/weights.ts), the account and device weights
 * (accounts/account-pi.ts, accounts/device-pi.ts), the contact weights (contacts/contact-pi.ts) and the letter and colour bands (privacy/score.ts, read by scanning
 * piLetter/piColour over 0–100 so a retuned band shows here at once). Only the prose around those
 * numbers lives here. Not in charge of computing any PI.
 */
import { WEIGHTS } from '../privacy/weights.js';
import { piColour, piLetter } from '../privacy/score.js';
import { ACCOUNT_WEIGHTS } from '../accounts/account-pi.js';
import { DEVICE_WEIGHTS } from '../accounts/device-pi.js';
import { CONTACT_WEIGHTS } from '../contacts/contact-pi.js';

export type Lang = 'en' | 'fr';
type Text = Record<Lang, string>;

export interface Band<K extends string> {
  key: K;
  /** inclusive */
  min: number;
  max: number;
  help: string;
}

export interface HelpSignal {
  signal: string;
  axis: string;
  /** the points it gives (for a share, the most it can give) */
  points: number;
  help: string;
}

export interface PiHelp {
  lang: Lang;
  intro: string;
  scale: { min: 0; max: 100 };
  letters: Array<Band<string>>;
  colours: Array<Band<string>>;
  message: { help: string; axes: Array<{ axis: string; help: string }>; signals: HelpSignal[] };
  discussion: { help: string };
  account: { help: string; axes: Array<{ axis: string; help: string }>; signals: HelpSignal[]; tips: string[] };
  device: { help: string; axes: Array<{ axis: string; help: string }>; signals: HelpSignal[]; tips: string[] };
  contact: { help: string; axes: Array<{ axis: string; help: string }>; signals: HelpSignal[]; tips: string[] };
}

const INTRO: Text = {
  en: 'The Privacy Index (PI) says how private an exchange is, from 0 to 100, with a letter and a colour. Every point comes from something the box verified; each reason below is a line of the table the server scores with.',
  fr: 'L’indice de confidentialité (PI) dit à quel point un échange est privé, de 0 à 100, avec une lettre et une couleur. Chaque point vient de quelque chose que le boîtier a vérifié ; chaque raison ci-dessous est une ligne de la table avec laquelle le serveur calcule.',
};

const LETTER_HELP: Record<string, Text> = {
  A: { en: 'Very private: sealed, signed and well travelled.', fr: 'Très privé : scellé, signé et bien acheminé.' },
  B: { en: 'Private: well protected on the way, a step short of sealed.', fr: 'Privé : bien protégé en route, à un pas d’être scellé.' },
  C: { en: 'Fair: protected on the way, the sender is checked, nothing more.', fr: 'Correct : protégé en route, l’expéditeur est vérifié, sans plus.' },
  D: { en: 'Weak: little is verified about its travel or its sender.', fr: 'Faible : peu de choses sont vérifiées sur son trajet ou son expéditeur.' },
  E: { en: 'Exposed: like a postcard, anyone on the way could read or forge it.', fr: 'Exposé : comme une carte postale, n’importe qui sur le trajet pouvait la lire ou la falsifier.' },
};

const COLOUR_HELP: Record<string, Text> = {
  red: { en: 'Red: act on it — the exchange is barely protected.', fr: 'Rouge : à améliorer — l’échange est à peine protégé.' },
  pink: { en: 'Pink: some protection, much is missing.', fr: 'Rose : un peu de protection, il manque beaucoup.' },
  amber: { en: 'Amber: decent protection, a few steps to go.', fr: 'Ambre : une protection honnête, encore quelques pas.' },
  green: { en: 'Green: well protected.', fr: 'Vert : bien protégé.' },
};

const MESSAGE_HELP: Text = {
  en: 'A message’s PI adds the points of its reasons on three axes: how it travelled to us, whether its sender is verified, and what its content reveals. No point is given for what could not be verified.',
  fr: 'Le PI d’un message additionne les points de ses raisons sur trois axes : comment il nous est parvenu, si son expéditeur est vérifié, et ce que son contenu révèle. Aucun point n’est donné pour ce qui n’a pas pu être vérifié.',
};

const AXIS_HELP: Record<string, Text> = {
  travel: { en: 'Travel: was the message encrypted on its way, and through how many servers.', fr: 'Trajet : le message était-il chiffré en route, et par combien de serveurs est-il passé.' },
  sender: { en: 'Sender: is the sender really who they claim, and do you know them.', fr: 'Expéditeur : est-il vraiment celui qu’il prétend être, et le connaissez-vous.' },
  content: { en: 'Content: is it sealed end to end, signed, free of trackers.', fr: 'Contenu : est-il scellé de bout en bout, signé, sans pisteur.' },
  access: { en: 'Access: how well the way into your account is guarded.', fr: 'Accès : à quel point l’entrée de votre compte est gardée.' },
  keys: { en: 'Keys: whether you and your contacts can seal your mail.', fr: 'Clés : si vous et vos contacts pouvez sceller vos messages.' },
  exchanges: { en: 'Exchanges: how much of your recent mail was actually sealed.', fr: 'Échanges : quelle part de votre courrier récent a vraiment été scellée.' },
  trust: { en: 'Trust: whether the device was verified and proves itself with its own key.', fr: 'Confiance : l’appareil a-t-il été vérifié, et se prouve-t-il avec sa propre clé.' },
  kind: { en: 'Kind: a personal device is safer than one shared with others.', fr: 'Type : un appareil personnel est plus sûr qu’un appareil partagé.' },
  use: { en: 'Use: how the device reaches the box, from where, and how recently.', fr: 'Usage : comment l’appareil joint le boîtier, d’où, et depuis quand.' },
};

const DISCUSSION_HELP: Text = {
  en: 'A discussion’s PI is the lowest PI of its recent messages: a chain is as strong as its weakest link. An arrow shows whether it is rising or falling.',
  fr: 'Le PI d’une discussion est le plus bas PI de ses messages récents : une chaîne n’est pas plus solide que son maillon le plus faible. Une flèche indique s’il monte ou descend.',
};

const ACCOUNT_HELP: Text = {
  en: 'Your account’s PI measures how well the account itself is protected and how much of your mail is sealed. It rises as you act on the tips below.',
  fr: 'Le PI de votre compte mesure à quel point le compte lui-même est protégé et quelle part de votre courrier est scellée. Il monte à mesure que vous suivez les conseils ci-dessous.',
};

const ACCOUNT_TIPS: Text[] = [
  { en: 'Use a long passphrase you use nowhere else.', fr: 'Utilisez une longue phrase secrète que vous n’utilisez nulle part ailleurs.' },
  { en: 'Ask your contacts for their encryption keys, and give them yours: sealed mail raises every side’s PI.', fr: 'Demandez leurs clés de chiffrement à vos contacts et donnez-leur la vôtre : le courrier scellé fait monter le PI de chacun.' },
  { en: 'Log out of shared computers and remove the devices you no longer use.', fr: 'Déconnectez-vous des ordinateurs partagés et retirez les appareils que vous n’utilisez plus.' },
];

const DEVICE_HELP: Text = {
  en: 'Each device you log in from (browser, phone…) has its own PI: what kind of device it is, how it reaches the box, from where, and how recently it was used.',
  fr: 'Chaque appareil depuis lequel vous vous connectez (navigateur, téléphone…) a son propre PI : quel type d’appareil c’est, comment il joint le boîtier, d’où, et depuis quand il a servi.',
};

const CONTACT_HELP: Text = {
  en: 'A contact’s PI says how privately you can write to them: whether you hold their key and checked it, how much of your mail with them was sealed, and how their last message travelled.',
  fr: 'Le PI d’un contact dit à quel point vous pouvez lui écrire en privé : avez-vous sa clé et l’avez-vous vérifiée, quelle part de votre courrier avec lui était scellée, et comment son dernier message a voyagé.',
};

const CONTACT_TIPS: Text[] = [
  { en: 'Check a contact’s key fingerprint with them in person or by phone, then mark it verified.', fr: 'Vérifiez l’empreinte de la clé d’un contact avec lui, en personne ou par téléphone, puis marquez-la vérifiée.' },
  { en: 'Once you hold their key, write to them sealed: every sealed exchange counts.', fr: 'Une fois sa clé en main, écrivez-lui scellé : chaque échange scellé compte.' },
];

const DEVICE_TIPS: Text[] = [
  { en: 'Name each device for what it is: a shared computer earns nothing, and you should log out of it when you leave.', fr: 'Déclarez chaque appareil pour ce qu’il est : un ordinateur partagé ne rapporte rien, et il faut s’en déconnecter en partant.' },
  { en: 'Reach the box over HTTPS when you are away from home.', fr: 'Joignez le boîtier en HTTPS quand vous n’êtes pas chez vous.' },
  { en: 'Remove the devices you no longer use: their sessions end at once.', fr: 'Retirez les appareils que vous n’utilisez plus : leurs sessions se terminent aussitôt.' },
];

/** Consecutive scores 0–100 that f maps to the same value, lowest band first. */
export function bandsOf<K extends string>(f: (score: number) => K): Array<{ key: K; min: number; max: number }> {
  const out: Array<{ key: K; min: number; max: number }> = [];
  for (let s = 0; s <= 100; s++) {
    const key = f(s);
    const last = out[out.length - 1];
    if (last && last.key === key) last.max = s;
    else out.push({ key, min: s, max: s });
  }
  return out;
}

function signalsOf(table: Record<string, { axis: string; points: number; help: Text }>, lang: Lang): HelpSignal[] {
  return Object.entries(table).map(([signal, w]) => ({ signal, axis: w.axis, points: w.points, help: w.help[lang] }));
}

/** The axes the signals use, in table order (no maximum: some signals exclude others, TLS 1.3 or 1.2). */
function axesOf(signals: HelpSignal[], lang: Lang): Array<{ axis: string; help: string }> {
  return [...new Set(signals.map((s) => s.axis))].map((axis) => ({ axis, help: AXIS_HELP[axis]?.[lang] ?? axis }));
}

export function piHelp(lang: Lang): PiHelp {
  const text = (table: Record<string, Text>, key: string) => table[key]?.[lang] ?? key;
  const message = signalsOf(WEIGHTS, lang);
  const account = signalsOf(ACCOUNT_WEIGHTS, lang);
  const device = signalsOf(DEVICE_WEIGHTS, lang);
  const contact = signalsOf(CONTACT_WEIGHTS, lang);
  return {
    lang,
    intro: INTRO[lang],
    scale: { min: 0, max: 100 },
    // Best first, as a legend reads.
    letters: bandsOf(piLetter).reverse().map((b) => ({ ...b, help: text(LETTER_HELP, b.key) })),
    colours: bandsOf(piColour).reverse().map((b) => ({ ...b, help: text(COLOUR_HELP, b.key) })),
    message: { help: MESSAGE_HELP[lang], axes: axesOf(message, lang), signals: message },
    discussion: { help: DISCUSSION_HELP[lang] },
    account: { help: ACCOUNT_HELP[lang], axes: axesOf(account, lang), signals: account, tips: ACCOUNT_TIPS.map((t) => t[lang]) },
    device: { help: DEVICE_HELP[lang], axes: axesOf(device, lang), signals: device, tips: DEVICE_TIPS.map((t) => t[lang]) },
    contact: { help: CONTACT_HELP[lang], axes: axesOf(contact, lang), signals: contact, tips: CONTACT_TIPS.map((t) => t[lang]) },
  };
}
