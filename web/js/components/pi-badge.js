// The Privacy Index badge: letter, colour and score; a click opens the reasons (when the API gave
// them), each reason a link to its line of the help page (#/help/SIGNAL), and a link to the whole
// page. Used for the account, devices, contacts, discussions and messages alike.
import { html, Component, createRef } from '../html.js';
import { t } from '../i18n.js';

export class PiBadge extends Component {
  state = { open: false };
  wrap = createRef();

  toggle = () => this.setState({ open: !this.state.open });
  close = () => this.setState({ open: false });

  // Open, it closes on a click anywhere else (another badge, a link, the page).
  onOutside = (e) => {
    if (this.wrap.current && !this.wrap.current.contains(e.target)) this.setState({ open: false });
  };

  componentDidUpdate(_, prev) {
    if (this.state.open === prev.open) return;
    if (this.state.open) document.addEventListener('click', this.onOutside, true);
    else document.removeEventListener('click', this.onOutside, true);
  }

  componentWillUnmount() {
    document.removeEventListener('click', this.onOutside, true);
  }

  onKey = (e) => {
    if (e.key === 'Escape' && this.state.open) {
      e.stopPropagation();
      this.setState({ open: false });
    }
  };

  render({ pi, label }) {
    if (!pi) return html`<span class="pi pi-none" title=${t('pi.none')}>–</span>`;
    const { open } = this.state;
    const title = t('pi.title', { score: pi.score, letter: pi.letter });
    return html`<span class="pi-wrap" ref=${this.wrap} onKeyDown=${this.onKey}>
      <button type="button" class=${`pi pi-${pi.colour}`} aria-expanded=${open} aria-label=${label ? `${label}: ${title}` : title} title=${title} onClick=${this.toggle}>
        <span class="pi-letter">${pi.letter}</span><span class="pi-score">${pi.score}</span>
      </button>
      ${open ? html`<div class="pi-pop" role="dialog" aria-label=${title}>
        <p class="pi-head"><strong>${title}</strong></p>
        ${pi.reasons?.length
          ? html`<ul class="pi-reasons">${pi.reasons.map((r) => html`<li class=${r.points > 0 ? 'gain' : 'none'}>
              <span class="pts">${r.points > 0 ? `+${r.points}` : '0'}</span>
              ${r.signal ? html`<a class="reason" href=${`#/help/${encodeURIComponent(r.signal)}`} onClick=${this.close}>${r.help}</a>` : html`<span>${r.help}</span>`}</li>`)}</ul>`
          : html`<p class="muted">${t('pi.no_reasons')}</p>`}
        <a href="#/help" onClick=${this.close}>${t('pi.help_link')}</a>
      </div>` : null}
    </span>`;
  }
}
