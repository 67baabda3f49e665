// The frame around every screen once logged in: brand, navigation, the search box (`/` focuses it),
// the account's PI badge, greyed "coming soon" buttons (calendar, files) and logging out.
// On a phone the navigation becomes a scrolling bar under the header (style.css).
import { html } from '../html.js';
import { t } from '../i18n.js';
import { navigate } from '../router.js';
import { PiBadge } from './pi-badge.js';
import { TabsBar } from './tabs-bar.js';

const NAV = [
  ['timeline', '#/timeline', 'nav.timeline'],
  ['contacts', '#/contacts', 'nav.contacts'],
  ['tags', '#/tags', 'nav.tags'],
  ['devices', '#/devices', 'nav.devices'],
  ['keys', '#/keys', 'nav.keys'],
  ['settings', '#/settings', 'nav.settings'],
  ['help', '#/help', 'nav.help'],
];

function ComingSoon({ label }) {
  // aria-disabled rather than disabled: a disabled button gets no focus and no hover, so its
  // tooltip could not be read; the click does nothing.
  return html`<button type="button" class="soon" aria-disabled="true" title=${t('nav.soon')} data-tip=${t('nav.soon')} onClick=${(e) => e.preventDefault()}>${label}</button>`;
}

function onSearch(e) {
  e.preventDefault();
  const q = new FormData(e.currentTarget).get('q')?.toString().trim();
  if (q) navigate(`/search?q=${encodeURIComponent(q)}`);
}

export function Layout({ user, pi, route, onLogout, children }) {
  return html`<div class="shell">
    <header class="top">
      <a class="brand" href="#/timeline">${t('app.title')}</a>
      <form class="search" role="search" onSubmit=${onSearch}>
        <input id="search" name="q" type="search" placeholder=${t('search.placeholder')} aria-label=${t('search.label')} value=${route.name === 'search' ? route.query.get('q') ?? '' : ''} />
      </form>
      <div class="account">
        <${PiBadge} pi=${pi} label=${t('pi.account')} />
        <span class="me" title=${user.addresses[0] ?? user.username}>${user.display_name || user.addresses[0] || user.username}</span>
        <button type="button" class="quiet" onClick=${onLogout}>${t('nav.logout')}</button>
      </div>
    </header>
    <nav class="nav" aria-label=${t('nav.label')}>
      ${NAV.map(([name, href, key]) => html`<a href=${href} class=${route.name === name || (name === 'contacts' && route.name === 'contact') ? 'active' : ''} aria-current=${route.name === name ? 'page' : undefined}>${t(key)}</a>`)}
      <span class="nav-soon">
        <${ComingSoon} label=${t('nav.calendar')} />
        <${ComingSoon} label=${t('nav.files')} />
      </span>
    </nav>
    <${TabsBar} route=${route} />
    <main class="content">${children}</main>
  </div>`;
}
