// The timeline: discussions newest first (participants, subject, excerpt, PI, importance, tags,
// unread count, attachment mark), filtered by tag, PI range, importance and spam, paged by the
// API's cursor (a "more" button, and the next page loads itself when the end scrolls into view).
// New mail arrives live (events `message`): the first page is fetched again and merged, so pages
// already loaded stay. Keyboard: j/k move, Enter/o open, r reply (the shell has c and /).
import { html, Component, createRef } from '../html.js';
import { t, formatDate } from '../i18n.js';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { subscribe } from '../live.js';
import { ErrorNote } from '../components/field.js';
import { PiBadge } from '../components/pi-badge.js';
import { TagChip } from './search.js';

const PAGE = 50;
let keySeen = false;
const PI_RANGES = { any: [null, null], low: [0, 40], mid: [41, 74], high: [75, 100] };
const IMPORTANCE = { any: null, normal: 0, high: 3 };

function typingInto(el) {
  return !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

function importanceMark(n) {
  if (n >= 3) return html`<span class="importance high" title=${t('mail.importance_high')} aria-label=${t('mail.importance_high')}>!</span>`;
  if (n <= -3) return html`<span class="importance low" title=${t('mail.importance_low')} aria-label=${t('mail.importance_low')}>↓</span>`;
  return null;
}

function DiscussionItem({ d, selected, colours }) {
  const who = d.participants.map((p) => p.name || p.address).join(', ');
  const cls = ['discussion', d.unread_count ? 'unread' : '', selected ? 'selected' : ''].join(' ').trim();
  return html`<li class=${cls} data-id=${d.id} aria-current=${selected ? 'true' : undefined}>
    <${PiBadge} pi=${d.pi} />
    <div class="summary-col"><a class="summary" href=${`#/discussions/${d.id}`}>
      <div class="line"><span class="who">${who}</span>
        <time datetime=${new Date(d.last_message_at).toISOString()}>${formatDate(d.last_message_at)}</time></div>
      <div class="subject">${importanceMark(d.importance)}${d.subject || t('mail.no_subject')}
        ${d.has_attachments ? html` <span class="attach-mark" title=${t('mail.has_attachments')} aria-label=${t('mail.has_attachments')}>📎</span>` : null}
        ${d.message_count > 1 ? html` <span class="count">(${d.message_count})</span>` : null}
        ${d.unread_count ? html` <span class="badge">${t('mail.unread', { n: d.unread_count })}</span>` : null}</div>
      <div class="excerpt">${d.excerpt}</div>
    </a>
    ${d.tags.length ? html`<div class="tags">${d.tags.map((name) => html`<${TagChip} key=${name} tag=${{ name, color: colours.get(name) }} />`)}</div>` : null}</div>
  </li>`;
}

export class TimelineScreen extends Component {
  state = { items: null, next: null, error: null, loading: false, selected: 0, tags: [], filters: { tag: '', pi: 'any', importance: 'any', spam: false } };
  sentinel = createRef();

  componentDidMount() {
    this.load();
    api('GET', '/tags').then((r) => this.setState({ tags: r.items })).catch(() => {});
    // no key yet (a first login): offer to make one, the step that lets mail travel sealed; once a
    // key is seen, this page does not ask again on each return to the timeline
    if (!keySeen) {
      api('GET', '/keys/me').then((r) => {
        keySeen = !!r.key;
        this.setState({ noKey: !r.key });
      }).catch(() => {});
    }
    this.offMessage = subscribe('message', () => this.refreshFirstPage());
    this.offResync = subscribe('resync', () => this.load());
    document.addEventListener('keydown', this.onKey);
    if (typeof IntersectionObserver !== 'undefined') {
      this.observer = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting) && this.state.next && !this.state.loading) this.load(this.state.next);
      });
    }
  }

  componentDidUpdate() {
    if (this.observer && this.sentinel.current && this.observed !== this.sentinel.current) {
      this.observer.disconnect();
      this.observer.observe(this.sentinel.current);
      this.observed = this.sentinel.current;
    }
  }

  componentWillUnmount() {
    this.offMessage();
    this.offResync();
    this.observer?.disconnect();
    document.removeEventListener('keydown', this.onKey);
  }

  query(before) {
    const { tag, pi, importance, spam } = this.state.filters;
    const p = new URLSearchParams({ limit: String(PAGE) });
    if (tag) p.set('tag', tag);
    const [lo, hi] = PI_RANGES[pi];
    if (lo !== null) p.set('pi_min', String(lo));
    if (hi !== null) p.set('pi_max', String(hi));
    if (IMPORTANCE[importance] !== null) p.set('importance_min', String(IMPORTANCE[importance]));
    if (spam) p.set('include_spam', '1');
    if (before) p.set('before', before);
    return `/discussions?${p}`;
  }

  load = async (before) => {
    this.setState({ loading: true });
    try {
      const page = await api('GET', this.query(before));
      this.setState({ items: before ? [...(this.state.items ?? []), ...page.items] : page.items, next: page.next, error: null, selected: before ? this.state.selected : 0 });
    } catch (error) {
      this.setState({ error });
    } finally {
      this.setState({ loading: false });
    }
  };

  /** Live: the newest page again, merged over what is loaded (older pages stay). */
  refreshFirstPage = async () => {
    try {
      const page = await api('GET', this.query());
      const fresh = new Set(page.items.map((d) => d.id));
      const old = (this.state.items ?? []).filter((d) => !fresh.has(d.id));
      const oldest = page.items[page.items.length - 1]?.last_message_at ?? Infinity;
      this.setState({ items: [...page.items, ...old.filter((d) => d.last_message_at <= oldest)], next: this.state.items?.length > page.items.length ? this.state.next : page.next });
    } catch {
      /* the next event or a manual refresh will try again */
    }
  };

  setFilter(name, value) {
    this.setState({ filters: { ...this.state.filters, [name]: value }, items: null }, () => this.load());
  }

  onKey = (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typingInto(e.target)) return;
    const items = this.state.items ?? [];
    if (!items.length) return;
    const at = Math.min(this.state.selected, items.length - 1);
    if (e.key === 'j' || e.key === 'k') {
      const next = Math.max(0, Math.min(items.length - 1, at + (e.key === 'j' ? 1 : -1)));
      this.setState({ selected: next }, () => document.querySelector('.timeline li.selected')?.scrollIntoView({ block: 'nearest' }));
      if (e.key === 'j' && next >= items.length - 5 && this.state.next && !this.state.loading) this.load(this.state.next);
    } else if ((e.key === 'Enter' || e.key === 'o') && !(e.target instanceof HTMLAnchorElement || e.target instanceof HTMLButtonElement)) {
      navigate(`/discussions/${items[at].id}`);
    } else if (e.key === 'r') {
      navigate(`/discussions/${items[at].id}?reply=1`);
    }
  };

  renderFilters() {
    const { filters, tags } = this.state;
    const sel = (name, label, options) => html`<label class="filter"><span>${label}</span>
      <select aria-label=${label} value=${filters[name]} onChange=${(e) => this.setFilter(name, e.currentTarget.value)}>
        ${options.map(([v, l]) => html`<option value=${v} selected=${v === filters[name]}>${l}</option>`)}</select></label>`;
    return html`<div class="filters">
      ${sel('tag', t('mail.filter_tag'), [['', t('mail.filter_any')], ...tags.map((tg) => [tg.name, tg.name])])}
      ${sel('pi', t('mail.filter_pi'), Object.keys(PI_RANGES).map((k) => [k, t(`mail.pi_${k}`)]))}
      ${sel('importance', t('mail.filter_importance'), Object.keys(IMPORTANCE).map((k) => [k, t(`mail.importance_${k}`)]))}
      <label class="filter check"><input type="checkbox" checked=${filters.spam} onChange=${(e) => this.setFilter('spam', e.currentTarget.checked)} /> <span>${t('mail.show_spam')}</span></label>
    </div>`;
  }

  render() {
    const { items, next, error, selected, loading, tags } = this.state;
    const colours = new Map(tags.map((tg) => [tg.name, tg.color]));
    return html`<section class="mail">
      <header class="screen-head"><h1>${t('mail.title')}</h1>
        <span class="actions">
          <a class="button" href="#/compose">${t('compose.new')}</a>
          <a class="quiet" href="#/drafts">${t('drafts.title')}</a>
          <button type="button" class="quiet" onClick=${() => this.load()}>${t('mail.refresh')}</button>
        </span></header>
      ${this.state.noKey ? html`<p class="key-nudge" role="note">🔒 ${t('keys.nudge')} <a href="#/keys">${t('keys.nudge_link')}</a></p>` : null}
      ${this.renderFilters()}
      <${ErrorNote} error=${error} />
      ${items === null ? html`<p class="loading">${t('loading')}</p>`
        : items.length ? html`<ul class="timeline">${items.map((d, i) => html`<${DiscussionItem} key=${d.id} d=${d} selected=${i === selected} colours=${colours} />`)}</ul>`
        : html`<p class="empty">${t('mail.empty')}</p>`}
      ${next ? html`<div ref=${this.sentinel} class="more"><button type="button" disabled=${loading} onClick=${() => this.load(next)}>${t('mail.more')}</button></div>` : null}
    </section>`;
  }
}
