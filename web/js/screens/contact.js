// One contact's card: names, emails (type, preferred), phones, postal addresses, organisations,
// notes, tags (the groups) to add and remove, the contact's PI with its reasons, its OpenPGP keys
// (components/contact-keys.js), the discussions held with it, and its vCard. Edit sends
// the whole form (PATCH: lists given replace the stored ones); delete asks first.
import { html, Component } from '../html.js';
import { t, formatDate } from '../i18n.js';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { ErrorNote } from '../components/field.js';
import { PiBadge } from '../components/pi-badge.js';
import { ContactForm } from '../components/contact-form.js';
import { ContactKeys } from '../components/contact-keys.js';

const place = (type) => (type ? t(`contact.place.${type}`) : '');

function Facts({ card }) {
  const rows = [];
  for (const e of card.emails) {
    rows.push([t('contact.email'), html`<a href=${`#/compose?to=${encodeURIComponent(e.address)}`}>${e.address}</a>
      ${e.type ? html` <span class="muted">${place(e.type)}</span>` : null}${e.preferred ? html` <span class="chip">${t('contact.preferred')}</span>` : null}`]);
  }
  for (const p of card.phones) rows.push([t('contact.phone'), html`${p.number}${p.type ? html` <span class="muted">${p.type}</span>` : null}`]);
  for (const a of card.addresses) {
    const text = [a.street, [a.postcode, a.city].filter(Boolean).join(' '), a.region, a.country].filter(Boolean).join(', ');
    rows.push([t('contact.address'), html`${text}${a.type ? html` <span class="muted">${place(a.type)}</span>` : null}`]);
  }
  for (const o of card.organisations) rows.push([t('contact.organisation'), [o.name, o.department, o.title].filter(Boolean).join(' · ')]);
  if (card.notes) rows.push([t('contact.notes'), html`<span class="notes">${card.notes}</span>`]);
  return html`<dl class="contact-facts">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

class Tags extends Component {
  state = { name: '', error: null };

  change = async (change) => {
    try {
      const res = await api('POST', `/contacts/${this.props.id}/tags`, { body: change });
      this.setState({ name: '', error: null });
      this.props.onChange(res.tags);
    } catch (error) {
      this.setState({ error });
    }
  };

  add = (e) => {
    e.preventDefault();
    const name = this.state.name.trim();
    if (name) this.change({ add: [name] });
  };

  render({ tags }) {
    return html`<section class="contact-tags"><h2>${t('contact.tags')}</h2>
      ${tags.length ? html`<ul class="chips">${tags.map((tag) => html`<li class="chip">${tag.name}
        <button type="button" class="chip-remove" aria-label=${t('contact.tag_remove', { name: tag.name })} title=${t('contact.tag_remove', { name: tag.name })}
          onClick=${() => this.change({ remove: [tag.name] })}>×</button></li>`)}</ul>` : html`<p class="muted">${t('contact.no_tags')}</p>`}
      <form class="tag-add" onSubmit=${this.add}>
        <input value=${this.state.name} aria-label=${t('contact.tag_name')} placeholder=${t('contact.tag_name')} maxlength="64"
          onInput=${(e) => this.setState({ name: e.currentTarget.value })} />
        <button type="submit" class="quiet">${t('contact.tag_add')}</button>
      </form>
      <${ErrorNote} error=${this.state.error} />
    </section>`;
  }
}

function Discussions({ items }) {
  if (items === null) return html`<p class="loading">${t('loading')}</p>`;
  if (!items.length) return html`<p class="muted">${t('contact.no_discussions')}</p>`;
  return html`<ul class="contact-discussions">${items.map((d) => html`<li>
    <a href=${`#/discussions/${d.id}`}>${d.subject || t('mail.no_subject')}</a>
    <time class="muted" datetime=${new Date(d.last_message_at).toISOString()}>${formatDate(d.last_message_at)}</time></li>`)}</ul>`;
}

export class ContactScreen extends Component {
  state = { card: null, discussions: null, next: null, mode: 'view', error: null, editError: null, busy: false };

  componentDidMount() {
    this.load();
  }

  componentDidUpdate(prev) {
    if (prev.id !== this.props.id) this.load();
  }

  load = async () => {
    try {
      const card = await api('GET', `/contacts/${this.props.id}`);
      this.setState({ card, error: null, mode: 'view' });
      this.loadDiscussions();
    } catch (error) {
      this.setState({ error });
    }
  };

  /** A key verified or added: the card again, for its PI. */
  refreshCard = async () => {
    try {
      this.setState({ card: await api('GET', `/contacts/${this.props.id}`) });
    } catch (error) {
      this.setState({ error });
    }
  };

  loadDiscussions = async (before) => {
    try {
      const page = await api('GET', `/contacts/${this.props.id}/discussions?limit=20${before ? `&before=${encodeURIComponent(before)}` : ''}`);
      this.setState({ discussions: before ? [...(this.state.discussions ?? []), ...page.items] : page.items, next: page.next });
    } catch (error) {
      this.setState({ error, discussions: [] });
    }
  };

  save = async (body) => {
    try {
      const card = await api('PATCH', `/contacts/${this.props.id}`, { body });
      this.setState({ card, mode: 'view', editError: null });
    } catch (editError) {
      this.setState({ editError });
    }
  };

  remove = async () => {
    this.setState({ busy: true });
    try {
      await api('DELETE', `/contacts/${this.props.id}`);
      navigate('/contacts');
    } catch (error) {
      this.setState({ error, busy: false, mode: 'view' });
    }
  };

  accept = async () => {
    try {
      this.setState({ card: await api('POST', `/contacts/${this.props.id}/accept`) });
    } catch (error) {
      this.setState({ error });
    }
  };

  renderActions(card) {
    const { mode, busy } = this.state;
    if (mode === 'confirm') {
      return html`<div class="confirm" role="alert"><p>${t('contact.confirm_delete', { name: card.name })}</p>
        <div class="actions">
          <button type="button" class="danger" disabled=${busy} onClick=${this.remove}>${t('contact.delete_confirm')}</button>
          <button type="button" class="quiet" onClick=${() => this.setState({ mode: 'view' })}>${t('contact.cancel')}</button>
        </div></div>`;
    }
    return html`<div class="actions">
      ${card.status === 'suggested' ? html`<button type="button" onClick=${this.accept}>${t('contacts.accept')}</button>` : null}
      <button type="button" class="quiet" onClick=${() => this.setState({ mode: 'edit', editError: null })}>${t('contact.edit')}</button>
      <a class="button-link quiet" href=${`/api/v1/contacts/${card.id}/vcard?version=4.0`} download=${`contact-${card.id}.vcf`}>${t('contact.vcard')}</a>
      <button type="button" class="quiet danger-text" onClick=${() => this.setState({ mode: 'confirm' })}>${t('contact.delete')}</button>
    </div>`;
  }

  render() {
    const { card, discussions, next, mode, error, editError } = this.state;
    if (!card) return html`<section class="contact"><p><a href="#/contacts">${t('contact.back')}</a></p>
      ${error ? html`<${ErrorNote} error=${error} />` : html`<p class="loading">${t('loading')}</p>`}</section>`;
    return html`<section class="contact" data-contact=${card.id}>
      <p><a href="#/contacts">${t('contact.back')}</a></p>
      <header class="screen-head contact-head">
        <${PiBadge} pi=${card.pi} label=${card.name} />
        <h1>${card.name}</h1>
        ${card.status === 'suggested' ? html`<span class="chip suggested">${t('contacts.suggested_mark')}</span>` : null}
      </header>
      <${ErrorNote} error=${error} />
      ${mode === 'edit'
        ? html`<${ContactForm} card=${card} error=${editError} submitLabel=${t('contact.save')} onSave=${this.save} onCancel=${() => this.setState({ mode: 'view' })} />`
        : html`<${Facts} card=${card} />${this.renderActions(card)}`}
      <p class="muted contact-counts">${t('contact.counts', { messages: card.counts.messages, discussions: card.counts.discussions, encrypted: card.counts.encrypted })}</p>
      <${Tags} id=${card.id} tags=${card.tags} onChange=${(tags) => this.setState({ card: { ...card, tags } })} />
      <${ContactKeys} contactId=${card.id} emails=${card.emails.map((e) => e.address)} onChanged=${this.refreshCard} />
      <section><h2>${t('contact.discussions')}</h2>
        <${Discussions} items=${discussions} />
        ${next ? html`<button type="button" class="quiet" onClick=${() => this.loadDiscussions(next)}>${t('mail.more')}</button>` : null}
      </section>
    </section>`;
  }
}
