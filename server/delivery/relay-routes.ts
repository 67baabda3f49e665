/**
 * Smarthost routes: mail to a recipient domain (or to every domain, '*') may leave through a relay
 * instead of the recipient's MX, e.g. when a home line blocks port 25. A route comes from a URL
 * (smtp+starttls://user:pass@host:587, smtps://user:pass@host:465, smtp://host:25); its password
 * is stored sealed with the box secret and never listed. Choosing the route for a recipient
 * domain is here; connecting is the transport's job.
 */
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { normalizeDomain } from '../accounts/domains.js';

/** tls: implicit TLS from the first byte; starttls: STARTTLS required; none: plain (TLS if offered) */
export type RelaySecurity = 'tls' | 'starttls' | 'none';

export interface RelayTarget {
  host: string;
  port: number;
  security: RelaySecurity;
  username: string | null;
  password: string | null;
}

/** A route as listed: never with its password. */
export interface RelayRouteInfo {
  id: number;
  domain: string;
  host: string;
  port: number;
  security: RelaySecurity;
  username: string | null;
  /** the route's URL without the password */
  url: string;
  createdAt: number;
}

/**
 * The route for one delivery: where it comes from (DB route id, the CALIOPEN_RELAY config, or the
 * submission server of the external account a message is sent "as") and how to reach it.
 */
export interface ResolvedRelay extends RelayTarget {
  source: `route:${number}` | 'config' | `account:${number}`;
  /** a self-signed certificate the user chose to trust for this server */
  pin?: { fingerprint: string; pem: string } | null;
}

export type RelayDeps = Pick<Deps, 'db' | 'readDb' | 'clock' | 'secrets' | 'config'>;

const SCHEMES: Record<string, { security: RelaySecurity; port: number }> = {
  'smtps:': { security: 'tls', port: 465 },
  'smtp+starttls:': { security: 'starttls', port: 587 },
  'smtp:': { security: 'none', port: 25 },
};

function invalid(message: string): AppError {
  return new AppError('validation_failed', `invalid relay URL: ${message}`);
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalid(`the ${what} is not correctly percent-encoded`);
  }
}

export function parseRelayUrl(text: string): RelayTarget {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw invalid('expected smtp+starttls://user:pass@host:587, smtps://user:pass@host:465 or smtp://host:25');
  }
  const scheme = SCHEMES[url.protocol];
  if (!scheme) throw invalid(`unknown scheme "${url.protocol.replace(/:$/, '')}" (use smtp+starttls, smtps or smtp)`);
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (!host) throw invalid('no host');
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) throw invalid('a relay URL has no path, query or fragment');
  const port = url.port ? Number(url.port) : scheme.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`bad port "${url.port}"`);
  const username = url.username ? decode(url.username, 'user name') : null;
  const password = url.password ? decode(url.password, 'password') : null;
  if ((username === null) !== (password === null)) throw invalid('give both a user name and a password, or neither');
  return { host, port, security: scheme.security, username, password };
}

/** The URL of a target without its password (for lists, logs and the CLI). */
export function relayUrl(t: Pick<RelayTarget, 'host' | 'port' | 'security' | 'username'>): string {
  const scheme = Object.entries(SCHEMES).find(([, s]) => s.security === t.security)![0];
  const user = t.username ? `${encodeURIComponent(t.username)}@` : '';
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${scheme}//${user}${host}:${t.port}`;
}

function routeDomain(domain: string): string {
  const d = domain.trim();
  return d === '*' ? '*' : normalizeDomain(d);
}

interface RouteRow {
  id: number;
  domain: string;
  host: string;
  port: number;
  security: string;
  username: string | null;
  password_enc: string | null;
  created_at: number;
}

function info(row: RouteRow): RelayRouteInfo {
  const security = row.security as RelaySecurity;
  return { id: row.id, domain: row.domain, host: row.host, port: row.port, security, username: row.username, url: relayUrl({ ...row, security }), createdAt: Number(row.created_at) };
}

/** Sets the route for a domain ('*' = default), replacing the one it had. */
export async function addRelayRoute(deps: RelayDeps, input: { domain: string; url: string }): Promise<RelayRouteInfo> {
  const domain = routeDomain(input.domain);
  const t = parseRelayUrl(input.url);
  const row = {
    domain,
    host: t.host,
    port: t.port,
    security: t.security,
    username: t.username,
    password_enc: t.password === null ? null : deps.secrets.seal(t.password),
    created_at: deps.clock.now().getTime(),
  };
  await deps.db('relay_routes').insert(row).onConflict('domain').merge();
  const saved = await deps.db<RouteRow>('relay_routes').where({ domain }).first();
  return info(saved!);
}

export async function listRelayRoutes(deps: Pick<Deps, 'readDb'>): Promise<RelayRouteInfo[]> {
  const rows = await deps.readDb<RouteRow>('relay_routes').orderByRaw("domain = '*' DESC").orderBy('domain');
  return rows.map(info);
}

export async function removeRelayRoute(deps: Pick<Deps, 'db'>, domain: string): Promise<void> {
  const d = routeDomain(domain);
  const n = await deps.db('relay_routes').where({ domain: d }).delete();
  if (n === 0) throw new AppError('relay_route_not_found', `no relay route for ${d}`);
}

function target(deps: Pick<Deps, 'secrets'>, row: RouteRow): ResolvedRelay {
  return {
    source: `route:${row.id}`,
    host: row.host,
    port: row.port,
    security: row.security as RelaySecurity,
    username: row.username,
    password: row.password_enc === null ? null : deps.secrets.open(row.password_enc),
  };
}

/**
 * The relay for a recipient domain: its own route, else the '*' route, else CALIOPEN_RELAY, else
 * null (direct MX delivery). `routes` lets the transport pass rows it already holds.
 */
export async function findRelayFor(deps: RelayDeps, recipientDomain: string, routes?: RouteRow[]): Promise<ResolvedRelay | null> {
  const d = recipientDomain.toLowerCase().replace(/\.$/, '');
  const rows = routes ?? (await loadRelayRows(deps));
  const row = rows.find((r) => r.domain === d) ?? rows.find((r) => r.domain === '*');
  if (row) return target(deps, row);
  if (deps.config.relay) return { source: 'config', ...parseRelayUrl(deps.config.relay) };
  return null;
}

/** Every route row (the table is small): the transport keeps them for a few seconds. */
export async function loadRelayRows(deps: Pick<Deps, 'readDb'>): Promise<RouteRow[]> {
  return deps.readDb<RouteRow>('relay_routes').select();
}

export type { RouteRow as RelayRouteRow };
