// The user's encryption key (#/keys): made in this browser or imported, stored on the box only
// locked by the user's passphrase; its fingerprint (text and QR code) to check in person; unlock
// for this tab or remember on this device; export, change the passphrase, revoke; and whether the
// box may index the text of sealed mail once this browser opened it (off unless chosen).
import { html, Component } from '../html.js';
import { t, formatDate } from '../i18n.js';
import { api } from '../api.js';
import { ErrorNote } from '../components/field.js';
import { FingerprintQr } from '../components/fingerprint-qr.js';
import { loadPgp } from '../crypto/loader.js';
import * as keyring from '../crypto/keyring.js';

const MIN_PASSPHRASE = 10;

function PassField({ label, name, value, onInput, autocomplete = 'new-password' }) {
  return html`<label class="field"><span>${label}</span>
    <input type="password" name=${name} value=${value} autocomplete=${autocomplete} required onInput=${(e) => onInput(name, e.currentTarget.value)} /></label>`;
}

export class KeysScreen extends Component {
  state = { key: undefined, me: null, form: {}, error: null, busy: false, done: null, remembered: false, settings: null, confirmRevoke: false };

  componentDidMount() {
    this.off = keyring.onKeyChange(() => this.refresh());
    this.load();
  }

  componentWillUnmount() {
    this.off();
  }

  async load() {
    try {
      const started = performance.now();
      const [me, key, settings] = await Promise.all([api('GET', '/me'), keyring.myKey(true), api('GET', '/keys/settings')]);
      this.setState({ me: me.user, key, settings, serverTime: me.server_time - (performance.now() - started) });
      await keyring.unlockRemembered();
      this.refresh();
    } catch (error) {
      this.setState({ error });
    }
  }

  async refresh() {
    this.setState({ key: await keyring.myKey(), remembered: await keyring.isRemembered() });
  }

  set = (name, value) => this.setState({ form: { ...this.state.form, [name]: value }, error: null, done: null });

  /** Runs a key operation; errors from OpenPGP (a wrong passphrase) become a plain message. */
  async act(fn, done) {
    this.setState({ busy: true, error: null, done: null });
    try {
      await fn();
      this.setState({ form: {}, done, confirmRevoke: false });
    } catch (err) {
      this.setState({ error: err.status ? err : { code: 'key_operation', message: err.message } });
    } finally {
      this.setState({ busy: false });
    }
  }

  checkNew(pass, again) {
    if ((pass ?? '').length < MIN_PASSPHRASE) throw new Error(t('keys.passphrase_short', { n: MIN_PASSPHRASE }));
    if (pass !== again) throw new Error(t('keys.passphrase_mismatch'));
  }

  async store(pair, passphrase) {
    const { key } = await api('PUT', '/keys/me', { body: { public_key: pair.publicKey, private_key: pair.privateKey } });
    keyring.setMyKey(key);
    await keyring.unlock(passphrase, { remember: !!this.state.form.remember });
  }

  create = (e) => {
    e.preventDefault();
    const { pass, again, type } = this.state.form;
    this.act(async () => {
      this.checkNew(pass, again);
      const { openpgp, core } = await loadPgp();
      const { me } = this.state;
      // Dated by the earlier of the two clocks: a key "from the future" is unusable to the other side.
      const date = new Date(Math.min(Date.now(), this.state.serverTime ?? Date.now()));
      const pair = await core.generateKeyPair(openpgp, { name: me.display_name || undefined, email: me.addresses[0], passphrase: pass, type: type === 'rsa' ? 'rsa' : 'ecc', date });
      await this.store(pair, pass);
    }, t('keys.created'));
  };

  importKey = (e) => {
    e.preventDefault();
    const { armored, oldPass, pass, again } = this.state.form;
    this.act(async () => {
      const next = pass || oldPass;
      if (pass) this.checkNew(pass, again);
      const { openpgp, core } = await loadPgp();
      const pair = await core.importPrivateKey(openpgp, armored ?? '', oldPass ?? '', next);
      await this.store(pair, next);
    }, t('keys.imported'));
  };

  unlock = (e) => {
    e.preventDefault();
    const { pass, remember } = this.state.form;
    this.act(() => keyring.unlock(pass ?? '', { remember: !!remember }), null);
  };

  changePassphrase = (e) => {
    e.preventDefault();
    const { oldPass, pass, again } = this.state.form;
    this.act(async () => {
      this.checkNew(pass, again);
      const { openpgp, core } = await loadPgp();
      const privateKey = await core.changePassphrase(openpgp, this.state.key.private_key, oldPass ?? '', pass);
      const { key } = await api('PUT', '/keys/me', { body: { public_key: this.state.key.public_key, private_key: privateKey } });
      keyring.setMyKey(key);
      await keyring.forgetOnThisDevice();
      await keyring.unlock(pass);
    }, t('keys.passphrase_changed'));
  };

  revoke = (e) => {
    e.preventDefault();
    this.act(async () => {
      const { openpgp, core } = await loadPgp();
      const pair = await core.revokeKeyPair(openpgp, this.state.key.private_key, this.state.form.pass ?? '', 'revoked by its owner');
      const { key } = await api('POST', '/keys/me/revoke', { body: { public_key: pair.publicKey, private_key: pair.privateKey } });
      keyring.setMyKey(key);
      await keyring.forgetOnThisDevice();
    }, t('keys.revoked_done'));
  };

  setIndexing = (on) => this.act(async () => {
    this.setState({ settings: await api('PUT', '/keys/settings', { body: { index_decrypted: on } }) });
  }, null);

  renderNoKey() {
    const { form, busy } = this.state;
    return html`<p>${t('keys.none_intro')}</p>
      <h2>${t('keys.create_title')}</h2>
      <form class="key-form" onSubmit=${this.create}>
        <${PassField} label=${t('keys.passphrase')} name="pass" value=${form.pass ?? ''} onInput=${this.set} />
        <${PassField} label=${t('keys.passphrase_again')} name="again" value=${form.again ?? ''} onInput=${this.set} />
        <p class="hint">${t('keys.passphrase_hint')}</p>
        <label class="field"><span>${t('keys.type')}</span>
          <select name="type" value=${form.type ?? 'ecc'} onChange=${(e) => this.set('type', e.currentTarget.value)}>
            <option value="ecc">${t('keys.type_ecc')}</option><option value="rsa">${t('keys.type_rsa')}</option></select></label>
        <label class="check"><input type="checkbox" checked=${!!form.remember} onChange=${(e) => this.set('remember', e.currentTarget.checked)} /> ${t('keys.remember')}</label>
        <button type="submit" disabled=${busy}>${busy ? t('keys.working') : t('keys.create')}</button>
      </form>
      <h2>${t('keys.import_title')}</h2>
      <form class="key-form" onSubmit=${this.importKey}>
        <label class="field"><span>${t('keys.armored')}</span>
          <textarea name="armored" rows="6" required value=${form.armored ?? ''} onInput=${(e) => this.set('armored', e.currentTarget.value)}></textarea></label>
        <${PassField} label=${t('keys.its_passphrase')} name="oldPass" value=${form.oldPass ?? ''} onInput=${this.set} autocomplete="off" />
        <p class="hint">${t('keys.import_hint')}</p>
        <button type="submit" disabled=${busy}>${t('keys.import')}</button>
      </form>`;
  }

  renderKey(key) {
    const { form, busy, remembered, confirmRevoke } = this.state;
    const open = !!keyring.unlockedKey();
    return html`<dl class="key-facts">
        <dt>${t('keys.fingerprint')}</dt><dd><code class="fingerprint">${key.fingerprint_display}</code></dd>
        <dt>${t('keys.algorithm')}</dt><dd>${key.algorithm}${key.bits ? ` ${key.bits}` : ''}</dd>
        <dt>${t('keys.created_at')}</dt><dd>${formatDate(key.created_at)}</dd>
        ${key.revoked_at ? html`<dt>${t('keys.revoked')}</dt><dd>${formatDate(key.revoked_at)}</dd>` : null}
      </dl>
      <${FingerprintQr} uri=${`openpgp4fpr:${key.fingerprint.toLowerCase()}`} label=${t('keys.qr', { fingerprint: key.fingerprint_display })} />
      <p class="hint">${t('keys.verify_hint')}</p>
      <p class="actions"><a class="button-link" href="/api/v1/keys/me/export?part=public" download="">${t('keys.export_public')}</a>
        <a class="quiet" href="/api/v1/keys/me/export?part=private" download="">${t('keys.export_private')}</a></p>

      <h2>${t('keys.unlock_title')}</h2>
      ${open
        ? html`<p class="saved" role="status">${remembered ? t('keys.unlocked_remembered') : t('keys.unlocked')}</p>
            <p class="actions"><button type="button" class="quiet" onClick=${() => keyring.lock()}>${t('keys.lock')}</button>
            ${remembered ? html`<button type="button" class="quiet" onClick=${() => keyring.forgetOnThisDevice()}>${t('keys.forget')}</button>` : null}</p>`
        : html`<form class="key-form" onSubmit=${this.unlock}>
            <${PassField} label=${t('keys.passphrase')} name="pass" value=${form.pass ?? ''} onInput=${this.set} autocomplete="current-password" />
            <label class="check"><input type="checkbox" checked=${!!form.remember} onChange=${(e) => this.set('remember', e.currentTarget.checked)} /> ${t('keys.remember')}</label>
            <button type="submit" disabled=${busy}>${t('keys.unlock')}</button></form>`}

      ${key.revoked_at ? null : html`<h2>${t('keys.change_title')}</h2>
      <form class="key-form" onSubmit=${this.changePassphrase}>
        <${PassField} label=${t('keys.old_passphrase')} name="oldPass" value=${form.oldPass ?? ''} onInput=${this.set} autocomplete="current-password" />
        <${PassField} label=${t('keys.new_passphrase')} name="pass" value=${form.pass ?? ''} onInput=${this.set} />
        <${PassField} label=${t('keys.passphrase_again')} name="again" value=${form.again ?? ''} onInput=${this.set} />
        <button type="submit" disabled=${busy}>${t('keys.change')}</button>
      </form>
      <h2>${t('keys.revoke_title')}</h2>
      <p class="hint">${t('keys.revoke_hint')}</p>
      ${confirmRevoke
        ? html`<form class="key-form confirm" onSubmit=${this.revoke}>
            <${PassField} label=${t('keys.passphrase')} name="pass" value=${form.pass ?? ''} onInput=${this.set} autocomplete="current-password" />
            <button type="submit" class="danger" disabled=${busy}>${t('keys.revoke_confirm')}</button>
            <button type="button" class="quiet" onClick=${() => this.setState({ confirmRevoke: false })}>${t('keys.cancel')}</button></form>`
        : html`<button type="button" class="danger-text quiet" onClick=${() => this.setState({ confirmRevoke: true, form: {} })}>${t('keys.revoke')}</button>`}`}`;
  }

  render() {
    const { key, error, done, settings, busy } = this.state;
    return html`<section class="keys">
      <header class="screen-head"><h1>${t('keys.title')}</h1></header>
      <${ErrorNote} error=${error} />
      ${done ? html`<p class="saved" role="status">${done}</p>` : null}
      ${key === undefined ? html`<p class="loading">${t('loading')}</p>` : key ? this.renderKey(key) : this.renderNoKey()}
      ${settings ? html`<h2>${t('keys.index_title')}</h2>
        <label class="check"><input type="checkbox" checked=${settings.index_decrypted} disabled=${busy} onChange=${(e) => this.setIndexing(e.currentTarget.checked)} /> ${t('keys.index')}</label>
        <p class="hint">${t('keys.index_hint')}</p>` : null}
    </section>`;
  }
}
