/**
 * The one table of weights. Analyzers (rules.ts) only say which signals they saw; how much each one
 * counts lives here, so tuning never touches detection code and the UI can explain a verdict from it.
 *
 * `spam` is in log-odds: the verdict is sigmoid(SPAM_PRIOR + Σ spam + learned filter). +1 roughly
 * multiplies the odds of spam by e. `importance` is in points added to the −10..10 importance.
 */

export interface Weight {
  spam?: number;
  importance?: number;
  /** what the signal means, in plain words for the UI */
  about: string;
}

/**
 * A message with no evidence either way scores sigmoid(−2) ≈ 0.12. Reaching the threshold (0.5) takes
 * +2 of evidence: DMARC failing under a reject/quarantine policy alone, or the learned filter at ≥ 0.88,
 * or two independent weaker signals (e.g. SPF fail + an IP-address link), never one weak one.
 */
export const SPAM_PRIOR = -2;
export const SPAM_THRESHOLD = 0.5;

/** The learned filter's probability enters as its log-odds, capped so that it alone cannot outvote hard evidence. */
export const BAYES_MAX_LOGIT = 6;

export const WEIGHTS = {
  // content
  SPAM_GTUBE: { spam: 30, about: 'the standard anti-spam test string (GTUBE)' },
  SPAM_SUBJECT_ALL_CAPS: { spam: 0.8, about: 'the subject is written in capitals' },
  SPAM_URL_IP_HOST: { spam: 1.5, about: 'a link points to a bare IP address instead of a name' },
  SPAM_URL_SHORTENER: { spam: 0.8, about: 'a link goes through a URL shortener, hiding where it leads' },
  SPAM_FROM_NAME_SPOOF: { spam: 1.8, about: 'the sender name shows another domain than the real address' },
  SPAM_EXECUTABLE_ATTACHMENT: { spam: 2.5, about: 'an attached file is a program' },
  SPAM_DOUBLE_EXTENSION: { spam: 1.5, about: 'an attachment name hides its real type (report.pdf.exe)' },
  SPAM_MACRO_ATTACHMENT: { spam: 1.0, about: 'an attached document may contain macros' },
  SPAM_EMPTY_BODY_LINK: { spam: 1.2, about: 'almost no text, just a link' },
  SPAM_MISSING_MESSAGE_ID: { spam: 0.4, about: 'no Message-ID header, which real mail programs always add' },
  SPAM_MISSING_DATE: { spam: 0.4, about: 'no Date header' },
  // authentication
  SPAM_DMARC_FAIL: { spam: 3.5, about: 'the sender domain asks to reject or quarantine mail that fails its checks, and this one fails' },
  SPAM_DMARC_FAIL_POLICY_NONE: { spam: 0.8, about: 'the message fails the sender domain’s DMARC checks (the domain asks for no action)' },
  SPAM_DKIM_FAIL: { spam: 1.0, about: 'the DKIM signature does not verify' },
  SPAM_SPF_FAIL: { spam: 1.0, about: 'the sending server is not allowed to send for this domain (SPF)' },
  SPAM_SPF_SOFTFAIL: { spam: 0.4, about: 'the sending server is probably not allowed for this domain (SPF softfail)' },
  HAM_DKIM_ALIGNED: { spam: -0.7, about: 'signed by the sender’s own domain (DKIM, aligned)' },
  // the sender's history with this user
  HAM_KNOWN_CONTACT: { spam: -3, importance: 2, about: 'the sender is one of your contacts' },
  HAM_USER_WROTE_TO: { spam: -4, importance: 3, about: 'you have written to this sender' },
  HAM_SENDER_SEEN: { spam: -0.5, about: 'you received mail from this sender before and never marked it spam' },
  SPAM_SENDER_MARKED_BEFORE: { spam: 3, about: 'you marked mail from this sender as spam before' },
  SPAM_KNOWN_SENDER_FORGED: { spam: 1.5, about: 'claims to come from someone you know, but fails the sender’s domain checks' },
  // the learned filter (its weight is its own log-odds; these only explain it)
  SPAM_BAYES_HIGH: { about: 'your learning filter finds it very like the mail you marked spam' },
  SPAM_BAYES_LEANING: { about: 'your learning filter finds it somewhat like the mail you marked spam' },
  HAM_BAYES_LEANING: { about: 'your learning filter finds it somewhat like the mail you kept' },
  HAM_BAYES_LOW: { about: 'your learning filter finds it very like the mail you kept' },
  BAYES_UNTRAINED: { about: 'your learning filter needs more examples of spam and not-spam to give an opinion' },
  // importance only
  IMPORTANCE_REPLY_TO_USER: { importance: 3, about: 'a reply to a message you sent' },
  IMPORTANCE_DIRECT_TO: { importance: 2, about: 'you are a direct recipient (To)' },
  IMPORTANCE_SOLE_RECIPIENT: { importance: 1, about: 'written to you alone' },
  IMPORTANCE_CC: { importance: 1, about: 'you are in copy (Cc)' },
  IMPORTANCE_CONTACT_HAS_KEY: { importance: 1, about: 'the sender can receive encrypted mail from you' },
  IMPORTANCE_URGENT: { importance: 1, about: 'someone you know marked it urgent' },
  IMPORTANCE_MAILING_LIST: { importance: -2, about: 'sent through a mailing list' },
  IMPORTANCE_BULK: { importance: -3, about: 'a newsletter or bulk mailing' },
  IMPORTANCE_AUTOMATED: { importance: -2, about: 'sent by a machine (notification, no-reply address)' },
  IMPORTANCE_SPAM: { importance: -10, about: 'judged to be spam' },
} satisfies Record<string, Weight>;

export type SignalId = keyof typeof WEIGHTS;

export function weightOf(id: SignalId): Weight {
  return WEIGHTS[id];
}
