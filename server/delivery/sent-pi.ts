/**
 * A sent message's PI learns how it travelled once the recipients' servers took it: its travel
 * signals are replaced by those of the delivery (TLS version to the MX, MTA-STS). With several
 * recipient domains, the weakest delivery counts (a chain is as strong as its weakest link).
 */
import type { Knex } from 'knex';
import type { Signal, TransportInfo } from '../mail/types.js';
import type { TravelInfo } from './types.js';
import { computePi, transportSignals, tlsVersionOf, weightOf } from '../privacy/index.js';
import { refreshDiscussionPi } from '../mail/discussions.js';

const strength = (t: TransportInfo): number => {
  if (t.pending) return 99; // nothing known yet: any delivery replaces it
  if (t.local) return 50;
  const v = tlsVersionOf(t.tls?.protocol);
  return (v === '1.3' ? 30 : v === '1.2' ? 20 : t.tls ? 10 : 0) + (t.mtaSts ? 1 : 0);
};

function weakerTransport(current: TransportInfo | null, delivered: TransportInfo): TransportInfo {
  if (!current || current.pending) return delivered;
  return strength(delivered) < strength(current) ? delivered : current;
}

function transportOfTravel(travel: TravelInfo): TransportInfo {
  return { tls: travel.tls, mtaSts: travel.mtaSts, clientHostname: travel.host };
}

interface SentRow {
  id: number;
  user_id: number;
  discussion_id: number;
  transport_json: string | null;
  signals_json: string | null;
}

/**
 * Re-scores Sent copies with what their deliveries told (several per message when it went to
 * several domains: the weakest counts); one history row in pi_reports each. Batched: the worker
 * calls it for hundreds of deliveries per group commit.
 */
export async function applyTravels(trx: Knex, deliveries: Array<{ messageId: number; travel: TravelInfo }>, now: number): Promise<void> {
  if (!deliveries.length) return;
  const ids = [...new Set(deliveries.map((d) => d.messageId))];
  const rows: SentRow[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    rows.push(...((await trx('messages').whereIn('id', ids.slice(i, i + 500)).select('id', 'user_id', 'discussion_id', 'transport_json', 'signals_json')) as SentRow[]));
  }
  const updates: Knex.Value[][] = [];
  const reports: Array<Record<string, unknown>> = [];
  for (const row of rows) {
    let transport = row.transport_json ? (JSON.parse(row.transport_json) as TransportInfo) : null;
    for (const d of deliveries) if (d.messageId === row.id) transport = weakerTransport(transport, transportOfTravel(d.travel));
    const stored = row.signals_json ? (JSON.parse(row.signals_json) as { privacy: Signal[]; spam: Signal[] }) : { privacy: [], spam: [] };
    const privacy = [...stored.privacy.filter((s) => weightOf(s.id)?.axis !== 'travel'), ...transportSignals(transport!)];
    const pi = computePi(privacy);
    updates.push([row.id, JSON.stringify(transport), JSON.stringify({ ...stored, privacy }), pi.score, pi.letter]);
    reports.push({
      user_id: row.user_id, object_type: 'message', object_id: row.id, score: pi.score, letter: pi.letter,
      axes_json: JSON.stringify(pi.axes), reasons_json: JSON.stringify(pi.reasons), computed_at: now,
    });
  }
  for (let i = 0; i < updates.length; i += 400) {
    const chunk = updates.slice(i, i + 400);
    await trx.raw(
      `UPDATE messages SET transport_json = v.column2, signals_json = v.column3, pi_score = v.column4, pi_letter = v.column5
       FROM (VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')}) AS v WHERE messages.id = v.column1`,
      chunk.flat(),
    );
  }
  for (let i = 0; i < reports.length; i += 100) await trx('pi_reports').insert(reports.slice(i, i + 100));
  await refreshDiscussionPi(trx, [...new Set(rows.map((r) => r.discussion_id))]);
}

/** The Sent copies of these outbound messages, where already stored. */
export async function sentCopiesOf(db: Knex, outboundIds: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (let i = 0; i < outboundIds.length; i += 500) {
    const rows = (await db('outbound_messages').whereIn('id', outboundIds.slice(i, i + 500)).whereNotNull('message_id').select('id', 'message_id')) as Array<{ id: number; message_id: number }>;
    for (const r of rows) out.set(r.id, r.message_id);
  }
  return out;
}

/**
 * Links the Sent copy to its outbound row, and applies deliveries that finished before the copy was
 * stored (the worker can be faster than ingest). One transaction on the single writer: no attempt
 * result can slip between the two.
 */
export async function linkSentCopy(db: Knex, outboundId: number, messageId: number, now: number): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('outbound_messages').where({ id: outboundId }).update({ message_id: messageId });
    const done = (await trx('outbound_queue').where({ outbound_id: outboundId }).whereNotNull('tls_json').select('tls_json')) as Array<{ tls_json: string }>;
    await applyTravels(trx, done.map((d) => ({ messageId, travel: JSON.parse(d.tls_json) as TravelInfo })), now);
  });
}
