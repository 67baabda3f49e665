// A contact's OpenPGP keys on its card: per address, the fingerprint, kind, where the key came
// from (pasted, Autocrypt, gossip, attached, WKD) and whether the user verified it; verify after
// comparing fingerprints (raises the contact's PI), forget a key, or add one by pasting it or
// picking its file. The box checks what is added (an OpenPGP public key naming that address).
import { html, Component } from '../html.js';
import { t, formatDate } from '../i18n.js';
import { api } from '../api.js';
import { ErrorNote } from './field.js';

export class ContactKeys extends Component {
  state = { keys: null, error: null, address: '', armored: '', confirm: null, busy: false };

  componentDidMount() {
    this.load();
  }

  async load() {
    try {
      const { keys } = await api('GET', `/keys/contacts?contact_id=${this.props.contactId}`);
      this.setState({ keys, error: null });
    } catch (error) {
      this.setState({ error });
    }
  }

  async act(fn) {
    this.setState({ busy: true, error: null });
    try {
      await fn();
      await this.load();
      this.props.onChanged?.();
    } catch (error) {
      this.setState({ error });
    } finally {
      this.setState({ busy: false });
    }
  }

  verify = (key, verified) => this.act(async () => {
    await api('POST', `/keys/contacts/${key.id}/verify`, { body: { verified } });
    this.setState({ confirm: null });
  });

  forget = (key) => this.act(() => api('DELETE', `/keys/contacts/${key.id}`));

  add = (e) => {
    e.preventDefault();
    const address = this.state.address || this.props.emails[0];
    this.act(async () => {
      await api('POST', '/keys/contacts', { body: { address, key: this.state.armored } });
      this.setState({ armored: '' });
    });
  };

  pickFile = async (e) => {
    const file = e.currentTarget.files[0];
    e.currentTarget.value = '';
    if (!file) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    // armored text as is; a binary key as base64, which the box reads too
    const text = new TextDecoder().decode(bytes);
    this.setState({ armored: text.includes('-----BEGIN PGP') ? text : btoa(String.fromCharCode(...bytes)) });
  };

  renderKey(k) {
    const { confirm, busy } = this.state;
    return html`<li class="contact-key" key=${k.id} data-key=${k.id}>
      <div><strong>${k.address}</strong> ${k.verified ? html`<span class="chip verified">${t('contact.key_verified')}</span>` : html`<span class="chip">${t('contact.key_unverified')}</span>`}
        ${k.revoked ? html` <span class="chip danger-text">${t('contact.key_revoked')}</span>` : null}</div>
      <code class="fingerprint">${k.fingerprint_display}</code>
      <div class="muted">${k.algorithm}${k.bits ? ` ${k.bits}` : ''} · ${t(`contact.key_source.${k.source}`)} · ${formatDate(k.added_at)}</div>
      ${confirm === k.id
        ? html`<div class="confirm" role="alert"><p>${t('contact.key_verify_ask', { fingerprint: k.fingerprint_display })}</p>
            <div class="actions"><button type="button" disabled=${busy} onClick=${() => this.verify(k, true)}>${t('contact.key_verify_yes')}</button>
            <button type="button" class="quiet" onClick=${() => this.setState({ confirm: null })}>${t('keys.cancel')}</button></div></div>`
        : html`<div class="actions">
            ${k.verified
              ? html`<button type="button" class="quiet" disabled=${busy} onClick=${() => this.verify(k, false)}>${t('contact.key_unverify')}</button>`
              : html`<button type="button" class="quiet" disabled=${busy} onClick=${() => this.setState({ confirm: k.id })}>${t('contact.key_verify')}</button>`}
            <button type="button" class="quiet danger-text" disabled=${busy} onClick=${() => this.forget(k)}>${t('contact.key_forget')}</button></div>`}
    </li>`;
  }

  render({ emails }) {
    const { keys, error, address, armored, busy } = this.state;
    return html`<section class="contact-keys"><h2>${t('contact.keys')}</h2>
      <${ErrorNote} error=${error} />
      ${keys === null ? html`<p class="loading">${t('loading')}</p>`
        : keys.length ? html`<ul class="key-list">${keys.map((k) => this.renderKey(k))}</ul>`
        : html`<p class="muted">${t('contact.keys_none')}</p>`}
      ${emails.length ? html`<form class="key-form" onSubmit=${this.add}>
        ${emails.length > 1 ? html`<label class="field"><span>${t('contact.email')}</span>
          <select value=${address || emails[0]} onChange=${(e) => this.setState({ address: e.currentTarget.value })}>${emails.map((a) => html`<option value=${a}>${a}</option>`)}</select></label>` : null}
        <label class="field"><span>${t('contact.key_paste')}</span>
          <textarea rows="4" value=${armored} onInput=${(e) => this.setState({ armored: e.currentTarget.value })}></textarea></label>
        <label class="file-button"><span>${t('contact.key_file')}</span> <input type="file" accept=".asc,.gpg,.pgp,.key,application/pgp-keys" onChange=${this.pickFile} /></label>
        <button type="submit" disabled=${busy || !armored.trim()}>${t('contact.key_add')}</button>
      </form>` : null}
    </section>`;
  }
}
