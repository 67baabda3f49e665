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

export function weakerTransport(current: TransportInfo | null, delivered: TransportInfo): TransportInfo {
  if (!current || current.pending) return delivered;
  return strength(delivered) < strength(current) ? delivered : current;
}

export function transportOfTravel(travel: TravelInfo): TransportInfo {
  return { tls: travel.tls, mtaSts: travel.mtaSts, clientHostname: travel.host };
}

/** Re-scores the Sent copy with what this delivery told; one history row in pi_reports. */
export async function applyTravel(trx: Knex, messageId: number, travel: TravelInfo, now: number): Promise<void> {
  const row = (await trx('messages').where({ id: messageId }).first('id', 'user_id', 'discussion_id', 'transport_json', 'signals_json')) as
    | { id: number; user_id: number; discussion_id: number; transport_json: string | null; signals_json: string | null }
    | undefined;
  if (!row) return;
  const current = row.transport_json ? (JSON.parse(row.transport_json) as TransportInfo) : null;
  const transport = weakerTransport(current, transportOfTravel(travel));
  const stored = row.signals_json ? (JSON.parse(row.signals_json) as { privacy: Signal[]; spam: Signal[] }) : { privacy: [], spam: [] };
  const privacy = [...stored.privacy.filter((s) => weightOf(s.id)?.axis !== 'travel'), ...transportSignals(transport)];
  const pi = computePi(privacy);
  await trx('messages').where({ id: messageId }).update({
    transport_json: JSON.stringify(transport), signals_json: JSON.stringify({ ...stored, privacy }), pi_score: pi.score, pi_letter: pi.letter,
  });
  await trx('pi_reports').insert({
    user_id: row.user_id, object_type: 'message', object_id: messageId, score: pi.score, letter: pi.letter,
    axes_json: JSON.stringify(pi.axes), reasons_json: JSON.stringify(pi.reasons), computed_at: now,
  });
  await refreshDiscussionPi(trx, row.discussion_id);
}

export async function sentCopyOf(db: Knex, outboundId: number): Promise<number | null> {
  const row = (await db('outbound_messages').where({ id: outboundId }).first('message_id')) as { message_id: number | null } | undefined;
  return row?.message_id ?? null;
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
    for (const d of done) await applyTravel(trx, messageId, JSON.parse(d.tls_json) as TravelInfo, now);
  });
}
