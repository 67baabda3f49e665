// A sealed (or signed) message opened in this browser: the raw message is fetched, decrypted with
// the user's unlocked key and its signature checked against the sender's known keys; the text,
// the protected subject and the attachments inside are shown, with the signature's verdict in
// plain words. Decrypted HTML goes in an iframe sandboxed without scripts whose srcdoc inherits
// this page's CSP: nothing in it can run or fetch anything. When the user allowed it, the text is
// handed to the box for search (POST /messages/:id/decrypted-text); Autocrypt gossip found inside
// is reported (POST /keys/gossip).
import { html, Component } from '../html.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { ErrorNote } from './field.js';
import { loadPgp } from '../crypto/loader.js';
import * as keyring from '../crypto/keyring.js';

function frameDoc(body) {
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"></head><body>${body}</body></html>`;
}

export class SealedBody extends Component {
  state = { opened: null, error: null, locked: false, noKey: false, pass: '', remember: false, busy: false, urls: [] };

  async componentDidMount() {
    this.off = keyring.onKeyChange(() => {
      if (!this.state.opened && keyring.unlockedKey()) this.open();
    });
    const key = await keyring.myKey().catch(() => null);
    if (!key) return this.setState({ noKey: true });
    if (keyring.unlockedKey() || (await keyring.unlockRemembered())) return this.open();
    this.setState({ locked: true });
  }

  componentWillUnmount() {
    this.off?.();
    for (const u of this.state.urls) URL.revokeObjectURL(u);
  }

  async knownKeys(core, openpgp) {
    const m = this.props.m;
    const mine = await keyring.myKey();
    const theirs = m.sender ? (await api('GET', `/keys/contacts?address=${encodeURIComponent(m.sender)}`)).keys : [];
    const armored = [...theirs.map((k) => ({ armored: k.public_key, verified: k.verified })), ...(mine ? [{ armored: mine.public_key, verified: true }] : [])];
    const out = [];
    for (const k of armored) out.push({ key: await core.readAnyKey(openpgp, k.armored), verified: k.verified });
    return out;
  }

  open = async () => {
    this.setState({ busy: true, error: null });
    try {
      const { openpgp, core } = await loadPgp();
      const res = await fetch(`/api/v1/messages/${this.props.m.id}/raw`, { credentials: 'same-origin' });
      if (!res.ok) throw new Error(String(res.status));
      const raw = new Uint8Array(await res.arrayBuffer());
      const opened = await core.openMessage(openpgp, raw, { decryptionKeys: [keyring.unlockedKey()], knownKeys: await this.knownKeys(core, openpgp) });
      const urls = opened.attachments.map((a) => URL.createObjectURL(new Blob([a.content], { type: 'application/octet-stream' })));
      this.setState({ opened, urls, locked: false });
      this.afterOpen(opened);
    } catch (err) {
      this.setState({ error: { code: 'key_operation', message: err.message } });
    } finally {
      this.setState({ busy: false });
    }
  };

  /** Gossip and, when the user allowed it, the text for search: neither may break reading. */
  async afterOpen(opened) {
    const id = this.props.m.id;
    if (opened.gossip.length) api('POST', '/keys/gossip', { body: { message_id: id, headers: opened.gossip } }).catch(() => {});
    if (!opened.decrypted) return;
    const settings = await api('GET', '/keys/settings').catch(() => null);
    if (settings?.index_decrypted) {
      api('POST', `/messages/${id}/decrypted-text`, { body: { subject: opened.subject, text: opened.text, attachments: opened.attachments.map((a) => a.filename ?? '') } }).catch(() => {});
    }
  }

  unlock = async (e) => {
    e.preventDefault();
    try {
      await keyring.unlock(this.state.pass, { remember: this.state.remember });
      this.setState({ pass: '' });
    } catch {
      this.setState({ error: { code: 'wrong_passphrase', message: '' } });
    }
  };

  renderOpened(o) {
    const s = o.signature.status;
    const verdict = s === 'none' ? null : html`<p class=${s === 'bad' ? 'signature-bad' : s === 'valid' ? 'signature-valid' : 'signature'}>${t(`sealed.signature_${s}`)}</p>`;
    return html`<div class="sealed-open">
      <p class="sealed-note">${o.decrypted ? `🔒 ${t('sealed.opened')}` : t('sealed.signed_only')}</p>
      ${verdict}
      ${o.error ? html`<p class="error">${t('sealed.cannot_open', { reason: o.error })}</p>` : null}
      ${o.subject ? html`<p class="sealed-subject"><span class="label">${t('sealed.subject')}</span> <strong>${o.subject}</strong></p>` : null}
      ${o.html
        ? html`<div class="message-html"><iframe sandbox="" referrerpolicy="no-referrer" title=${t('message.body_frame')} srcdoc=${frameDoc(o.html)}></iframe></div>`
        : html`<pre class="message-text">${o.text}</pre>`}
      ${o.attachments.length ? html`<ul class="attachments" aria-label=${t('message.attachments')}>${o.attachments.map((a, i) => html`<li key=${i}>
        <a href=${this.state.urls[i]} download=${a.filename || `attachment-${i + 1}`}>📎 ${a.filename || t('message.attachment_unnamed')}</a></li>`)}</ul>` : null}
    </div>`;
  }

  render() {
    const { opened, error, locked, noKey, pass, remember, busy } = this.state;
    if (opened) return this.renderOpened(opened);
    return html`<div class="sealed-closed">
      <p class="sealed-note">🔒 ${t('sealed.closed')}</p>
      ${noKey ? html`<p>${t('sealed.no_key')} <a href="#/keys">${t('seal.create_key')}</a></p>` : null}
      ${locked ? html`<form class="key-form" onSubmit=${this.unlock}>
        <label class="field"><span>${t('seal.passphrase_open')}</span>
          <input type="password" autocomplete="current-password" value=${pass} onInput=${(e) => this.setState({ pass: e.currentTarget.value })} /></label>
        <label class="check"><input type="checkbox" checked=${remember} onChange=${(e) => this.setState({ remember: e.currentTarget.checked })} /> ${t('keys.remember')}</label>
        <button type="submit" disabled=${busy}>${t('sealed.open')}</button></form>` : null}
      ${busy ? html`<p class="loading">${t('sealed.opening')}</p>` : null}
      <${ErrorNote} error=${error} />
    </div>`;
  }
}
