// The address book: known contacts and suggestions collected from exchanges, sorted by name, with
// a search (names, emails, organisations), filters by status and by tag (tags are the groups) and
// the API's cursor for more. A contact is added by hand (an address another contact has: offer to
// open that one), a suggestion accepted, and vCard files imported (the file is the request body)
// and exported (a plain download link).
import { html, Component } from '../html.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { ErrorNote } from '../components/field.js';
import { PiBadge } from '../components/pi-badge.js';
import { ContactForm } from '../components/contact-form.js';

const PAGE = 50;

function ContactItem({ c, onAccept }) {
  return html`<li class="contact-item" data-contact=${c.id}>
    <${PiBadge} pi=${c.pi} label=${c.name} />
    <a class="contact-summary" href=${`#/contacts/${c.id}`}>
      <div class="contact-name">${c.name}${c.status === 'suggested' ? html` <span class="chip suggested">${t('contacts.suggested_mark')}</span>` : null}</div>
      <div class="contact-emails muted">${c.emails.join(', ')}</div>
      ${c.organisation ? html`<div class="contact-org">${c.organisation}</div>` : null}
    </a>
    <div class="contact-side">
      ${c.tags.length ? html`<span class="chips">${c.tags.map((tag) => html`<span class="chip">${tag}</span>`)}</span>` : null}
      ${c.status === 'suggested' ? html`<button type="button" class="quiet" onClick=${() => onAccept(c)}>${t('contacts.accept')}</button>` : null}
    </div>
  </li>`;
}

function ImportResult({ result }) {
  if (!result) return null;
  return html`<div class="import-result notice" role="status">
    <p>${t('contacts.import_done', { created: result.created, updated: result.updated, skipped: result.skipped, errors: result.errors.length })}</p>
    ${result.errors.length ? html`<ul>${result.errors.map((e) => html`<li>${t('contacts.import_error', { index: e.index + 1, message: e.message })}</li>`)}</ul>` : null}
  </div>`;
}

export class ContactsScreen extends Component {
  state = { items: null, next: null, q: '', status: '', tag: '', tags: [], error: null, adding: false, addError: null, existing: null, imported: null, version: '4.0' };

  componentDidMount() {
    this.load();
    api('GET', '/tags').then((res) => this.setState({ tags: res.items.filter((tag) => !tag.is_system) }), () => {});
  }

  query(cursor) {
    const { q, status, tag } = this.state;
    const p = new URLSearchParams({ limit: String(PAGE) });
    if (q.trim()) p.set('q', q.trim());
    if (status) p.set('status', status);
    if (tag) p.set('tag', tag);
    if (cursor) p.set('cursor', cursor);
    return `/contacts?${p}`;
  }

  load = async (cursor) => {
    try {
      const page = await api('GET', this.query(cursor));
      this.setState({ items: cursor ? [...(this.state.items ?? []), ...page.items] : page.items, next: page.next, error: null });
    } catch (error) {
      this.setState({ error });
    }
  };

  filter = (key, value) => this.setState({ [key]: value }, () => this.load());

  onSearch = (e) => {
    e.preventDefault();
    this.load();
  };

  add = async (body) => {
    try {
      const card = await api('POST', '/contacts', { body });
      this.setState({ adding: false, addError: null, existing: null });
      navigate(`/contacts/${card.id}`);
    } catch (error) {
      this.setState({ addError: error, existing: error.code === 'contact_exists' ? error.details?.contact_id ?? null : null });
    }
  };

  accept = async (c) => {
    try {
      await api('POST', `/contacts/${c.id}/accept`);
      this.load();
    } catch (error) {
      this.setState({ error });
    }
  };

  importFile = async (e) => {
    const input = e.currentTarget;
    const file = input.files?.[0];
    if (!file) return;
    try {
      const imported = await api('POST', '/contacts/import', { raw: file, rawType: 'text/vcard' });
      this.setState({ imported, error: null });
      this.load();
    } catch (error) {
      this.setState({ error, imported: null });
    } finally {
      input.value = '';
    }
  };

  renderAdd() {
    const { addError, existing } = this.state;
    return html`<section class="contact-add card-panel">
      <h2>${t('contacts.add_title')}</h2>
      <${ContactForm} error=${addError} submitLabel=${t('contacts.add_submit')} onSave=${this.add}
        onCancel=${() => this.setState({ adding: false, addError: null, existing: null })} />
      ${existing ? html`<p class="notice">${t('contacts.exists')} <a href=${`#/contacts/${existing}`}>${t('contacts.open_existing')}</a></p>` : null}
    </section>`;
  }

  render() {
    const { items, next, q, status, tag, tags, error, adding, imported, version } = this.state;
    return html`<section class="contacts">
      <header class="screen-head"><h1>${t('contacts.title')}</h1>
        <button type="button" onClick=${() => this.setState({ adding: !adding, addError: null, existing: null })}>${t('contacts.add')}</button></header>
      ${adding ? this.renderAdd() : null}
      <div class="contacts-tools">
        <form class="contacts-search" role="search" onSubmit=${this.onSearch}>
          <input type="search" value=${q} aria-label=${t('contacts.search')} placeholder=${t('contacts.search')}
            onInput=${(e) => this.setState({ q: e.currentTarget.value })} />
          <button type="submit">${t('contacts.search_go')}</button>
        </form>
        <label class="inline-field"><span>${t('contacts.status')}</span>
          <select value=${status} aria-label=${t('contacts.status')} onChange=${(e) => this.filter('status', e.currentTarget.value)}>
            <option value="" selected=${status === ''}>${t('contacts.status_all')}</option>
            <option value="known" selected=${status === 'known'}>${t('contacts.status_known')}</option>
            <option value="suggested" selected=${status === 'suggested'}>${t('contacts.status_suggested')}</option>
          </select></label>
        <label class="inline-field"><span>${t('contacts.group')}</span>
          <select value=${tag} aria-label=${t('contacts.group')} onChange=${(e) => this.filter('tag', e.currentTarget.value)}>
            <option value="" selected=${tag === ''}>${t('contacts.group_all')}</option>
            ${tags.map((g) => html`<option value=${g.name} selected=${tag === g.name}>${g.name}</option>`)}
          </select></label>
      </div>
      <div class="contacts-files">
        <label class="file-button"><span>${t('contacts.import')}</span>
          <input type="file" accept=".vcf,.vcard,text/vcard,text/x-vcard" onChange=${this.importFile} /></label>
        <span class="export">
          <a class="button-link" href=${`/api/v1/contacts/export.vcf?version=${version}`} download="contacts.vcf">${t('contacts.export')}</a>
          <label class="inline-field"><span>${t('contacts.vcard_version')}</span>
            <select value=${version} aria-label=${t('contacts.vcard_version')} onChange=${(e) => this.setState({ version: e.currentTarget.value })}>
              <option value="4.0" selected=${version === '4.0'}>4.0</option>
              <option value="3.0" selected=${version === '3.0'}>3.0</option>
            </select></label>
        </span>
      </div>
      <${ImportResult} result=${imported} />
      <${ErrorNote} error=${error} />
      ${items === null ? html`<p class="loading">${t('loading')}</p>`
        : items.length ? html`<ul class="contact-list">${items.map((c) => html`<${ContactItem} key=${c.id} c=${c} onAccept=${this.accept} />`)}</ul>`
        : html`<p class="empty">${q || status || tag ? t('contacts.none_found') : t('contacts.empty')}</p>`}
      ${next ? html`<button type="button" onClick=${() => this.load(next)}>${t('contacts.more')}</button>` : null}
    </section>`;
  }
}
