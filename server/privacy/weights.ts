/**
 * THE weights table of the message Privacy Index (SPEC §7). Analyzers only name what they observed;
 * points come from here and nowhere else, so tuning the PI is an edit of this one file. Every signal
 * carries its help text in English and French: the UI explains each reason with it.
 *
 * Signals with 0 points are informational: they let the UI say *why* points are missing (no TLS, a
 * tracking pixel, a signature that does not verify). Penalties belong to the spam score, not the PI.
 */
import type { PiAxis, Signal } from '../mail/types.js';

export interface SignalWeight {
  axis: PiAxis;
  points: number;
  help: { en: string; fr: string };
}

export const WEIGHTS = {
  // --- travel: how the message reached us
  TLS_1_3: {
    axis: 'travel',
    points: 15,
    help: {
      en: 'Delivered over an encrypted connection (TLS 1.3, the current standard).',
      fr: 'Remis par une connexion chiffrée (TLS 1.3, la norme actuelle).',
    },
  },
  TLS_1_2: {
    axis: 'travel',
    points: 10,
    help: {
      en: 'Delivered over an encrypted connection (TLS 1.2).',
      fr: 'Remis par une connexion chiffrée (TLS 1.2).',
    },
  },
  TLS_OLD: {
    axis: 'travel',
    points: 0,
    help: {
      en: 'Delivered over an outdated encryption protocol (older than TLS 1.2) that no longer protects well.',
      fr: 'Remis par un protocole de chiffrement dépassé (antérieur à TLS 1.2) qui ne protège plus bien.',
    },
  },
  TLS_VERSION_UNKNOWN: {
    axis: 'travel',
    points: 0,
    help: {
      en: 'The last server says it received the message encrypted, but did not record how: no points without proof.',
      fr: 'Le dernier serveur indique avoir reçu le message chiffré, sans dire comment : pas de points sans preuve.',
    },
  },
  LOCAL_DELIVERY: {
    axis: 'travel',
    points: 15,
    help: {
      en: 'Written and delivered inside this box: the message never crossed the internet.',
      fr: 'Écrit et remis à l’intérieur de ce boîtier : le message n’a jamais traversé Internet.',
    },
  },
  MTA_STS: {
    axis: 'travel',
    points: 5,
    help: {
      en: 'The recipient’s domain publishes an MTA-STS policy and we followed it: the encrypted connection could not be silently downgraded.',
      fr: 'Le domaine du destinataire publie une politique MTA-STS et nous l’avons suivie : la connexion chiffrée ne pouvait pas être dégradée en silence.',
    },
  },
  NOT_YET_DELIVERED: {
    axis: 'travel',
    points: 0,
    help: {
      en: 'Not delivered yet: how it travels will be known once the recipient’s server accepts it.',
      fr: 'Pas encore remis : on saura comment il a voyagé quand le serveur du destinataire l’aura accepté.',
    },
  },
  NO_TLS: {
    axis: 'travel',
    points: 0,
    help: {
      en: 'Delivered without encryption: anyone on the way could read it, like a postcard.',
      fr: 'Remis sans chiffrement : n’importe qui sur le trajet pouvait le lire, comme une carte postale.',
    },
  },
  ALL_HOPS_TLS: {
    axis: 'travel',
    points: 10,
    help: {
      en: 'Every server-to-server step we can see was encrypted.',
      fr: 'Chaque étape visible entre serveurs était chiffrée.',
    },
  },
  HOP_WITHOUT_TLS: {
    axis: 'travel',
    points: 0,
    help: {
      en: 'At least one step of the journey was not encrypted.',
      fr: 'Au moins une étape du trajet n’était pas chiffrée.',
    },
  },
  FEW_EXTERNAL_HOPS: {
    axis: 'travel',
    points: 5,
    help: {
      en: 'The message went through few outside servers (2 or fewer) before reaching you: fewer places to copy it.',
      fr: 'Le message est passé par peu de serveurs extérieurs (2 au plus) avant de vous parvenir : moins d’endroits où le copier.',
    },
  },
  MANY_EXTERNAL_HOPS: {
    axis: 'travel',
    points: 0,
    help: {
      en: 'The message went through many outside servers before reaching you.',
      fr: 'Le message est passé par de nombreux serveurs extérieurs avant de vous parvenir.',
    },
  },
  // --- sender: can we trust who sent it
  LOCAL_SENDER: {
    axis: 'sender',
    points: 25,
    help: {
      en: 'Sent by a user of this box who signed in to send it: the sender is verified without needing SPF, DKIM or DMARC.',
      fr: 'Envoyé par un utilisateur de ce boîtier qui s’est identifié pour l’envoyer : l’expéditeur est vérifié sans avoir besoin de SPF, DKIM ou DMARC.',
    },
  },
  DKIM_PASS_ALIGNED: {
    axis: 'sender',
    points: 10,
    help: {
      en: 'Signed by the sender’s domain (DKIM), and the signature was verified.',
      fr: 'Signé par le domaine de l’expéditeur (DKIM), et la signature a été vérifiée.',
    },
  },
  DKIM_PASS_UNALIGNED: {
    axis: 'sender',
    points: 0,
    help: {
      en: 'Signed and verified (DKIM), but by another domain than the sender’s (a mailing service, for example).',
      fr: 'Signé et vérifié (DKIM), mais par un autre domaine que celui de l’expéditeur (un service d’envoi, par exemple).',
    },
  },
  DKIM_FAIL: {
    axis: 'sender',
    points: 0,
    help: {
      en: 'A DKIM signature does not verify: the message was changed on the way, or the signature is forged.',
      fr: 'Une signature DKIM ne se vérifie pas : le message a été modifié en route, ou la signature est falsifiée.',
    },
  },
  DKIM_UNVERIFIABLE: {
    axis: 'sender',
    points: 0,
    help: {
      en: 'A DKIM signature could not be checked (key missing, unsupported or DNS error).',
      fr: 'Une signature DKIM n’a pas pu être vérifiée (clé absente, non prise en charge ou erreur DNS).',
    },
  },
  DKIM_NONE: {
    axis: 'sender',
    points: 0,
    help: {
      en: 'The message is not signed by any domain (no DKIM).',
      fr: 'Le message n’est signé par aucun domaine (pas de DKIM).',
    },
  },
  SPF_PASS: {
    axis: 'sender',
    points: 5,
    help: {
      en: 'Sent from a server the sender’s domain allows (SPF).',
      fr: 'Envoyé depuis un serveur autorisé par le domaine de l’expéditeur (SPF).',
    },
  },
  SPF_FAIL: {
    axis: 'sender',
    points: 0,
    help: {
      en: 'Sent from a server the sender’s domain does not allow (SPF).',
      fr: 'Envoyé depuis un serveur que le domaine de l’expéditeur n’autorise pas (SPF).',
    },
  },
  DMARC_PASS: {
    axis: 'sender',
    points: 10,
    help: {
      en: 'The sender’s domain policy (DMARC) confirms the message comes from it.',
      fr: 'La politique du domaine de l’expéditeur (DMARC) confirme que le message vient bien de lui.',
    },
  },
  DMARC_FAIL: {
    axis: 'sender',
    points: 0,
    help: {
      en: 'The sender’s domain policy (DMARC) says this message may not come from it.',
      fr: 'La politique du domaine de l’expéditeur (DMARC) indique que ce message pourrait ne pas venir de lui.',
    },
  },
  KNOWN_CONTACT: {
    axis: 'sender',
    points: 10,
    help: {
      en: 'The sender is one of your contacts.',
      fr: 'L’expéditeur fait partie de vos contacts.',
    },
  },
  UNKNOWN_SENDER: {
    axis: 'sender',
    points: 0,
    help: {
      en: 'The sender is not in your contacts yet.',
      fr: 'L’expéditeur n’est pas encore dans vos contacts.',
    },
  },
  CONTACT_HAS_KEY: {
    axis: 'sender',
    points: 5,
    help: {
      en: 'You hold an encryption key for this contact: you can write back sealed.',
      fr: 'Vous avez une clé de chiffrement pour ce contact : vous pouvez répondre sous pli scellé.',
    },
  },
  // --- content: what the message itself reveals
  PGP_ENCRYPTED: {
    axis: 'content',
    points: 20,
    help: {
      en: 'End-to-end encrypted (OpenPGP): only you can read it, like a sealed letter.',
      fr: 'Chiffré de bout en bout (OpenPGP) : vous seul pouvez le lire, comme une lettre cachetée.',
    },
  },
  PGP_SIGNED: {
    axis: 'content',
    points: 0,
    help: {
      en: 'Carries an OpenPGP signature that has not been verified yet: no points until it is.',
      fr: 'Porte une signature OpenPGP pas encore vérifiée : pas de points tant qu’elle ne l’est pas.',
    },
  },
  SIGNATURE_VERIFIED: {
    axis: 'content',
    points: 10,
    help: {
      en: 'The sender’s OpenPGP signature was verified: it is from them and unchanged.',
      fr: 'La signature OpenPGP de l’expéditeur a été vérifiée : il vient bien de lui, sans modification.',
    },
  },
  NO_REMOTE_CONTENT: {
    axis: 'content',
    points: 5,
    help: {
      en: 'No trackers and no remote content: opening it tells nobody that you read it.',
      fr: 'Ni pisteur ni contenu distant : l’ouvrir ne signale à personne que vous l’avez lu.',
    },
  },
  REMOTE_CONTENT: {
    axis: 'content',
    points: 0,
    help: {
      en: 'Loads images or styles from the internet, which can reveal when and where you read it (blocked by default).',
      fr: 'Charge des images ou des styles depuis internet, ce qui peut révéler quand et où vous le lisez (bloqué par défaut).',
    },
  },
  TRACKING_PIXEL: {
    axis: 'content',
    points: 0,
    help: {
      en: 'Contains a tracking pixel: an invisible image that tells the sender you opened it (blocked by default).',
      fr: 'Contient un pixel espion : une image invisible qui signale à l’expéditeur que vous l’avez ouvert (bloqué par défaut).',
    },
  },
} as const satisfies Record<string, SignalWeight>;

export type SignalId = keyof typeof WEIGHTS;

export function isSignalId(id: string): id is SignalId {
  return Object.prototype.hasOwnProperty.call(WEIGHTS, id);
}

export function weightOf(id: string): SignalWeight | undefined {
  return isSignalId(id) ? WEIGHTS[id] : undefined;
}

/** Analyzers build signals through this so a misspelt id is a compile error, not a silent 0. */
export function signal(id: SignalId, detail?: string): Signal {
  return detail === undefined ? { id } : { id, detail };
}
