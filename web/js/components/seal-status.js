// "Sealed or postcard?" under the recipients of a message being written: sealed when every
// recipient has a usable key (and so does the writer), else a postcard, naming who lacks a key.
// When sealed and the key is locked, the passphrase is asked here (no form of its own: it sits
// inside the composer's). The parent gets each answer
// through onResult({ sealed, lookup }) — sealed meaning: this message will be sent sealed.
import { html, Component } from '../html.js';
import { t } from '../i18n.js';
import { ErrorNote } from './field.js';
import { lookupSeal } from '../crypto/seal.js';
import * as keyring from '../crypto/keyring.js';

const WAIT_MS = 400;

export class SealStatus extends Component {
  state = { lookup: null, key: undefined, unlocked: false, pass: '', remember: false, error: null };

  async componentDidMount() {
    this.off = keyring.onKeyChange(() => this.report());
    const key = await keyring.myKey().catch(() => null);
    this.setState({ key });
    if (key) await keyring.unlockRemembered().catch(() => null);
    this.ask();
  }

  componentDidUpdate(prev) {
    if (prev.addresses.join('\n') !== this.props.addresses.join('\n')) {
      clearTimeout(this.timer);
      this.timer = setTimeout(this.ask, WAIT_MS);
    }
  }

  componentWillUnmount() {
    clearTimeout(this.timer);
    this.off();
  }

  ask = async () => {
    const asked = this.props.addresses.join('\n');
    try {
      const lookup = await lookupSeal(this.props.addresses);
      if (asked === this.props.addresses.join('\n')) this.setState({ lookup, error: null }, this.report);
    } catch (error) {
      this.setState({ error });
    }
  };

  usable() {
    const { key } = this.state;
    return !!key && !key.revoked_at;
  }

  report = () => {
    const { lookup } = this.state;
    this.setState({ unlocked: !!keyring.unlockedKey() });
    this.props.onResult({ sealed: !!lookup?.sealed && this.usable(), lookup });
  };

  unlock = async (e) => {
    e?.preventDefault();
    try {
      await keyring.unlock(this.state.pass, { remember: this.state.remember });
      this.setState({ pass: '', error: null });
    } catch {
      this.setState({ error: { code: 'wrong_passphrase', message: '' } });
    }
  };

  render() {
    const { lookup, unlocked, pass, remember, error } = this.state;
    if (!lookup || !lookup.recipients.length) return html`<${ErrorNote} error=${error} />`;
    if (!lookup.sealed) {
      return html`<div class="seal-status postcard" role="status">✉ ${t('seal.postcard', { who: lookup.missing.join(', ') })}</div>`;
    }
    if (!this.usable()) {
      return html`<div class="seal-status" role="status">${t('seal.no_key')} <a href="#/keys">${t('seal.create_key')}</a></div>`;
    }
    return html`<div class="seal-status sealed" role="status">🔒 ${t('seal.sealed', { n: lookup.recipients.length })}
      ${unlocked ? null : html`<div class="seal-unlock">
        <label class="field"><span>${t('seal.passphrase')}</span>
          <input type="password" autocomplete="current-password" value=${pass} onInput=${(e) => this.setState({ pass: e.currentTarget.value })}
            onKeyDown=${(e) => e.key === 'Enter' && this.unlock(e)} /></label>
        <label class="check"><input type="checkbox" checked=${remember} onChange=${(e) => this.setState({ remember: e.currentTarget.checked })} /> ${t('keys.remember')}</label>
        <button type="button" onClick=${this.unlock}>${t('keys.unlock')}</button></div>`}
      <${ErrorNote} error=${error} /></div>`;
  }
}
