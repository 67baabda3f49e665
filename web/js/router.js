// Hash routes (#/timeline, #/discussions/12, #/search?q=…): the server serves one page, and a
// route is bookmarkable and survives a reload. parseRoute is pure; the shell listens for changes.
const ROUTES = [
  ['timeline', /^\/(?:timeline)?$/],
  ['discussion', /^\/discussions\/(\d+)$/],
  ['compose', /^\/compose(?:\/(\d+))?$/],
  ['drafts', /^\/drafts$/],
  ['search', /^\/search$/],
  ['contacts', /^\/contacts$/],
  ['contact', /^\/contacts\/(\d+)$/],
  ['settings', /^\/settings$/],
  ['devices', /^\/devices$/],
  ['accounts', /^\/accounts$/],
  ['keys', /^\/keys$/],
  ['help', /^\/help(?:\/([\w.-]+))?$/],
  ['tags', /^\/tags$/],
];

/** "#/discussions/12?x=1" → {name: 'discussion', id: '12', query: URLSearchParams}; unknown → timeline. */
export function parseRoute(hash) {
  const raw = (hash || '').replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  const query = new URLSearchParams(search);
  for (const [name, re] of ROUTES) {
    const m = re.exec(path);
    if (m) return { name, id: m[1] ?? null, query, path };
  }
  return { name: 'timeline', id: null, query, path: '/timeline' };
}

export function currentRoute() {
  return parseRoute(location.hash);
}

export function navigate(path) {
  location.hash = path;
}

export function onRouteChange(callback) {
  const listener = () => callback(currentRoute());
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}
