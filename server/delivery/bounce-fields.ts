/**
 * The machine-readable part of a standard delivery report (RFC 3464 §2, RFC 6533 for the UTF-8
 * variant): per-message fields, then one group of fields per recipient. Read forgivingly: groups
 * not separated by an empty line, several empty lines, folded values, missing Status or Action.
 */
import { normalizeStatus, isHardFailure } from './status-codes.js';

export type RecipientAction = 'failed' | 'delayed' | 'delivered' | 'unknown';

export interface BounceRecipient {
  address: string;
  /** what happened to this recipient; the report's kind summarises them */
  action: RecipientAction;
  /** enhanced status code, e.g. "5.1.1" */
  status: string | null;
  /** SMTP reply code, e.g. "550" */
  code: string | null;
  diagnostic: string | null;
  /** the address itself is bad (no such mailbox or domain): sending again will not help */
  hard: boolean;
}

export interface DeliveryStatusFields {
  reportingMta: string | null;
  recipients: BounceRecipient[];
}

const ADDRESS = /^[^@\s]{1,64}@(?:[\p{L}\p{N}-]+\.)+[\p{L}\p{N}-]{2,}$/u;

/**
 * The e-mail addresses in a text, with their positions. Tokens first, then an anchored test of
 * each: a regular expression searching for addresses in free text backtracks quadratically on
 * long runs without '@', and a hostile bounce can be made of those.
 */
export function emailsIn(text: string): Array<{ address: string; index: number; raw: string }> {
  const out: Array<{ address: string; index: number; raw: string }> = [];
  for (const m of text.matchAll(/[^\s<>"'(),;:[\]]+/g)) {
    const raw = m[0]!;
    if (raw.length > 320 || !raw.includes('@')) continue;
    const address = raw.replace(/^smtp=/i, '').replace(/^[.'`-]+|[.]+$/g, '');
    if (ADDRESS.test(address)) out.push({ address: address.toLowerCase(), index: m.index!, raw });
  }
  return out;
}

/** "rfc822; <Bob@Example.org>" → "bob@example.org" */
export function addressOfField(value: string | undefined): string | null {
  if (!value) return null;
  return emailsIn(value.slice(0, 1000).replace(/^\s*(rfc822|utf-8|x-[\w-]+|unknown)\s*;/i, ''))[0]?.address ?? null;
}

/** "smtp; 550-5.1.1 The email account…" → code, status, text */
export function readDiagnostic(value: string | null): { code: string | null; status: string | null; text: string | null } {
  if (!value) return { code: null, status: null, text: null };
  const text = value.slice(0, 2000).replace(/^\s*(smtp|x-[\w-]+|unix|mail)\s*;\s*/i, '').replace(/\s+/g, ' ').trim();
  // The reply code starts the text, or follows a host name ("host mx said: 550 …"). In a session
  // transcript the failing reply matters, not the 250s before it.
  const codes = [...text.matchAll(/(?:^|[\s:(\[<'])([245][0-5]\d)(?=[\s-]|$)/g)].map((m) => m[1]!);
  const code = codes.find((c) => c[0] !== '2') ?? codes[0] ?? null;
  // the enhanced code the remote server gave with its reply ("550-'5.2.2 …"), else the first failing one
  const replied = text.match(/\b[45]\d\d[\s-]+['"#]?([45]\.\d{1,3}\.\d{1,3})\b/)?.[1];
  const statuses = [...text.matchAll(/\b[245]\.\d{1,3}\.\d{1,3}\b/g)].map((m) => m[0]);
  const status = normalizeStatus(replied ?? statuses.find((x) => x[0] !== '2') ?? statuses[0]);
  return { code, status, text: text || null };
}

/**
 * The status the remote server gave in its reply ("550 5.7.1 …") is first-hand; the reporting MTA's
 * Status is often its own mapping (5.0.0, or 5.1.1 for any 550). Same class only: a 4.x.x reply
 * in a failed report (given up after retries) keeps the report's 5.x.x.
 */
export function preferredStatus(declared: string | null, diag: { code: string | null; status: string | null; text: string | null }, action?: string): string | null {
  if (!declared) return diag.status;
  // "expired" is the report's verdict on the whole delivery; the reply is only the last attempt's
  if (!diag.status || /^[45]\.4\.7$/.test(declared)) return declared;
  // a failed recipient whose reply was permanent: the report's 4.x.x is a mistake of its MTA
  if (diag.status[0] !== declared[0]) return /^fail/i.test(action ?? '') && diag.status[0] === '5' ? diag.status : declared;
  const replied = diag.text ? new RegExp(`^\\W*${diag.code ?? '[245]\\d\\d'}[\\s-]+#?${diag.status.replace(/\./g, '\\.')}`).test(diag.text) : false;
  return replied || /\.0\.0$/.test(declared) ? diag.status : declared;
}

function actionOf(value: string | undefined, status: string | null): RecipientAction {
  const a = (value ?? '').trim().toLowerCase();
  if (a.startsWith('fail')) return 'failed';
  if (a.startsWith('delay')) return 'delayed';
  if (/^(delivered|relayed|expanded)/.test(a)) return 'delivered';
  if (status?.startsWith('5')) return 'failed';
  if (status?.startsWith('4')) return 'delayed';
  if (status?.startsWith('2')) return 'delivered';
  return 'unknown';
}

/** Field groups of the report body: a new group starts at an empty line or at a second *-Recipient field. */
function fieldGroups(text: string): Array<Map<string, string>> {
  const groups: Array<Map<string, string>> = [];
  let cur = new Map<string, string>();
  let last: string | null = null;
  const close = () => {
    if (cur.size) groups.push(cur);
    cur = new Map();
    last = null;
  };
  for (const line of text.split('\n')) {
    if (!line.trim()) {
      close();
      continue;
    }
    if (/^[ \t]/.test(line) && last) {
      cur.set(last, cur.get(last)! + ' ' + line.trim());
      continue;
    }
    const m = line.match(/^([A-Za-z][\w-]*)\s*:\s*(.*)$/);
    if (!m) continue;
    const name = m[1]!.toLowerCase();
    // A repeated field opens the next recipient (groups not separated by an empty line); so does an
    // Original-Recipient after a complete group. The order of fields inside a group varies in the wild.
    const startsRecipient = name === 'original-recipient' && cur.has('final-recipient') && cur.has('action');
    if (startsRecipient || cur.has(name)) close();
    cur.set(name, m[2]!.trim());
    last = name;
  }
  close();
  return groups;
}

export function parseDeliveryStatus(text: string): DeliveryStatusFields {
  let reportingMta: string | null = null;
  const recipients: BounceRecipient[] = [];
  for (const g of fieldGroups(text)) {
    if (g.has('reporting-mta') && !reportingMta) reportingMta = g.get('reporting-mta')!.replace(/^\s*[\w-]+\s*;\s*/, '').trim() || null;
    // The original recipient is the address as the sender wrote it (RFC 3464 §2.3.1), the one a
    // sent message's recipients are matched on; the final one may be an alias's expansion.
    const address = addressOfField(g.get('original-recipient')) ?? addressOfField(g.get('final-recipient')) ?? addressOfField(g.get('x-actual-recipient'));
    if (!address) continue;
    const diag = readDiagnostic(g.get('diagnostic-code') ?? g.get('x-diagnostic-code') ?? null);
    const status = preferredStatus(normalizeStatus(g.get('status')), diag, g.get('action'));
    const action = actionOf(g.get('action'), status ?? (diag.code ? `${diag.code[0]}.0.0` : null));
    recipients.push({
      address, action, status, code: diag.code, diagnostic: diag.text,
      hard: action === 'failed' && isHardFailure(status, diag.code, diag.text),
    });
  }
  return { reportingMta, recipients };
}
