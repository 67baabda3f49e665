/**
 * Enhanced status codes (RFC 3463, registry of RFC 5248) in plain words, in the two languages of
 * the box, and which failures are "hard": the address itself is bad (no such mailbox, no such
 * domain, domain accepting no mail), so sending again will not help. Used to write our own DSNs
 * and to read other MTAs' reports.
 */

export type Lang = 'en' | 'fr';

interface Entry {
  /** exact code ("5.1.1") or class-and-subject prefix ("5.7.") */
  match: string;
  en: string;
  fr: string;
}

// Most specific first: exact codes, then subject prefixes, then the class.
const TABLE: Entry[] = [
  { match: '5.1.1', en: "the recipient's server says this address does not exist", fr: "le serveur du destinataire indique que cette adresse n'existe pas" },
  { match: '5.1.2', en: "the recipient's domain could not be found", fr: 'le domaine du destinataire est introuvable' },
  { match: '5.1.3', en: 'the address is not written correctly', fr: "l'adresse n'est pas écrite correctement" },
  { match: '5.1.6', en: 'the recipient has moved and no longer receives mail at this address', fr: "le destinataire a déménagé et ne reçoit plus de courrier à cette adresse" },
  { match: '5.1.10', en: "the recipient's domain says it accepts no mail at all: it publishes a null MX", fr: "le domaine du destinataire indique qu'il ne reçoit aucun courrier : il publie un MX nul" },
  { match: '5.2.1', en: "the recipient's mailbox is disabled", fr: 'la boîte du destinataire est désactivée' },
  { match: '5.2.2', en: "the recipient's mailbox is full", fr: 'la boîte du destinataire est pleine' },
  { match: '4.2.2', en: "the recipient's mailbox is full for now", fr: 'la boîte du destinataire est pleine pour le moment' },
  { match: '5.2.3', en: 'the message is larger than the recipient accepts', fr: 'le message est plus gros que ce que le destinataire accepte' },
  { match: '5.3.4', en: 'the message is larger than the recipient\'s server accepts', fr: 'le message est plus gros que ce que le serveur du destinataire accepte' },
  { match: '5.4.4', en: "no mail server could be found for the recipient's domain, which may not exist", fr: "aucun serveur de courrier n'a été trouvé pour le domaine du destinataire, qui n'existe peut-être pas" },
  { match: '4.4.7', en: 'it could not be delivered in time and the box gave up', fr: "il n'a pas pu être remis à temps et la boîte a abandonné" },
  { match: '5.4.7', en: 'it could not be delivered in time and the box gave up', fr: "il n'a pas pu être remis à temps et la boîte a abandonné" },
  { match: '5.7.1', en: "the recipient's server refused it, as spam or by its policy", fr: "le serveur du destinataire l'a refusé, comme spam ou selon sa politique" },
  { match: '5.7.23', en: "the recipient's server refused it: the sender's domain did not authorise this server (SPF)", fr: "le serveur du destinataire l'a refusé : le domaine de l'expéditeur n'autorise pas ce serveur (SPF)" },
  { match: '5.7.25', en: "the recipient's server refused it: this server's address has no valid reverse DNS name", fr: "le serveur du destinataire l'a refusé : l'adresse de ce serveur n'a pas de nom inverse (DNS) valide" },
  { match: '5.7.26', en: "the recipient's server refused it: the message failed its SPF, DKIM or DMARC checks", fr: "le serveur du destinataire l'a refusé : le message n'a pas passé ses contrôles SPF, DKIM ou DMARC" },
  { match: '5.7.', en: "the recipient's server refused it by its security or spam policy", fr: "le serveur du destinataire l'a refusé selon sa politique de sécurité ou anti-spam" },
  { match: '4.7.', en: "the recipient's server is refusing it for now, by greylisting or a rate limit", fr: 'le serveur du destinataire le refuse pour le moment, par liste grise ou limite de débit' },
  { match: '5.1.', en: 'the recipient address was refused', fr: "l'adresse du destinataire a été refusée" },
  { match: '5.2.', en: "the recipient's mailbox cannot take it", fr: 'la boîte du destinataire ne peut pas le recevoir' },
  { match: '4.2.', en: "the recipient's mailbox cannot take it for now", fr: 'la boîte du destinataire ne peut pas le recevoir pour le moment' },
  { match: '5.3.', en: "the recipient's mail system has a problem", fr: 'le système de courrier du destinataire a un problème' },
  { match: '4.3.', en: "the recipient's mail system has a temporary problem", fr: 'le système de courrier du destinataire a un problème passager' },
  { match: '4.4.', en: "the recipient's server did not answer, a network or connection problem", fr: 'le serveur du destinataire ne répond pas, un problème de réseau ou de connexion' },
  { match: '5.4.', en: "the recipient's server could not be reached", fr: "le serveur du destinataire n'a pas pu être joint" },
  { match: '5.5.', en: "the recipient's server did not understand our request", fr: "le serveur du destinataire n'a pas compris notre demande" },
  { match: '5.6.', en: "the recipient's server refused the message's content or format", fr: 'le serveur du destinataire a refusé le contenu ou le format du message' },
  { match: '5.', en: "the recipient's server refused it", fr: "le serveur du destinataire l'a refusé" },
  { match: '4.', en: "the recipient's server could not take it for now", fr: "le serveur du destinataire n'a pas pu le prendre pour le moment" },
];

const HARD = new Set(['5.1.1', '5.1.2', '5.1.3', '5.1.6', '5.1.10', '5.4.4']);

export const STATUS_RE = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;

/** "5.01.001" → "5.1.1"; null for anything that is not an enhanced status code. */
export function normalizeStatus(s: string | null | undefined): string | null {
  const m = s?.match(STATUS_RE);
  return m ? `${m[1]}.${Number(m[2])}.${Number(m[3])}` : null;
}

/** The plain explanation of a status, from the most specific entry that matches. */
export function explainStatus(status: string | null, lang: Lang): string {
  const s = normalizeStatus(status) ?? '5.0.0';
  const e = TABLE.find((x) => (x.match.endsWith('.') ? s.startsWith(x.match) : s === x.match));
  return e ? e[lang] : explainStatus('5.0.0', lang);
}

/**
 * Patterns of the address itself being bad, for reports that give no specific status. Mailbox
 * full, disabled accounts and policy rejections are not hard: the address exists.
 */
const BAD_ADDRESS = new RegExp(
  [
    String.raw`(user|recipient|mailbox|address|account|addressee)( name)?( is| was)? (unknown|not found|does ?n[o']t exist|not exist|invalid|not valid)`,
    String.raw`no such (user|mailbox|recipient|address|account|person|local user)`,
    String.raw`unknown (user|recipient|local[- ]part|mailbox|address|e-?mail address|account)`,
    String.raw`(invalid|bad|unknown|illegal) (recipient|mailbox|address|destination)`,
    String.raw`(does not|doesn't|did not) (exist|have an? .{0,40}account)`,
    String.raw`not (a|an) (valid|known) (user|mailbox|recipient)`,
    String.raw`(user|mailbox|recipient|account) (not|unknown) (found|here|listed|exist)`,
    String.raw`no mailbox (here|by that name)|mailbox unavailable|recipient address rejected: access denied|(recipient|user)( name)? is not recognized`,
    String.raw`user ?unknown|unknownuser|recipnotfound|not listed in .*(directory|address book)`,
    String.raw`host (or domain name )?(not found|unknown)|unknown host|domain (not found|does not exist|name not found|is not reachable)|no such domain|unrouteable (mail )?(domain|address)|nxdomain`,
    String.raw`no mx record|null mx|(domain|host) (does not|doesn't) accept (any )?mail|accepts no mail|no smtp service`,
    String.raw`(has|have) moved|no longer (valid|available|active|in use|receives?)`,
  ].join('|'),
  'i',
);
/** The address exists, or the failure is elsewhere: the sender, the content, the network, a full mailbox. */
const NOT_ADDRESS =
  /quota|\bfull\b|over ?limit|too (big|large)|spam|blocked|black ?list|block ?list|reputation|policy|from your (network|ip|server)|timed? ?out|relay(ing)? (access )?denied|not permitted to relay|try again|temporar|server failure|malformed|sender address|domain of sender/i;

/**
 * The address itself (or its domain) is bad: sending again will not help. Only for a recipient the
 * report says failed; a 4.x.x status then counts too (the MTA gave up on "450 4.1.1 user unknown").
 */
export function isHardFailure(status: string | null, code: string | null, diagnostic: string | null): boolean {
  const s = normalizeStatus(status);
  if (s?.startsWith('2') || code?.startsWith('2') || (diagnostic && NOT_ADDRESS.test(diagnostic))) return false;
  if (s && HARD.has('5' + s.slice(1))) return true;
  return !!diagnostic && BAD_ADDRESS.test(diagnostic);
}
