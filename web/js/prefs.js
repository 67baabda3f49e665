// The user's display preferences (GET /me → user.settings) as the whole app sees them: the shell
// sets them on login and after each change; theme and density go on <html> as data attributes
// that the stylesheet reads; screens ask prefs() for the rest (message order, remote images,
// notifications). GET /me always carries every preference (the server merges its defaults); before
// logging in there are none: the system's theme, the comfortable density, nothing else applies.
let current = {};

export function prefs() {
  return current;
}

export function setPrefs(settings) {
  current = settings ?? {};
  const root = document.documentElement;
  root.dataset.theme = current.theme ?? 'system';
  root.dataset.density = current.density ?? 'comfortable';
}

/** A desktop notification for new mail, when the user turned them on and the tab is not in view. */
export function notifyNewMail(title, body) {
  if (!current.notifications || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (document.visibilityState === 'visible') return;
  try {
    new Notification(title, { body, tag: 'caliopen-new-mail' });
  } catch {
    // some browsers only allow notifications from a service worker: nothing more to do
  }
}
