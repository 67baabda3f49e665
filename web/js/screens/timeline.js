// The timeline: discussions newest first, with participants, subject, excerpt, PI and unread
// count, paged by the API's cursor. (Filters, tags, live updates and keyboard navigation come with
// the next screens.)
import { html, Component } from '../html.js';
import { t, formatDate } from '../i18n.js';
import { api } from '../api.js';
import { ErrorNote } from '../components/field.js';
import { PiBadge } from '../components/pi-badge.js';

function DiscussionItem({ d }) {
  const who = d.participants.map((p) => p.name || p.address).join(', ');
  return html`<li class=${d.unread_count ? 'discussion unread' : 'discussion'}>
    <${PiBadge} pi=${d.pi} />
    <a class="summary" href=${`#/discussions/${d.id}`}>
      <div class="line"><span class="who">${who}</span>
        <time datetime=${new Date(d.last_message_at).toISOString()}>${formatDate(d.last_message_at)}</time></div>
      <div class="subject">${d.subject || t('mail.no_subject')}${d.unread_count ? html` <span class="badge">${t('mail.unread', { n: d.unread_count })}</span>` : null}</div>
      <div class="excerpt">${d.excerpt}</div>
    </a>
  </li>`;
}

export class TimelineScreen extends Component {
  state = { items: null, next: null, error: null };

  componentDidMount() {
    this.load();
  }

  load = async (before) => {
    try {
      const page = await api('GET', `/discussions?limit=50${before ? `&before=${encodeURIComponent(before)}` : ''}`);
      this.setState({ items: before ? [...(this.state.items ?? []), ...page.items] : page.items, next: page.next, error: null });
    } catch (error) {
      this.setState({ error });
    }
  };

  render() {
    const { items, next, error } = this.state;
    return html`<section class="mail">
      <header class="screen-head"><h1>${t('mail.title')}</h1>
        <button type="button" class="quiet" onClick=${() => this.load()}>${t('mail.refresh')}</button></header>
      <${ErrorNote} error=${error} />
      ${items === null ? html`<p class="loading">${t('loading')}</p>`
        : items.length ? html`<ul class="timeline">${items.map((d) => html`<${DiscussionItem} key=${d.id} d=${d} />`)}</ul>`
        : html`<p class="empty">${t('mail.empty')}</p>`}
      ${next ? html`<button type="button" onClick=${() => this.load(next)}>${t('mail.more')}</button>` : null}
    </section>`;
  }
}
