// The user's display preferences (GET /me → user.settings) as the whole app sees them: the shell
// sets them on login and after each change; theme and density go on <html> as data attributes
// that the stylesheet reads; screens ask prefs() for the rest (message order, remote images,
// notifications). The defaults match server/accounts/settings.ts.
const DEFAULTS = {
  density: 'comfortable',
  theme: 'system',
  show_images: 'ask',
  keyboard_shortcuts: true,
  message_order: 'oldest_first',
  notifications: false,
};

let current = { ...DEFAULTS };

export function prefs() {
  return current;
}

export function setPrefs(settings) {
  current = { ...DEFAULTS, ...(settings ?? {}) };
  const root = document.documentElement;
  root.dataset.theme = current.theme;
  root.dataset.density = current.density;
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
