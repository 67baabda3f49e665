/**
 * `caliopen relay set URL [--domain D] | relay list | relay remove DOMAIN|*`: smarthost routes
 * (server/delivery/relay-routes.ts). Passwords go in, never come out.
 */
import { parseArgs } from 'node:util';
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { addRelayRoute, listRelayRoutes, parseRelayUrl, relayUrl, removeRelayRoute } from '../delivery/relay-routes.js';

const USAGE = 'usage: caliopen relay set URL [--domain D] | relay list | relay remove DOMAIN|*';

export async function relayCmd(deps: Pick<Deps, 'db' | 'readDb' | 'clock' | 'secrets' | 'config'>, args: string[], out: (line: string) => void): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { domain: { type: 'string' } } });
  } catch (err) {
    throw new AppError('bad_request', `${(err as Error).message}\n${USAGE}`);
  }
  const [sub, arg, extra] = parsed.positionals;
  if (extra !== undefined) throw new AppError('bad_request', USAGE);
  if (sub === 'set' && arg) {
    const r = await addRelayRoute(deps, { domain: parsed.values.domain ?? '*', url: arg });
    out(`relay for ${r.domain} set: ${r.url}`);
  } else if (sub === 'list' && !arg) {
    const routes = await listRelayRoutes(deps);
    for (const r of routes) out(`${r.domain}\t${r.url}`);
    if (deps.config.relay && !routes.some((r) => r.domain === '*')) out(`*\t${relayUrl(parseRelayUrl(deps.config.relay))}\t(CALIOPEN_RELAY)`);
    else if (routes.length === 0 && !deps.config.relay) out('no relay route: mail goes directly to the MX hosts');
  } else if (sub === 'remove' && arg) {
    await removeRelayRoute(deps, arg);
    out(`relay for ${arg.trim() === '*' ? '*' : arg.trim().toLowerCase()} removed`);
  } else {
    throw new AppError('bad_request', USAGE);
  }
}
