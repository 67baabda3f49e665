/**
 * The outbound SMTP transport: takes one job (a message for the recipients of one domain), picks
 * the route (a relay route, CALIOPEN_RELAY, or the domain's MX hosts under its MTA-STS policy),
 * delivers over pooled sessions and reports a result per recipient. Every remote or network
 * failure is a result; deliver() never throws. Retrying later and bouncing is the worker's job.
 */
import net from 'node:net';
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { ConnectionPool } from './connection-pool.js';
import { getMtaStsPolicy, mxAllowed, type MtaStsPolicy } from './mta-sts.js';
import { noRouteFailure, resolveHost, resolveMx, type Failure } from './mx.js';
import { findRelayFor, loadRelayRows, parseRelayUrl, type RelayRouteRow, type ResolvedRelay } from './relay-routes.js';
import { SessionError, SmtpSession, type SendOutcome, type SessionTarget } from './smtp-session.js';
import type { DeliveryJob, DeliveryReport, RecipientResult, Transport, TravelInfo } from './types.js';

export type TransportDeps = Pick<Deps, 'config' | 'dns' | 'fetch' | 'db' | 'readDb' | 'clock' | 'log' | 'secrets'>;

export interface TransportOptions {
  /** CAs trusted where certificates are verified (MTA-STS enforce, relays); tests inject their own. Default: the system's. */
  tlsCa?: string | Buffer | Array<string | Buffer>;
  /** verify relay certificates (default true) */
  verifyRelayCertificates?: boolean;
  /** an unused connection is closed after this long (default 5 s) */
  idleMs?: number;
  /** time for one command's reply, DATA included (default 5 min, RFC 5321 §4.5.3.2) */
  commandTimeoutMs?: number;
  random?: () => number;
}

/** Postfix's smtp_mx_address_limit: addresses tried per attempt before giving up until the next one. */
const MAX_ADDRESSES = 5;
/** A reused session may have been closed by the server meanwhile: that many fresh tries on the same address. */
const MAX_STALE_RETRIES = 2;
const CACHE_MS = 10_000;

type Attempt = { session: SmtpSession; outcome: SendOutcome } | { failure: Failure; tlsFailed: boolean };

function allFail(job: DeliveryJob, f: Failure): DeliveryReport {
  return { recipients: job.recipients.map((address) => ({ address, ...f })), travel: null };
}

function report(results: RecipientResult[], travel: TravelInfo): DeliveryReport {
  return { recipients: results, travel: results.some((r) => r.status === 'delivered') ? travel : null };
}

export function createTransport(deps: TransportDeps, opts: TransportOptions = {}): Transport {
  const { delivery, hostname } = deps.config;
  // a bad CALIOPEN_RELAY stops the boot with a clear message rather than failing every delivery
  if (deps.config.relay) {
    try {
      parseRelayUrl(deps.config.relay);
    } catch (err) {
      throw new AppError('invalid_config', `relay (CALIOPEN_RELAY): ${(err as Error).message}`);
    }
  }
  const pool = new ConnectionPool<SmtpSession>({
    perDestination: delivery.perDestination,
    total: delivery.concurrency,
    messagesPerConnection: delivery.messagesPerConnection,
    idleMs: opts.idleMs ?? 5000,
  });
  const timeouts = { ehloName: hostname, connectTimeoutMs: delivery.connectTimeoutMs, commandTimeoutMs: opts.commandTimeoutMs ?? 300_000 };
  const random = opts.random ?? Math.random;
  const log = deps.log.child({ component: 'delivery' });

  // Routes and MTA-STS policies are asked for every message: keep them a few seconds (one bench
  // run sends thousands of messages to a hundred domains).
  let routes: { at: number; rows: Promise<RelayRouteRow[]> } | null = null;
  const policies = new Map<string, { at: number; policy: Promise<MtaStsPolicy | null> }>();
  const now = () => deps.clock.now().getTime();
  const relayRows = () => {
    if (!routes || now() - routes.at > CACHE_MS) routes = { at: now(), rows: loadRelayRows(deps) };
    return routes.rows;
  };
  const policyOf = (domain: string) => {
    const hit = policies.get(domain);
    if (hit && now() - hit.at < CACHE_MS) return hit.policy;
    const policy = getMtaStsPolicy(deps, domain).catch((err: unknown) => {
      log.warn('mta-sts: policy look-up failed', { domain, error: err as Error });
      return null;
    });
    if (policies.size > 10_000) policies.clear();
    policies.set(domain, { at: now(), policy });
    return policy;
  };

  function keyOf(t: SessionTarget, profile: string): string {
    return `${profile}|${t.ip}|${t.port}`;
  }

  async function openWithFallback(t: SessionTarget): Promise<SmtpSession> {
    try {
      return await SmtpSession.open(t, timeouts);
    } catch (err) {
      // like Postfix: a TLS handshake that fails on an opportunistic attempt is retried once in plain text
      if (!(err instanceof SessionError && err.tlsFailed && t.tls === 'opportunistic')) throw err;
      log.info('opportunistic TLS failed, retrying in plain text', { host: t.host, ip: t.ip, reason: err.message });
      return SmtpSession.open({ ...t, tls: 'plain' }, timeouts);
    }
  }

  /** One message over one address: a pooled session (or a new one), retried on a fresh one if a reused one had gone stale. */
  async function attempt(job: DeliveryJob, t: SessionTarget, profile: string): Promise<Attempt> {
    const key = keyOf(t, profile);
    for (let i = 0; ; i++) {
      let acquired: { session: SmtpSession; reused: boolean };
      try {
        acquired = await pool.acquire(key, () => openWithFallback(t));
      } catch (err) {
        if (err instanceof SessionError) return { failure: err.failure, tlsFailed: err.tlsFailed };
        return { failure: { status: 'temp_fail', code: null, response: (err as Error).message }, tlsFailed: false };
      }
      const { session, reused } = acquired;
      const outcome = await session.send(job.mailFrom, job.recipients, job.raw);
      if (outcome.broken) {
        pool.release(key, session, false);
        if (outcome.retryable && reused && i < MAX_STALE_RETRIES) continue;
        if (outcome.retryable) return { failure: outcome.broken, tlsFailed: false };
        return { session, outcome };
      }
      // RSET before the session carries another message (RFC 5321 §4.1.1.5); skipped for a session about to be retired
      const reusable = session.messages < delivery.messagesPerConnection && (await session.reset());
      pool.release(key, session, reusable);
      return { session, outcome };
    }
  }

  async function deliverRelay(job: DeliveryJob, relay: ResolvedRelay): Promise<DeliveryReport> {
    const addrs = await resolveHost(deps.dns, relay.host);
    if ('failure' in addrs) return allFail(job, addrs.failure);
    // a submission server the user configured for their own address is verified too (or pinned)
    const verify = relay.security !== 'none' && (opts.verifyRelayCertificates !== false || relay.source.startsWith('account:'));
    const tlsMode = relay.security === 'tls' ? 'implicit' : relay.security === 'starttls' ? 'starttls' : 'opportunistic';
    const auth = relay.username !== null && relay.password !== null ? { user: relay.username, pass: relay.password } : null;
    const profile = `relay:${relay.source}:${relay.security}:${relay.username ?? ''}`;
    let last: Failure | null = null;
    for (const ip of addrs.addresses.slice(0, MAX_ADDRESSES)) {
      const t: SessionTarget = { ip, port: relay.port, host: net.isIP(relay.host) ? ip : relay.host, tls: tlsMode, verify, ca: opts.tlsCa, auth, pin: relay.pin ?? null };
      const a = await attempt(job, t, profile);
      if ('failure' in a) {
        last = a.failure;
        continue;
      }
      return report(a.outcome.results, { host: relay.host, tls: a.session.tls, mtaSts: false, route: 'relay' });
    }
    return allFail(job, last ?? { status: 'temp_fail', code: null, response: `relay ${relay.host} has no address` });
  }

  async function deliverDirect(job: DeliveryJob): Promise<DeliveryReport> {
    const domain = job.domain.toLowerCase();
    const [policy, mx] = await Promise.all([policyOf(domain), resolveMx(deps.dns, domain, random)]);
    if ('failure' in mx) return allFail(job, mx.failure);
    const enforce = policy?.mode === 'enforce';
    let hosts = mx.hosts;
    if (enforce) {
      // RFC 8461 §4.1: only MX hosts the policy names
      hosts = hosts.filter((h) => mxAllowed(h.name, policy));
      if (hosts.length === 0) {
        const response = `MTA-STS policy of ${domain} (enforce) names none of its MX hosts (${mx.hosts.map((h) => h.name).join(', ')}; policy mx: ${policy.mx.join(', ')})`;
        return allFail(job, { status: 'temp_fail', code: null, response });
      }
    }
    let last: Failure | null = null;
    let tried = 0;
    for (const host of hosts) {
      if (tried >= MAX_ADDRESSES) break;
      const addrs = await resolveHost(deps.dns, host.name);
      if ('failure' in addrs) {
        if (mx.implicit && addrs.nonexistent) return allFail(job, noRouteFailure(domain));
        last = addrs.failure;
        continue;
      }
      for (const ip of addrs.addresses) {
        if (tried++ >= MAX_ADDRESSES) break;
        // RFC 8461 §4.2: under enforce, STARTTLS with a certificate valid for the MX name, or nothing
        const t: SessionTarget = { ip, port: delivery.mxPort, host: host.name, tls: enforce ? 'starttls' : 'opportunistic', verify: enforce, ca: opts.tlsCa };
        const a = await attempt(job, t, enforce ? `sts:${host.name}` : 'mx');
        if ('failure' in a) {
          const why = `MTA-STS policy of ${domain} requires TLS with a valid certificate for ${host.name}: ${a.failure.response}`;
          last = enforce && a.tlsFailed ? { ...a.failure, response: why } : a.failure;
          continue;
        }
        if (policy?.mode === 'testing') checkTesting(domain, host.name, policy, a.session);
        return report(a.outcome.results, { host: host.name, tls: a.session.tls, mtaSts: enforce, route: 'direct' });
      }
    }
    return allFail(job, last ?? { status: 'temp_fail', code: null, response: `no usable MX host for ${domain}` });
  }

  /** RFC 8461 §5: in mode testing, a failed check is reported (here: logged) and delivery goes on. */
  function checkTesting(domain: string, mxName: string, policy: MtaStsPolicy, session: SmtpSession): void {
    const problems: string[] = [];
    if (!mxAllowed(mxName, policy)) problems.push('MX not named by the policy');
    if (!session.tls) problems.push('no TLS');
    else if (!session.certificateValidFor(mxName)) problems.push('certificate not valid for the MX name');
    if (problems.length > 0) log.warn('mta-sts testing: policy violated, delivered anyway', { domain, mx: mxName, problems });
  }

  return {
    async deliver(job) {
      try {
        if (job.recipients.length === 0) return { recipients: [], travel: null };
        const relay = job.via ?? (await findRelayFor(deps, job.domain, await relayRows()));
        return relay ? await deliverRelay(job, relay) : await deliverDirect(job);
      } catch (err) {
        // our bug or a local failure (database, sealed secret): keep the mail, retry later
        log.error('delivery failed locally', { domain: job.domain, error: err as Error });
        return allFail(job, { status: 'temp_fail', code: null, response: `local error while delivering: ${(err as Error).message}` });
      }
    },
    close: () => pool.close(),
  };
}
