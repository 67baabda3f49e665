// The help page every PI badge links to. For now the scale (letters and colours); the full page,
// with every reason from the server's weights tables and the tips, comes with the help screen.
import { html } from '../html.js';
import { t } from '../i18n.js';

const BANDS = [
  ['A', 'help.letter_a'],
  ['B', 'help.letter_b'],
  ['C', 'help.letter_c'],
  ['D', 'help.letter_d'],
  ['E', 'help.letter_e'],
];

export function HelpScreen() {
  return html`<section class="help">
    <h1>${t('help.title')}</h1>
    <p>${t('help.intro')}</p>
    <ul class="bands">${BANDS.map(([letter, key]) => html`<li><span class="pi pi-none"><span class="pi-letter">${letter}</span></span> ${t(key)}</li>`)}</ul>
    <p class="colours"><span class="swatch pi-red"></span><span class="swatch pi-pink"></span><span class="swatch pi-amber"></span><span class="swatch pi-green"></span> ${t('help.colours')}</p>
    <h2>${t('help.devices_title')}</h2>
    <p>${t('help.devices')}</p>
  </section>`;
}
