/**
 * Sender analyzer over the verified authentication results (authenticate.ts): only a verdict that
 * verified earns points — a DKIM header that is merely present earns nothing (SPEC §7). Failures are
 * informational here; penalising them is the spam filter's business.
 */
import type { AuthResults, Signal } from '../mail/types.js';
import { signal } from './weights.js';

export function authSignals(auth: AuthResults | null): Signal[] {
  if (!auth) return [];
  return [...dkimSignals(auth), ...spfSignals(auth), ...dmarcSignals(auth)];
}

function dkimSignals(auth: AuthResults): Signal[] {
  const signed = auth.dkim.filter((d) => d.result !== 'none');
  if (signed.length === 0) return [signal('DKIM_NONE')];
  const out: Signal[] = [];
  const passed = signed.filter((d) => d.result === 'pass');
  // RFC 7489 §3.1.1: a signature speaks for the author only when d= aligns with the From domain
  const aligned = passed.find((d) => d.aligned);
  if (aligned) out.push(signal('DKIM_PASS_ALIGNED', aligned.domain));
  else if (passed.length > 0) out.push(signal('DKIM_PASS_UNALIGNED', passed.map((d) => d.domain).join(', ')));
  const failed = signed.filter((d) => d.result === 'fail');
  if (failed.length > 0) out.push(signal('DKIM_FAIL', failed.map((d) => d.domain).join(', ')));
  const unchecked = signed.filter((d) => d.result !== 'pass' && d.result !== 'fail');
  if (passed.length === 0 && unchecked.length > 0) {
    out.push(signal('DKIM_UNVERIFIABLE', unchecked.map((d) => `${d.domain} (${d.result})`).join(', ')));
  }
  return out;
}

function spfSignals(auth: AuthResults): Signal[] {
  const detail = auth.spf.domain ?? undefined;
  if (auth.spf.result === 'pass') return [signal('SPF_PASS', detail)];
  // RFC 7208 §8.4–8.5: fail and softfail both say "this host is not one of ours"
  if (auth.spf.result === 'fail' || auth.spf.result === 'softfail') return [signal('SPF_FAIL', detail)];
  return [];
}

function dmarcSignals(auth: AuthResults): Signal[] {
  const detail = auth.dmarc.domain ?? undefined;
  if (auth.dmarc.result === 'pass') return [signal('DMARC_PASS', detail)];
  if (auth.dmarc.result === 'fail') return [signal('DMARC_FAIL', detail)];
  return [];
}
