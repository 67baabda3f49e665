// Live updates: one EventSource on /api/v1/events shared by every screen that subscribes (new mail
// for the timeline and a discussion, delivery results for a message just sent). The browser
// reconnects by itself after a dropped stream; when the server refuses it (not logged in yet, or a
// box without the route) the stream closes for good, so it is opened again a little later while
// someone still listens. Nothing here reloads the page.
const TYPES = ['message', 'delivery', 'resync', 'ended', 'import-progress'];
const RETRY_MS = 10_000;
const listeners = new Map(TYPES.map((type) => [type, new Set()]));

let source = null;
let retryTimer = null;

function listening() {
  return [...listeners.values()].some((set) => set.size > 0);
}

function dispatch(type, raw) {
  let data = {};
  try {
    data = raw ? JSON.parse(raw) : {};
  } catch {
    return;
  }
  for (const fn of [...listeners.get(type)]) fn(data);
}

function open() {
  retryTimer = null;
  if (source || !listening() || typeof EventSource === 'undefined') return;
  const es = new EventSource('/api/v1/events');
  source = es;
  for (const type of TYPES) es.addEventListener(type, (e) => dispatch(type, e.data));
  es.onerror = () => {
    if (es.readyState !== EventSource.CLOSED) return; // the browser retries on its own
    if (source === es) source = null;
    if (!retryTimer && listening()) retryTimer = setTimeout(open, RETRY_MS);
  };
}

function close() {
  source?.close();
  source = null;
  clearTimeout(retryTimer);
  retryTimer = null;
}

/** Calls fn(data) for each `type` event (message, delivery, resync); returns the unsubscribe. */
export function subscribe(type, fn) {
  listeners.get(type).add(fn);
  open();
  return () => {
    listeners.get(type).delete(fn);
    if (!listening()) close();
  };
}
