/**
 * Open SMTP sessions kept for reuse, per destination key (one remote address with one security
 * profile). Limits: `perDestination` sessions per key, `total` for all keys together (opening
 * ones included), `messagesPerConnection` transactions per session, and an idle session is closed
 * after `idleMs`. When the total is reached, an idle session of another destination is closed to
 * make room; otherwise callers wait for a session to come back. Sessions are opened by the
 * caller's function, so this module knows nothing of SMTP beyond alive/messages/close.
 */

export interface PooledSession {
  readonly alive: boolean;
  readonly messages: number;
  close(): Promise<void>;
}

export interface PoolLimits {
  perDestination: number;
  total: number;
  messagesPerConnection: number;
  idleMs: number;
}

interface Destination<S> {
  idle: Array<{ session: S; timer: NodeJS.Timeout }>;
  /** sessions counted against perDestination: busy, idle and opening */
  count: number;
  waiters: Array<() => void>;
}

export class ConnectionPool<S extends PooledSession> {
  private readonly dests = new Map<string, Destination<S>>();
  private readonly all = new Set<S>();
  private readonly globalWaiters: Array<() => void> = [];
  private total = 0;
  private closing = false;
  /** sessions opened since the pool was made (tests and stats) */
  opened = 0;

  constructor(private readonly limits: PoolLimits) {}

  private dest(key: string): Destination<S> {
    let d = this.dests.get(key);
    if (!d) {
      d = { idle: [], count: 0, waiters: [] };
      this.dests.set(key, d);
    }
    return d;
  }

  /** An idle session of `key`, or a new one from `open` when the limits allow, else waits. `open` may throw: the slot is given back. */
  async acquire(key: string, open: () => Promise<S>): Promise<{ session: S; reused: boolean }> {
    for (;;) {
      if (this.closing) throw new Error('the delivery transport is closing');
      const d = this.dest(key);
      while (d.idle.length > 0) {
        const { session, timer } = d.idle.pop()!; // most recently used first: the others may go idle and close
        clearTimeout(timer);
        if (session.alive) return { session, reused: true };
        this.forget(key, session);
      }
      if (d.count < this.limits.perDestination && (this.total < this.limits.total || this.evictIdle(key))) {
        d.count++;
        this.total++;
        try {
          const session = await open();
          this.opened++;
          this.all.add(session);
          return { session, reused: false };
        } catch (err) {
          d.count--;
          this.total--;
          this.wake(key);
          throw err;
        }
      }
      await new Promise<void>((resolve) => (d.count >= this.limits.perDestination ? d.waiters : this.globalWaiters).push(resolve));
    }
  }

  /** Gives a session back: kept for the next message when reusable, else closed. */
  release(key: string, session: S, reusable: boolean): void {
    const d = this.dest(key);
    const keep = reusable && !this.closing && session.alive && session.messages < this.limits.messagesPerConnection;
    // someone else is waiting for room at the total limit and nobody here needs this one: make room
    if (keep && (d.waiters.length > 0 || this.globalWaiters.length === 0)) {
      const timer = setTimeout(() => this.closeIdle(key, session), this.limits.idleMs);
      d.idle.push({ session, timer });
      d.waiters.shift()?.();
      return;
    }
    this.forget(key, session);
    void session.close();
  }

  private closeIdle(key: string, session: S): void {
    const d = this.dest(key);
    const i = d.idle.findIndex((e) => e.session === session);
    if (i < 0) return;
    d.idle.splice(i, 1);
    this.forget(key, session);
    void session.close();
  }

  /** Closes the least recently used idle session of another destination; false when there is none. */
  private evictIdle(except: string): boolean {
    for (const [key, d] of this.dests) {
      if (key === except || d.idle.length === 0) continue;
      const { session, timer } = d.idle.shift()!;
      clearTimeout(timer);
      this.forget(key, session, false);
      void session.close();
      return true;
    }
    return false;
  }

  private forget(key: string, session: S, wake = true): void {
    if (!this.all.delete(session)) return;
    const d = this.dest(key);
    d.count--;
    this.total--;
    if (d.count === 0 && d.idle.length === 0 && d.waiters.length === 0) this.dests.delete(key);
    if (wake) this.wake(key);
  }

  /** Room was made: one waiter of this destination and one waiter for the total may go on (they re-check). */
  private wake(key: string): void {
    this.dests.get(key)?.waiters.shift()?.();
    this.globalWaiters.shift()?.();
  }

  get size(): { open: number; idle: number } {
    let idle = 0;
    for (const d of this.dests.values()) idle += d.idle.length;
    return { open: this.total, idle };
  }

  /** Closes every session, busy ones included; waiting callers get an error. */
  async close(): Promise<void> {
    this.closing = true;
    for (const d of this.dests.values()) {
      for (const e of d.idle) clearTimeout(e.timer);
      d.idle = [];
      for (const w of d.waiters.splice(0)) w();
    }
    for (const w of this.globalWaiters.splice(0)) w();
    await Promise.all([...this.all].map((s) => s.close()));
    this.all.clear();
  }
}
