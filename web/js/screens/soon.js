// What a route shows until its screen is built (discussion, compose, search, contacts, settings).
import { html } from '../html.js';
import { t } from '../i18n.js';

export function SoonScreen() {
  return html`<section class="soon-screen">
    <h1>${t('soon.title')}</h1>
    <p>${t('soon.body')}</p>
    <p><a href="#/timeline">${t('soon.back')}</a></p>
  </section>`;
}
