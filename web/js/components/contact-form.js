// The contact form, for a new contact and for editing a card: names, emails (type, preferred),
// phones, postal addresses, organisations and notes. Lists are edited as rows that can be added
// and removed; empty rows are dropped on save, and the lists given replace the stored ones (PATCH).
import { html, Component } from '../html.js';
import { t } from '../i18n.js';
import { ErrorNote } from './field.js';

const PLACES = ['', 'home', 'work', 'other'];
const BLANK = {
  emails: { address: '', type: '', preferred: false },
  phones: { number: '', type: '' },
  addresses: { type: '', street: '', city: '', region: '', postcode: '', country: '' },
  organisations: { name: '', department: '', title: '' },
};
const NAMES = ['display_name', 'given_name', 'family_name'];

/** A card from the API as form state (every list has at least one row to type into). */
export function draftOf(card = {}) {
  const rows = (list, blank) => (list?.length ? list.map((r) => ({ ...blank, ...nonNull(r) })) : [{ ...blank }]);
  return {
    display_name: card.display_name ?? '', given_name: card.given_name ?? '', family_name: card.family_name ?? '', notes: card.notes ?? '',
    emails: rows(card.emails, BLANK.emails), phones: rows(card.phones, BLANK.phones),
    addresses: rows(card.addresses, BLANK.addresses), organisations: rows(card.organisations, BLANK.organisations),
  };
}

function nonNull(row) {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null && v !== undefined));
}

const filled = (row, keys) => keys.some((k) => String(row[k] ?? '').trim());
const orNull = (v) => (String(v ?? '').trim() ? String(v).trim() : null);

/** The request body for POST or PATCH /contacts. */
export function bodyOf(d) {
  return {
    ...Object.fromEntries(NAMES.map((k) => [k, orNull(d[k])])),
    notes: orNull(d.notes),
    emails: d.emails.filter((e) => filled(e, ['address'])).map((e) => ({ address: e.address.trim(), type: e.type || null, preferred: !!e.preferred })),
    phones: d.phones.filter((p) => filled(p, ['number'])).map((p) => ({ number: p.number.trim(), type: orNull(p.type) })),
    addresses: d.addresses.filter((a) => filled(a, ['street', 'city', 'region', 'postcode', 'country']))
      .map((a) => ({ type: a.type || null, street: orNull(a.street), city: orNull(a.city), region: orNull(a.region), postcode: orNull(a.postcode), country: orNull(a.country) })),
    organisations: d.organisations.filter((o) => filled(o, ['name', 'department', 'title']))
      .map((o) => ({ name: orNull(o.name), department: orNull(o.department), title: orNull(o.title) })),
  };
}

function Input({ label, value, onInput, type = 'text', required = false }) {
  return html`<label class="field"><span>${label}</span>
    <input type=${type} value=${value ?? ''} required=${required} onInput=${(e) => onInput(e.currentTarget.value)} /></label>`;
}

function PlaceSelect({ label, value, onInput }) {
  return html`<label class="field"><span>${label}</span>
    <select value=${value ?? ''} onChange=${(e) => onInput(e.currentTarget.value)}>
      ${PLACES.map((p) => html`<option value=${p} selected=${p === (value ?? '')}>${t(p ? `contact.place.${p}` : 'contact.place.none')}</option>`)}
    </select></label>`;
}

export class ContactForm extends Component {
  state = { draft: draftOf(this.props.card), busy: false };

  set = (key, value) => this.setState({ draft: { ...this.state.draft, [key]: value } });

  setRow = (list, i, key, value) => {
    const rows = this.state.draft[list].map((r, j) => (j === i ? { ...r, [key]: value } : r));
    this.set(list, rows);
  };

  addRow = (list) => this.set(list, [...this.state.draft[list], { ...BLANK[list] }]);
  removeRow = (list, i) => this.set(list, this.state.draft[list].filter((_, j) => j !== i));

  submit = async (e) => {
    e.preventDefault();
    this.setState({ busy: true });
    try {
      await this.props.onSave(bodyOf(this.state.draft));
    } finally {
      this.setState({ busy: false });
    }
  };

  rows(list, title, renderRow) {
    return html`<fieldset class=${`rows rows-${list}`}><legend>${title}</legend>
      ${this.state.draft[list].map((row, i) => html`<div class="row">
        ${renderRow(row, (key, v) => this.setRow(list, i, key, v))}
        <button type="button" class="quiet danger-text" onClick=${() => this.removeRow(list, i)}>${t('contact.remove_row')}</button>
      </div>`)}
      <button type="button" class="quiet" onClick=${() => this.addRow(list)}>${t(`contact.add_${list}`)}</button>
    </fieldset>`;
  }

  render({ error, onCancel, submitLabel }) {
    const d = this.state.draft;
    return html`<form class="contact-form" onSubmit=${this.submit}>
      <fieldset class="names"><legend>${t('contact.names')}</legend>
        <${Input} label=${t('contact.display_name')} value=${d.display_name} onInput=${(v) => this.set('display_name', v)} />
        <${Input} label=${t('contact.given_name')} value=${d.given_name} onInput=${(v) => this.set('given_name', v)} />
        <${Input} label=${t('contact.family_name')} value=${d.family_name} onInput=${(v) => this.set('family_name', v)} />
      </fieldset>
      ${this.rows('emails', t('contact.emails'), (r, on) => html`
        <${Input} label=${t('contact.email')} type="email" value=${r.address} onInput=${(v) => on('address', v)} />
        <${PlaceSelect} label=${t('contact.type')} value=${r.type} onInput=${(v) => on('type', v)} />
        <label class="check"><input type="checkbox" checked=${!!r.preferred} onChange=${(e) => on('preferred', e.currentTarget.checked)} /> ${t('contact.preferred')}</label>`)}
      ${this.rows('phones', t('contact.phones'), (r, on) => html`
        <${Input} label=${t('contact.phone')} type="tel" value=${r.number} onInput=${(v) => on('number', v)} />
        <${Input} label=${t('contact.phone_type')} value=${r.type} onInput=${(v) => on('type', v)} />`)}
      ${this.rows('addresses', t('contact.addresses'), (r, on) => html`
        <${PlaceSelect} label=${t('contact.type')} value=${r.type} onInput=${(v) => on('type', v)} />
        <${Input} label=${t('contact.street')} value=${r.street} onInput=${(v) => on('street', v)} />
        <${Input} label=${t('contact.postcode')} value=${r.postcode} onInput=${(v) => on('postcode', v)} />
        <${Input} label=${t('contact.city')} value=${r.city} onInput=${(v) => on('city', v)} />
        <${Input} label=${t('contact.region')} value=${r.region} onInput=${(v) => on('region', v)} />
        <${Input} label=${t('contact.country')} value=${r.country} onInput=${(v) => on('country', v)} />`)}
      ${this.rows('organisations', t('contact.organisations'), (r, on) => html`
        <${Input} label=${t('contact.org_name')} value=${r.name} onInput=${(v) => on('name', v)} />
        <${Input} label=${t('contact.org_department')} value=${r.department} onInput=${(v) => on('department', v)} />
        <${Input} label=${t('contact.org_title')} value=${r.title} onInput=${(v) => on('title', v)} />`)}
      <label class="field"><span>${t('contact.notes')}</span>
        <textarea rows="4" value=${d.notes} onInput=${(e) => this.set('notes', e.currentTarget.value)}></textarea></label>
      <${ErrorNote} error=${error} />
      <div class="actions">
        <button type="submit" disabled=${this.state.busy}>${submitLabel}</button>
        <button type="button" class="quiet" onClick=${onCancel}>${t('contact.cancel')}</button>
      </div>
    </form>`;
  }
}
