// The results tabs under the navigation: the saved tabs of this device (GET /tabs: the server keeps
// them per device, so another browser shows its own), plus the open search when it is not saved.
// A saved tab can be renamed, moved left or right (its position) and closed (deleted). Screens that
// change the tabs call tabsChanged() and every bar reloads.
import { html, Component } from '../html.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { ErrorNote } from './field.js';

const EVENT = 'caliopen:tabs';

export function tabsChanged() {
  window.dispatchEvent(new Event(EVENT));
}

const href = (q) => `#/search?q=${encodeURIComponent(q)}`;

export class TabsBar extends Component {
  state = { tabs: [], editing: null, title: '', error: null };

  componentDidMount() {
    window.addEventListener(EVENT, this.load);
    this.load();
  }

  componentWillUnmount() {
    window.removeEventListener(EVENT, this.load);
  }

  load = async () => {
    try {
      const { items } = await api('GET', '/tabs');
      this.setState({ tabs: [...items].sort((a, b) => a.position - b.position), error: null });
    } catch (error) {
      // A session without a device has no tabs to keep: no bar rather than an error.
      this.setState({ tabs: [], error: error.code === 'no_device' || error.status === 401 ? null : error });
    }
  };

  async change(run) {
    try {
      await run();
      this.setState({ error: null });
    } catch (error) {
      this.setState({ error });
    }
    tabsChanged();
  }

  move(tab, delta) {
    const { tabs } = this.state;
    const to = tabs.indexOf(tab) + delta;
    if (to < 0 || to >= tabs.length) return;
    this.change(() => api('PATCH', `/tabs/${tab.id}`, { body: { position: to } }));
  }

  close(tab) {
    const open = this.props.route.name === 'search' && this.props.route.query.get('q') === tab.query;
    this.change(async () => {
      await api('DELETE', `/tabs/${tab.id}`);
      if (open) navigate('/timeline');
    });
  }

  startRename = (tab) => this.setState({ editing: tab.id, title: tab.title });

  rename = (e) => {
    e.preventDefault();
    const id = this.state.editing;
    this.setState({ editing: null });
    this.change(() => api('PATCH', `/tabs/${id}`, { body: { title: this.state.title } }));
  };

  renderTab(tab, i, active) {
    if (this.state.editing === tab.id) {
      return html`<li class="tab active"><form class="tab-rename" onSubmit=${this.rename}>
        <input aria-label=${t('tabs.title')} value=${this.state.title} maxLength="100" required
          onInput=${(e) => this.setState({ title: e.currentTarget.value })} />
        <button type="submit" class="quiet">${t('tabs.save')}</button>
        <button type="button" class="quiet" onClick=${() => this.setState({ editing: null })}>${t('tabs.cancel')}</button>
      </form></li>`;
    }
    const n = this.state.tabs.length;
    return html`<li class=${`tab${active ? ' active' : ''}`} data-tab=${tab.id}>
      <a href=${href(tab.query)} title=${tab.query} aria-current=${active ? 'page' : undefined}>${tab.title || tab.query}</a>
      ${active ? html`
        <button type="button" class="tab-btn" title=${t('tabs.rename')} aria-label=${t('tabs.rename')} onClick=${() => this.startRename(tab)}>✎</button>
        ${i > 0 ? html`<button type="button" class="tab-btn" title=${t('tabs.left')} aria-label=${t('tabs.left')} onClick=${() => this.move(tab, -1)}>‹</button>` : null}
        ${i < n - 1 ? html`<button type="button" class="tab-btn" title=${t('tabs.right')} aria-label=${t('tabs.right')} onClick=${() => this.move(tab, 1)}>›</button>` : null}` : null}
      <button type="button" class="tab-btn" title=${t('tabs.close')} aria-label=${t('tabs.close_named', { name: tab.title || tab.query })} onClick=${() => this.close(tab)}>×</button>
    </li>`;
  }

  render({ route }) {
    const { tabs, error } = this.state;
    const q = route.name === 'search' ? route.query.get('q') || '' : null;
    const unsaved = q && !tabs.some((tab) => tab.query === q);
    if (!tabs.length && !unsaved && !error) return null;
    return html`<div class="tabs-bar">
      <ul class="tabs" aria-label=${t('tabs.label')}>
        ${tabs.map((tab, i) => this.renderTab(tab, i, tab.query === q))}
        ${unsaved ? html`<li class="tab active unsaved"><a href=${href(q)} aria-current="page">${q}</a> <span class="muted">${t('tabs.unsaved')}</span></li>` : null}
      </ul>
      <${ErrorNote} error=${error} />
    </div>`;
  }
}
