// The help page every PI badge links to, rendered from GET /help/pi: the server's own weights
// tables (message, account, device), so the points shown are the ones it scores with, never a copy.
// #/help/SIGNAL scrolls to that signal and highlights it. Public: reachable before logging in.
import { html, Component } from '../html.js';
import { t, currentLang } from '../i18n.js';
import { api } from '../api.js';
import { ErrorNote } from '../components/field.js';

const anchor = (section, signal) => `help-${section}-${signal}`;

function Signals({ section, signals, axes, target }) {
  return axes.map(({ axis, help }) => html`<div class="help-axis">
    <h3>${help}</h3>
    <ul class="signals">
      ${signals.filter((s) => s.axis === axis).map((s) => html`<li id=${anchor(section, s.signal)} data-signal=${s.signal}
          class=${target === s.signal ? 'signal highlight' : 'signal'}>
        <span class="pts">${s.points > 0 ? `+${s.points}` : String(s.points)}</span>
        <span class="signal-help">${s.help} <code class="muted">${s.signal}</code></span>
      </li>`)}
    </ul>
  </div>`);
}

export class HelpScreen extends Component {
  state = { help: null, error: null };

  componentDidMount() {
    this.load();
  }

  componentDidUpdate(prev, prevState) {
    if (prev.signal !== this.props.signal || (!prevState.help && this.state.help)) this.scroll();
  }

  async load() {
    try {
      this.setState({ help: await api('GET', `/help/pi?lang=${currentLang()}`) });
    } catch (error) {
      this.setState({ error });
    }
  }

  scroll() {
    const { signal } = this.props;
    if (!signal) return;
    const el = document.querySelector(`.signal[data-signal="${CSS.escape(signal)}"]`);
    el?.scrollIntoView({ block: 'center' });
  }

  section(key, title, h, target) {
    return html`<section class="help-section" id=${`help-${key}`}>
      <h2>${title}</h2>
      <p>${h.help}</p>
      <${Signals} section=${key} signals=${h.signals} axes=${h.axes} target=${target} />
      ${h.tips ? html`<h3>${t('help.tips')}</h3><ul class="tips">${h.tips.map((tip) => html`<li>${tip}</li>`)}</ul>` : null}
    </section>`;
  }

  render({ signal }) {
    const { help, error } = this.state;
    return html`<section class="help">
      <h1>${t('help.title')}</h1>
      <${ErrorNote} error=${error} />
      ${help ? html`
        <p>${help.intro}</p>
        <h2>${t('help.scale')}</h2>
        <ul class="bands">${help.letters.map((b) => html`<li><span class="pi pi-none"><span class="pi-letter">${b.key}</span></span>
          <span><strong>${b.min}–${b.max}</strong> ${b.help}</span></li>`)}</ul>
        <ul class="bands">${help.colours.map((b) => html`<li><span class=${`swatch pi-${b.key}`}></span>
          <span><strong>${b.min}–${b.max}</strong> ${b.help}</span></li>`)}</ul>
        ${this.section('message', t('help.message_title'), help.message, signal)}
        <h2>${t('help.discussion_title')}</h2>
        <p>${help.discussion.help}</p>
        ${this.section('account', t('help.account_title'), help.account, signal)}
        ${this.section('device', t('help.devices_title'), help.device, signal)}
        ${help.contact ? this.section('contact', t('help.contact_title'), help.contact, signal) : null}`
        : error ? null : html`<p class="loading">${t('loading')}</p>`}
    </section>`;
  }
}
