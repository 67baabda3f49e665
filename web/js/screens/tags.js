// Managing tags: the list with their colours; create (name and colour), rename, recolour, delete
// after a confirmation. System tags (SPAM…) are shown but keep their names and cannot go. A click
// on a tag opens its results tab.
import { html, Component } from '../html.js';
import { t, errorText } from '../i18n.js';
import { api } from '../api.js';
import { TagChip } from './search.js';

const DEFAULT_COLOUR = '#2f5fd0';

// system_tag in the catalogue speaks of contact groups; here it is about renaming and deleting.
function TagError({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.code === 'system_tag' ? t('tags.system_error') : errorText(error)}</p>`;
}

class TagItem extends Component {
  state = { mode: 'view', name: '', color: DEFAULT_COLOUR, error: null, busy: false };

  edit = () => this.setState({ mode: 'edit', name: this.props.tag.name, color: this.props.tag.color || DEFAULT_COLOUR, error: null });
  cancel = () => this.setState({ mode: 'view', error: null });

  async run(method, body) {
    this.setState({ busy: true, error: null });
    try {
      await api(method, `/tags/${this.props.tag.id}`, body ? { body } : {});
      this.setState({ mode: 'view', busy: false });
      this.props.onChanged();
    } catch (error) {
      this.setState({ error, busy: false });
    }
  }

  save = (e) => {
    e.preventDefault();
    const { tag } = this.props;
    const body = { color: this.state.color };
    if (!tag.is_system) body.name = this.state.name;
    this.run('PATCH', body);
  };

  renderEdit() {
    const { tag } = this.props;
    const { name, color, busy } = this.state;
    return html`<form class="tag-edit" onSubmit=${this.save}>
      ${tag.is_system ? null : html`<label class="field"><span>${t('tags.name')}</span>
        <input name="name" value=${name} required maxLength="64" onInput=${(e) => this.setState({ name: e.currentTarget.value })} /></label>`}
      <label class="field colour"><span>${t('tags.colour')}</span>
        <input name="color" type="color" value=${color} onInput=${(e) => this.setState({ color: e.currentTarget.value })} /></label>
      <div class="actions">
        <button type="submit" disabled=${busy}>${t('tags.save')}</button>
        <button type="button" class="quiet" onClick=${this.cancel}>${t('tags.cancel')}</button>
      </div>
    </form>`;
  }

  renderConfirm() {
    return html`<div class="confirm" role="alert">
      <p>${t('tags.confirm', { name: this.props.tag.name })}</p>
      <div class="actions">
        <button type="button" class="danger" disabled=${this.state.busy} onClick=${() => this.run('DELETE')}>${t('tags.delete_confirm')}</button>
        <button type="button" class="quiet" onClick=${this.cancel}>${t('tags.cancel')}</button>
      </div>
    </div>`;
  }

  render({ tag }) {
    const { mode, error } = this.state;
    return html`<li class="tag-item" data-tag=${tag.id}>
      <div class="tag-line">
        <${TagChip} tag=${tag} />
        ${tag.is_system ? html`<span class="muted">${t('tags.system')}</span>` : null}
        ${mode === 'view' ? html`<span class="actions">
          <button type="button" class="quiet" onClick=${this.edit}>${tag.is_system ? t('tags.recolour') : t('tags.edit')}</button>
          ${tag.is_system ? null : html`<button type="button" class="quiet danger-text" onClick=${() => this.setState({ mode: 'confirm' })}>${t('tags.delete')}</button>`}
        </span>` : null}
      </div>
      <${TagError} error=${error} />
      ${mode === 'edit' ? this.renderEdit() : mode === 'confirm' ? this.renderConfirm() : null}
    </li>`;
  }
}

export class TagsScreen extends Component {
  state = { items: null, name: '', color: DEFAULT_COLOUR, error: null, busy: false };

  componentDidMount() {
    this.load();
  }

  load = async () => {
    try {
      const { items } = await api('GET', '/tags');
      this.setState({ items });
    } catch (error) {
      this.setState({ error, items: [] });
    }
  };

  create = async (e) => {
    e.preventDefault();
    this.setState({ busy: true, error: null });
    try {
      await api('POST', '/tags', { body: { name: this.state.name, color: this.state.color } });
      this.setState({ name: '', busy: false });
      this.load();
    } catch (error) {
      this.setState({ error, busy: false });
    }
  };

  render() {
    const { items, name, color, error, busy } = this.state;
    return html`<section class="tags">
      <h1>${t('tags.title')}</h1>
      <p class="muted">${t('tags.intro')}</p>
      <form class="tag-new" onSubmit=${this.create}>
        <label class="field"><span>${t('tags.new_name')}</span>
          <input name="name" value=${name} required maxLength="64" onInput=${(e) => this.setState({ name: e.currentTarget.value })} /></label>
        <label class="field colour"><span>${t('tags.colour')}</span>
          <input name="color" type="color" value=${color} onInput=${(e) => this.setState({ color: e.currentTarget.value })} /></label>
        <button type="submit" disabled=${busy}>${t('tags.create')}</button>
      </form>
      <${TagError} error=${error} />
      ${items === null ? html`<p class="loading">${t('loading')}</p>`
        : items.length ? html`<ul class="tag-list">${items.map((tag) => html`<${TagItem} key=${tag.id} tag=${tag} onChanged=${this.load} />`)}</ul>`
        : html`<p class="empty">${t('tags.empty')}</p>`}
    </section>`;
  }
}
