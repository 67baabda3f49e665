// Search results: one results tab per query (#/search?q=…), from POST /search. A results tab can be
// saved for this device (POST /tabs); the tabs bar (components/tabs-bar.js) lists the saved ones.
// openTagSearch is how any screen turns a click on a tag into its results tab.
import { html, Component } from '../html.js';
import { t, formatDate } from '../i18n.js';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { ErrorNote } from '../components/field.js';
import { PiBadge } from '../components/pi-badge.js';
import { tabsChanged } from '../components/tabs-bar.js';

const PAGE = 50;

/** The query that finds a tag: tag:NAME, quoted when the name has spaces or quotes. */
export function tagQuery(name) {
  return /[\s"()]/u.test(name) ? `tag:"${name.replace(/"/g, '')}"` : `tag:${name}`;
}

export function searchPath(q) {
  return `/search?q=${encodeURIComponent(q)}`;
}

export function openTagSearch(name) {
  navigate(searchPath(tagQuery(name)));
}

/** A tag as a chip: its colour, and a click opens its results tab. */
export function TagChip({ tag }) {
  const style = tag.color ? { '--tag': tag.color } : undefined;
  return html`<button type="button" class="tag-chip" style=${style} title=${t('tags.show_mail', { name: tag.name })}
    onClick=${(e) => { e.preventDefault(); e.stopPropagation(); openTagSearch(tag.name); }}>${tag.name}</button>`;
}

function Hit({ hit }) {
  return html`<li class=${`discussion hit${hit.is_read ? '' : ' unread'}`}>
    <${PiBadge} pi=${hit.pi} />
    <div class="summary-col"><a class="summary" href=${`#/discussions/${hit.discussion_id}`}>
      <div class="line"><span class="who">${hit.from?.name || hit.from?.address || ''}</span><span>${formatDate(hit.date)}</span></div>
      <div class="subject">${hit.subject || t('mail.no_subject')}${hit.has_attachments ? html` <span class="badge" title=${t('search.attachment')}>📎</span>` : null}</div>
      <div class="excerpt">${hit.excerpt}</div>
    </a>
    ${hit.tags?.length ? html`<div class="tags">${hit.tags.map((name) => html`<${TagChip} key=${name} tag=${{ name }} />`)}</div>` : null}</div>
  </li>`;
}

export class SearchScreen extends Component {
  state = { q: '', items: null, total: 0, capped: false, error: null, saved: null, saving: false, more: false };

  componentDidMount() {
    this.load();
  }

  componentDidUpdate(prev) {
    if (prev.q !== this.props.q) this.load();
  }

  async load(offset = 0) {
    const { q } = this.props;
    if (!q) return this.setState({ items: [], total: 0, error: null });
    if (offset === 0) this.setState({ items: null, error: null, saved: null });
    try {
      const [res, tabs] = await Promise.all([
        api('POST', '/search', { body: { q, limit: PAGE, offset } }),
        offset === 0 ? api('GET', '/tabs').catch(() => ({ items: [] })) : null,
      ]);
      if (q !== this.props.q) return;
      const items = offset === 0 ? res.items : [...(this.state.items ?? []), ...res.items];
      const saved = tabs ? tabs.items.find((tab) => tab.query === q) ?? null : this.state.saved;
      this.setState({ items, total: res.total, capped: res.total_capped, saved, more: res.items.length === PAGE });
    } catch (error) {
      this.setState({ error, items: [] });
    }
  }

  save = async () => {
    this.setState({ saving: true, error: null });
    try {
      const tab = await api('POST', '/tabs', { body: { title: this.props.q.slice(0, 100), query: this.props.q } });
      this.setState({ saved: tab, saving: false });
      tabsChanged();
    } catch (error) {
      this.setState({ error, saving: false });
    }
  };

  render({ q }) {
    const { items, total, capped, error, saved, saving, more } = this.state;
    return html`<section class="search-results">
      <div class="screen-head">
        <h1>${t('search.title', { q })}</h1>
        ${saved
          ? html`<span class="tag-current">${t('search.saved')}</span>`
          : html`<button type="button" disabled=${saving || !q} onClick=${this.save}>${t('search.save')}</button>`}
      </div>
      <${ErrorNote} error=${error} />
      ${items === null ? html`<p class="loading">${t('loading')}</p>` : html`
        <p class="muted">${t(capped ? 'search.count_capped' : 'search.count', { n: total })}</p>
        <p class="hint">${t('search.sealed_note')}</p>
        ${items.length ? html`<ul class="timeline">${items.map((hit) => html`<${Hit} key=${hit.id} hit=${hit} />`)}</ul>` : html`<p class="empty">${t('search.empty')}</p>`}
        ${more ? html`<button type="button" class="quiet" onClick=${() => this.load(items.length)}>${t('search.more')}</button>` : null}`}
      <p class="hint">${t('search.operators')}</p>
    </section>`;
  }
}
