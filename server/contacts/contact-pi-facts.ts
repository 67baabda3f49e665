/**
 * What the contact PI is computed from, read in a few batched queries for a page of contacts, and
 * its history: a pi_reports row (object_type 'contact') whenever the score or a reason's points
 * change, the latest score cached on the contact for the list. The list recomputes only contacts
 * whose cache is stale (never computed, mail or an edit since, or older than a day: the
 * regular-exchange window slides with time); the card always recomputes its one contact.
 */
import type { Knex } from 'knex';
import { PERIOD_DAYS, PERIODS, samePi, scoreContact, type ContactFacts, type ContactPiReport } from './contact-pi.js';
import { loadContactKeyFacts } from '../crypto/contact-key-facts.js';

const DAY_MS = 86_400_000;
const PERIOD_MS = PERIOD_DAYS * DAY_MS;
const STALE_AFTER_MS = DAY_MS;
/** Participant roles that make a message an exchange with that person (Reply-To alone does not). */
const EXCHANGE_ROLES = "('from', 'to', 'cc', 'bcc')";

const TRAVEL: Record<string, NonNullable<ContactFacts['lastReceived']>['travel']> = {
  TLS_1_3: 'tls', TLS_1_2: 'tls', LOCAL_DELIVERY: 'local', TLS_OLD: 'old_tls', NO_TLS: 'plain', TLS_VERSION_UNKNOWN: 'unknown',
};

/** How the message travelled to us, from the delivery signal its ingest recorded (SMTP session or the provider's Received stamp). */
export function travelOf(signalsJson: string | null): NonNullable<ContactFacts['lastReceived']> {
  let privacy: Array<{ id: string; detail?: string }> = [];
  try {
    privacy = signalsJson ? ((JSON.parse(signalsJson) as { privacy?: typeof privacy }).privacy ?? []) : [];
  } catch {
    privacy = [];
  }
  const s = privacy.find((x) => x.id in TRAVEL);
  if (!s) return { travel: 'unknown', detail: 'not recorded' };
  const version = s.id === 'TLS_1_3' ? 'TLS 1.3' : s.id === 'TLS_1_2' ? 'TLS 1.2' : s.id === 'LOCAL_DELIVERY' ? 'inside this box' : s.id === 'NO_TLS' ? 'no TLS' : s.id === 'TLS_OLD' ? 'outdated TLS' : 'TLS version not recorded';
  return { travel: TRAVEL[s.id]!, detail: s.detail ? `${version} (${s.detail})` : version };
}

interface ExchangeRow { contact_id: number; n: number; enc: number; periods: number; discussions: number }

/** Facts per contact, plus the number of discussions held with each (for the card's counts). */
export async function loadContactFacts(db: Knex, userId: number, ids: number[], now: number): Promise<Map<number, ContactFacts & { discussions: number }>> {
  const out = new Map<number, ContactFacts & { discussions: number }>();
  if (!ids.length) return out;
  const list = JSON.stringify(ids);
  const exchanges: ExchangeRow[] = await db.raw(
    `SELECT ce.contact_id, count(DISTINCT m.id) AS n,
       count(DISTINCT CASE WHEN m.is_encrypted THEN m.id END) AS enc,
       count(DISTINCT CASE WHEN m.date > ? AND m.date <= ? THEN (? - m.date) / ? END) AS periods,
       count(DISTINCT m.discussion_id) AS discussions
     FROM contact_emails ce
     JOIN participants p ON p.user_id = ce.user_id AND p.address = ce.address AND p.role IN ${EXCHANGE_ROLES}
     JOIN messages m ON m.id = p.message_id AND m.is_spam = 0
     WHERE ce.user_id = ? AND ce.contact_id IN (SELECT value FROM json_each(?))
     GROUP BY ce.contact_id`,
    [now - PERIODS * PERIOD_MS, now, now, PERIOD_MS, userId, list],
  );
  const received: Array<{ contact_id: number; signals: string | null; found: number }> = await db.raw(
    `SELECT c.value AS contact_id, l.signals_json AS signals, l.id IS NOT NULL AS found FROM json_each(?) c
     LEFT JOIN messages l ON l.id = (SELECT m.id FROM messages m
       WHERE m.user_id = ? AND m.is_spam = 0 AND m.source <> 'sent'
         AND m.from_address IN (SELECT address FROM contact_emails WHERE contact_id = c.value)
       ORDER BY m.date DESC, m.id DESC LIMIT 1)`,
    [list, userId],
  );
  const byId = new Map(exchanges.map((e) => [e.contact_id, e]));
  const keyFacts = await loadContactKeyFacts(db, userId, ids, now);
  for (const r of received) {
    const e = byId.get(r.contact_id);
    out.set(r.contact_id, {
      keys: keyFacts.get(r.contact_id)?.keys ?? [],
      autocryptMutual: keyFacts.get(r.contact_id)?.autocryptMutual ?? false,
      messages: Number(e?.n ?? 0),
      encrypted: Number(e?.enc ?? 0),
      activePeriods: Number(e?.periods ?? 0),
      lastReceived: r.found ? travelOf(r.signals) : null,
      discussions: Number(e?.discussions ?? 0),
    });
  }
  return out;
}

interface CacheRow { id: number; pi_computed_at: number | null; last_exchange_at: number | null; updated_at: number }

function isStale(c: CacheRow, now: number): boolean {
  return c.pi_computed_at === null || c.pi_computed_at < Math.max(c.last_exchange_at ?? 0, c.updated_at) || c.pi_computed_at < now - STALE_AFTER_MS;
}

/**
 * Recomputes the PI of these contacts (all of them with `force`, else the stale ones), keeps a
 * history row for each that changed, and returns the reports and facts computed.
 */
export async function refreshContactPis(db: Knex, userId: number, ids: number[], now: number, force = false): Promise<Map<number, { report: ContactPiReport; facts: ContactFacts & { discussions: number } }>> {
  const out = new Map<number, { report: ContactPiReport; facts: ContactFacts & { discussions: number } }>();
  if (!ids.length) return out;
  const rows: CacheRow[] = await db('contacts').where({ user_id: userId }).whereIn('id', ids).select('id', 'pi_computed_at', 'last_exchange_at', 'updated_at');
  const todo = rows.filter((c) => force || isStale(c, now)).map((c) => c.id);
  if (!todo.length) return out;
  const facts = await loadContactFacts(db, userId, todo, now);
  for (const [id, f] of facts) out.set(id, { report: scoreContact(f), facts: f });
  const latest: Array<{ object_id: number; score: number; reasons_json: string }> = await db('pi_reports')
    .whereIn('id', db('pi_reports').where({ user_id: userId, object_type: 'contact' }).whereIn('object_id', todo).groupBy('object_id').max('id'))
    .select('object_id', 'score', 'reasons_json');
  const previous = new Map(latest.map((l) => [l.object_id, { score: l.score, reasons: JSON.parse(l.reasons_json) as Array<{ signal: string; points: number }> }]));
  const history = [...out].filter(([id, { report }]) => {
    const p = previous.get(id);
    return !p || !samePi(p, report);
  }).map(([id, { report }]) => ({
    user_id: userId, object_type: 'contact', object_id: id, score: report.score, letter: report.letter,
    axes_json: JSON.stringify(report.axes), reasons_json: JSON.stringify(report.reasons), computed_at: now,
  }));
  await db.transaction(async (trx) => {
    for (let i = 0; i < history.length; i += 100) await trx('pi_reports').insert(history.slice(i, i + 100));
    for (const [id, { report }] of out) {
      await trx('contacts').where({ id, user_id: userId }).update({ pi_score: report.score, pi_letter: report.letter, pi_computed_at: now });
    }
  });
  return out;
}
