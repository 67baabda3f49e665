/**
 * Reading the bounces that carry no machine-readable report: qmail, Exim, old Sendmail, Exchange,
 * Gmail, Yahoo, Domino, GroupWise and friends write a notice for humans, list the failed addresses
 * in it and quote the original message below a separator line. These heuristics find that notice,
 * the failed addresses and the remote server's reply; they never look past the separator for
 * recipients (the quoted original is full of addresses that did not fail).
 */
import { normalizeStatus, isHardFailure } from './status-codes.js';
import { readDiagnostic, emailsIn, type BounceRecipient } from './bounce-fields.js';

/** Phrases only a delivery failure or delay notice writes, in the languages seen in the wild. */
export const NDR_PHRASES = new RegExp(
  [
    String.raw`this is the mail system at host`,
    String.raw`qmail-send program`,
    String.raw`created automatically by mail delivery software`,
    String.raw`(could|can) ?not be delivered`,
    String.raw`couldn'?t be delivered`,
    String.raw`(wasn'?t|was not|were not|has not been|have not been|not been) delivered`,
    String.raw`(unable|failed|impossible) to deliver`,
    String.raw`delivery (to the following|has failed|failed|failure|problem|status notification|incomplete|not completed)`,
    String.raw`did not reach (some or all|the following)`,
    String.raw`permanent (fatal )?error`,
    String.raw`fatal errors`,
    String.raw`transcript of session follows`,
    String.raw`(undeliverable|undelivered|non-?delivery|nondeliverable)`,
    String.raw`returned (mail|to sender|message)`,
    String.raw`(rejected|refused) by (the )?(remote|recipient|destination)`,
    String.raw`following (recipients?|address(es)?|destinations?)( (was|were))? (failed|rejected|could not|undeliverable|had)`,
    String.raw`(message|mail) (delivery )?(has been |was )?(rejected|refused|bounced|blocked|returned)`,
    String.raw`error (occurred )?(while|during) (trying to )?deliver`,
    String.raw`not (yet )?been delivered`,
    String.raw`will (continue to )?(retry|try)`,
    String.raw`(mail|delivery) (failure|system error)`,
    String.raw`no such (user|mailbox|recipient|address)|(user|recipient|mailbox) (unknown|not found|does not exist)|unknown (user|recipient)|mailbox (is )?full|over ?quota`,
    String.raw`rcpt to:?\s*<?[^\s<>]+@[^\s<>]+>?[\s\S]{0,120}?[\s(:][45]\d\d[\s-]`,
    String.raw`failed (addresses|recipients?)|returning (message )?to sender`,
    String.raw`unzustellbar|nicht zugestellt|konnte nicht zugestellt`,
    String.raw`无法(发送|投递|送达)|退信|未能送达`,
    String.raw`non remis|pas pu être (remis|distribué)|n'a pas pu être|échec de (la )?remise`,
    String.raw`no (se )?(ha )?podido entregar|no pudo ser entregado`,
    String.raw`не может быть доставлено|не доставлено`,
    String.raw`届きませんでした|配送できません|送信できませんでした|宛先不明|存在しない`,
  ].join('|'),
  'i',
);

export const NDR_SUBJECT =
  /undeliver|undelivered|delivery (status|failure|notification|failed|report|problem|delayed)|returned mail|mail delivery|failure notice|non-?delivery|nondeliverable|could not (be )?deliver|not (been )?delivered|mail (system )?error|delivery error|rejected|bounce|warning: could not send|unzustellbar|nicht zugestellt|non remis|non distribu|no entregado|échec|delivery has failed|returned to sender|message (not|was not) delivered|mail failure|retardé|delayed mail|unable to deliver|failed delivery|failed mail|mail failed|returning (message )?to sender|エラー|不達|未達|配信でき|送信でき|返送/i;

const DELAY =
  /has not (yet )?been delivered|not yet been delivered|will (continue to )?(retry|try)|will be retried|still (trying|being retried)|delivery (is |has been )?delayed|delayed mail|delivery delay|warning: (message|could not send)|is still in the queue|THIS IS A WARNING MESSAGE ONLY|do not need to resend|\(delay\)|retardé|nouvel essai/i;
const PERMANENT = /permanent|fatal|gave up|given up|giving up|failed permanently|have been failed|will not be retried|no further attempts|retry (time(out)?|period) (exceeded|expired)|expired/i;

/** Where the quoted original starts in a notice. */
const ORIGINAL_SEPARATOR =
  /^[ \t>]*[-=_*#~+|]*[ \t]*(-+ ?)?(original message|returned message|unsent message|undelivered message|a copy of (the|your) (original )?message|this is a copy of|below this line is a copy|(original )?message headers? (follows?|is following|of the)|the header of the original message|headers? of (the )?(original|your|returned) (message|mail)|original (mail|e-?mail|message) (follows|headers?)|message text follows|returned mail follows|rejected message|included is a copy|your message reads|content of (the )?original message|bounced e-?mail|(here is )?a copy of the (first part|beginning) of (the|your) message|start of (the )?returned message|the header and .{0,30}(lines|body) of the message follows?)|^.{0,40}\b(original|returned|unsent|undelivered) (message|mail|e-?mail) (follows?|below|is attached|as received)/im;

export function cutAtOriginal(text: string): { notice: string; original: string } {
  const m = ORIGINAL_SEPARATOR.exec(text);
  if (!m) return { notice: text, original: '' };
  return { notice: text.slice(0, m.index), original: text.slice(m.index) };
}

export function isDelayNotice(subject: string, notice: string): boolean {
  if (/warn|delay|retard|verzögert|still being retried/i.test(subject)) return true;
  return DELAY.test(notice) && !PERMANENT.test(notice);
}

const DAEMON = /^(mailer-daemon|mailer_daemon|mail-daemon|mdaemon|maildaemon|double-bounce)@/i;
const FOLLOWING = /(following|these|this) (recipients?|address(es)?|addresses\(es\)|destination|e-?mail address)|address\(es\) failed|not delivered to|not reach the following|did not reach|failed recipients?|unknown (user|recipient)s?:|was undeliverable|could not be delivered to|delivery to the following|destinataires? suivants?|folgende[nr]? (Empfänger|Adresse)|to the following address/i;
const SMTP_REPLY = /(?:^|[\s:(\[])[45][0-5]\d(?=[\s-]|$)|\b[45]\.\d{1,3}\.\d{1,3}\b/;

interface Candidate {
  address: string;
  score: number;
  line: number;
}

/**
 * Scores every address in the notice by how much its place looks like a failed recipient's.
 * `unlikely` addresses (the bounce's addressee, the original's sender) lose points but are not
 * ruled out: people do write to themselves.
 */
function candidates(lines: string[], exclude: Set<string>, unlikely: Set<string>): Candidate[] {
  const found = new Map<string, Candidate>();
  let listOpen = -10;
  lines.forEach((line, i) => {
    if (FOLLOWING.test(line)) listOpen = i;
    for (const m of emailsIn(line)) {
      // X.400 and Exchange forms ("dda:SMTP=bob@example.org") are read by emailsIn
      const address = m.address;
      if (exclude.has(address) || DAEMON.test(address) || address.includes('/') || address.startsWith('|')) continue; // pipes and files of local deliveries
      const before = line.slice(0, m.index);
      const after = line.slice(m.index + m.raw.length);
      if (/message-?id|\bid\b|references|in-reply-to|\bfrom\b\s*:?\s*<?$|mail from:?\s*<?$|envelope-from|sender|return-path/i.test(before)) continue;
      let score = unlikely.has(address) ? -3 : 0;
      if (/^\s*(to|cc|subject|sent|date)\s*:/i.test(before)) score -= 2; // the original's headers, echoed
      if (/^\s*>/.test(line)) score -= 2; // quoted
      const rest = (before + after).replace(/[<>"'\s:,;.()[\]]/g, '');
      if (!rest || /^\s*<?$/.test(before) || /^on\b|^\(|^\.\.\./i.test(after.trim().replace(/^[>:]\s*/, ''))) score += 3;
      if (/rcpt to:?\s*<?$/i.test(before)) score += 3;
      if (/(deliver(y|ed)?|send|sent|message|mail)\b[^@]{0,30}\bto:?\s*['"<]?$/i.test(before)) score += 3;
      else if (/(recipient|address|adresse|destinataire|empfänger|user|mailbox|to|an|à|for)\b[^@]{0,25}$/i.test(before)) score += 2;
      if (/(contact|assistance|questions?|write to|help|information)\b[^@]{0,25}$/i.test(before) || /^postmaster@/.test(address)) score -= 3;
      if (i - listOpen <= 4) score += 2;
      if (SMTP_REPLY.test(line) || SMTP_REPLY.test(lines[i + 1] ?? '') || /unknown|not exist|invalid|rejected|refused|failed|full|quota|error|unable|could not|couldn't/i.test(line + (lines[i + 1] ?? ''))) score += 1;
      const prev = found.get(address);
      if (!prev || prev.score < score) found.set(address, { address, score, line: i });
    }
  });
  return [...found.values()];
}

/** The lines that follow a recipient, up to an empty line or the next recipient. */
function blockAfter(lines: string[], from: number, starts: Set<number>): string {
  const out = [lines[from]!];
  for (let i = from + 1; i < Math.min(lines.length, from + 8); i++) {
    if (!lines[i]!.trim() || starts.has(i)) break;
    out.push(lines[i]!);
  }
  return out.join(' ');
}

/** The remote server's reply when it is not next to the address (Gmail, Yahoo): the first line with a code. */
function globalDiagnostic(lines: string[]): string | null {
  const i = lines.findIndex((l) => SMTP_REPLY.test(l) && !/^\s*(received|date|x-[\w-]+):/i.test(l));
  if (i < 0) return null;
  return [lines[i], /^\s+\S/.test(lines[i + 1] ?? '') ? lines[i + 1] : ''].join(' ').replace(/\s+/g, ' ').trim();
}

/** When the address stands alone, the reason is often the next paragraph ("because:", Domino, Notes). */
function paragraphAfter(lines: string[], from: number): string | null {
  let i = from + 1;
  while (i < lines.length && i <= from + 3 && !lines[i]!.trim()) i++;
  const out: string[] = [];
  for (; i < lines.length && out.length < 3 && lines[i]!.trim(); i++) out.push(lines[i]!.trim());
  const text = out.join(' ');
  return text && !emailsIn(text).length && !/^-{3,}|^[\w-]+:\s/.test(text) ? text : null;
}

function recipient(address: string, diagnosticLine: string | null, action: BounceRecipient['action']): BounceRecipient {
  const d = readDiagnostic(diagnosticLine);
  const status = normalizeStatus(d.status);
  return {
    address, action, status, code: d.code, diagnostic: d.text?.slice(0, 1000) ?? null,
    hard: action === 'failed' && isHardFailure(status, d.code, d.text),
  };
}

/**
 * Failed (or delayed) recipients named in a notice written for humans. `only`: the MTA listed them
 * in a header (X-Failed-Recipients), the notice just gives their reasons. `fallback`: whom the
 * returned original was for, when the notice names nobody.
 */
export function recipientsFromText(
  notice: string, exclude: { never: Set<string>; unlikely: Set<string> }, action: BounceRecipient['action'],
  opts: { fallback?: string[]; only?: string[] } = {},
): BounceRecipient[] {
  // long lines are never a recipient's; cutting them keeps every pattern below linear enough
  const lines = notice.split('\n').slice(0, 400).map((l) => l.slice(0, 1000));
  // the envelope sender quoted in a transcript ("MAIL FROM:<…>") did not fail
  const unlikely = new Set([...exclude.unlikely, ...[...notice.matchAll(/mail from:\s*<([^<>\s]+@[^<>\s]+)>/gi)].map((m) => m[1]!.toLowerCase())]);
  const all = candidates(lines, exclude.never, unlikely);
  const best = Math.max(0, ...all.map((c) => c.score));
  const only = opts.only;
  const chosen = only ? all.filter((c) => only.includes(c.address)) : all.filter((c) => c.score >= 3 || (best < 3 && best >= 1 && c.score === best)).slice(0, 50);
  const starts = new Set(chosen.map((c) => c.line));
  const global = globalDiagnostic(lines);
  const fromLine = (c: Candidate): BounceRecipient => {
    const block = blockAfter(lines, c.line, starts);
    const alone = emailsIn(block).reduce((b, e) => b.replace(e.raw, ''), block).replace(/[<>"'\s:,;.()[\]]/g, '') === '';
    return recipient(c.address, SMTP_REPLY.test(block) ? block : global ?? (alone ? paragraphAfter(lines, c.line) : null) ?? block, action);
  };
  if (only) return only.map((a) => chosen.find((c) => c.address === a)).map((c, i) => (c ? fromLine(c) : recipient(only[i]!, global, action)));
  if (!chosen.length) return (opts.fallback ?? []).filter((a) => !exclude.never.has(a)).map((a) => recipient(a, global, action));
  return chosen.map(fromLine);
}

/** Message-ID of the quoted original: the first Message-ID line below the separator (or anywhere, when there is none). */
export function messageIdInText(text: string): string | null {
  const m = text.match(/^[ \t>]*message-id:[ \t]*\n?[ \t]*<?([^\s<>]+@[^\s<>]+?)>?\s*$/im);
  return m ? m[1]! : null;
}
