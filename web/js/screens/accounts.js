// External accounts (#/accounts): mailboxes elsewhere whose mail is imported over IMAP. The list
// shows each account's state (needs attention with the reason, paused after days of failures,
// retrying), a live progress bar while it syncs (import-progress events: done/total, rate, ETA),
// sync now, folder selection, a new password, removal. The add form fills the server from the
// address (autoconfig), tests the connection, and offers to trust a self-signed certificate by
// showing its SHA-256 fingerprint. An account may also send: its own server's settings (prefilled
// from autoconfig and the IMAP login), after which its address is a From choice in the composer.
// Passwords are sent, never shown back.
import { html, Component } from '../html.js';
import { t, formatDate, errorText } from '../i18n.js';
import { api } from '../api.js';
import { subscribe } from '../live.js';
import { ErrorNote, SelectField } from '../components/field.js';
import { CertificateOffer } from '../components/certificate-offer.js';
import { SmtpFields, SmtpPanel, smtpBody, smtpValues } from '../components/smtp-settings.js';

const TLS_MODES = ['implicit', 'starttls', 'plain'];

function eta(seconds) {
  if (seconds === null || seconds === undefined) return '';
  return seconds < 90 ? t('accounts.eta_s', { n: seconds }) : t('accounts.eta_min', { n: Math.round(seconds / 60) });
}

export function ProgressBar({ p }) {
  const pct = p.total > 0 ? Math.floor((p.done / p.total) * 100) : 0;
  return html`<div class="import-progress" data-state=${p.state}>
    <progress max=${Math.max(p.total, 1)} value=${p.done} aria-label=${t('accounts.progress_label')}>${pct} %</progress>
    <span class="progress-text"> ${t('accounts.progress', { done: p.done, total: p.total, rate: p.rate })}${p.state === 'running' ? ` · ${eta(p.etaSeconds)}` : ''}</span>
    ${p.folder ? html`<span class="muted"> · ${p.folder} ${p.folderDone}/${p.folderTotal}</span>` : null}
  </div>`;
}

function StatusLine({ a }) {
  if (a.needs_attention) return html`<p class="error" role="alert">${t('accounts.needs_attention')} ${a.last_error?.message ?? ''}</p>`;
  if (a.paused) return html`<p class="error" role="alert">${t('accounts.paused', { since: formatDate(a.failing_since) })} ${a.last_error?.message ?? ''}</p>`;
  if (a.status === 'error') return html`<p class="hint">${t('accounts.retrying', { at: formatDate(a.next_sync_at) })} ${a.last_error?.message ?? ''}</p>`;
  return html`<p class="muted">${t(`accounts.status.${a.status}`)}${a.last_success_at ? ` · ${t('accounts.last_success', { at: formatDate(a.last_success_at) })}` : ''}</p>`;
}

class AccountItem extends Component {
  state = { mode: 'view', password: '', error: null, busy: false };

  act = async (fn) => {
    this.setState({ busy: true, error: null });
    try {
      await fn();
      this.setState({ busy: false, mode: 'view', password: '' });
      this.props.onChanged();
    } catch (error) {
      this.setState({ busy: false, error });
    }
  };

  syncNow = () => this.act(() => api('POST', `/external-accounts/${this.props.account.id}/sync`));
  resume = () => this.act(() => api('PATCH', `/external-accounts/${this.props.account.id}`, { body: { paused: false } }));
  remove = () => this.act(() => api('DELETE', `/external-accounts/${this.props.account.id}`));
  savePassword = (e) => {
    e.preventDefault();
    this.act(() => api('PATCH', `/external-accounts/${this.props.account.id}`, { body: { password: this.state.password } }));
  };
  toggleFolder = (path, selected) => this.act(() => api('PUT', `/external-accounts/${this.props.account.id}/folders`, { body: { selected: { [path]: selected } } }));

  renderFolders(a) {
    return html`<fieldset class="folders"><legend>${t('accounts.folders')}</legend>
      ${a.folders.filter((f) => f.exists).map((f) => html`<label class="check"><input type="checkbox" checked=${f.selected} disabled=${this.state.busy}
        onChange=${(e) => this.toggleFolder(f.path, e.currentTarget.checked)} /> ${f.path} <span class="muted">${f.done}/${f.total}</span></label>`)}
    </fieldset>`;
  }

  render({ account: a, progress }) {
    const { mode, busy, error, password } = this.state;
    const running = progress && (progress.state === 'running' || progress.state === 'connecting');
    return html`<li class="account device" data-account=${a.id}><div class="device-body">
      <div class="account-title"><strong>${a.address}</strong> <span class="muted">${a.host}:${a.port} · ${t(`accounts.tls.${a.tls}`)} · ${t('accounts.imported', { n: a.imported })}</span></div>
      <${StatusLine} a=${a} />
      <p class="muted sending">${a.smtp ? t('accounts.smtp_on', { server: `${a.smtp.host}:${a.smtp.port}` }) : t('accounts.smtp_off')}</p>
      ${progress ? html`<${ProgressBar} p=${progress} />` : null}
      <${ErrorNote} error=${error} />
      ${mode === 'password' ? html`<form class="inline-form" onSubmit=${this.savePassword}>
          <label class="field"><span>${t('accounts.new_password')}</span>
            <input type="password" name="password" autocomplete="off" required value=${password} onInput=${(e) => this.setState({ password: e.currentTarget.value })} /></label>
          <button type="submit" disabled=${busy}>${t('accounts.save')}</button>
          <button type="button" class="quiet" onClick=${() => this.setState({ mode: 'view' })}>${t('accounts.cancel')}</button>
        </form>` : null}
      ${mode === 'folders' ? this.renderFolders(a) : null}
      ${mode === 'smtp' ? html`<${SmtpPanel} account=${a} onDone=${() => (this.setState({ mode: 'view' }), this.props.onChanged())} onCancel=${() => this.setState({ mode: 'view' })} />` : null}
      ${mode === 'confirm' ? html`<div class="confirm" role="alert"><p>${t('accounts.confirm_remove', { address: a.address })}</p>
          <button type="button" class="danger" disabled=${busy} onClick=${this.remove}>${t('accounts.remove')}</button>
          <button type="button" class="quiet" onClick=${() => this.setState({ mode: 'view' })}>${t('accounts.cancel')}</button></div>` : null}
      <div class="actions">
        <button type="button" disabled=${busy || running || a.status === 'syncing'} onClick=${this.syncNow}>${t('accounts.sync_now')}</button>
        ${a.paused ? html`<button type="button" class="quiet" onClick=${this.resume}>${t('accounts.resume')}</button>` : null}
        <button type="button" class="quiet" onClick=${() => this.setState({ mode: mode === 'folders' ? 'view' : 'folders' })}>${t('accounts.choose_folders')}</button>
        <button type="button" class="quiet" onClick=${() => this.setState({ mode: 'password' })}>${t('accounts.change_password')}</button>
        <button type="button" class="quiet" onClick=${() => this.setState({ mode: mode === 'smtp' ? 'view' : 'smtp' })}>${t('accounts.smtp_button')}</button>
        <button type="button" class="quiet danger-text" onClick=${() => this.setState({ mode: 'confirm' })}>${t('accounts.remove')}</button>
      </div>
    </div></li>`;
  }
}

const EMPTY = { address: '', host: '', port: '993', tls: 'implicit', username: '', password: '', interval: '15', deleteAfter: false, fingerprint: null };

class AddAccountForm extends Component {
  state = { f: { ...EMPTY }, error: null, cert: null, certFor: null, tested: null, busy: false, found: null, sending: false, smtp: smtpValues(null), smtpFound: null };

  set = (name, value) => this.setState({ f: { ...this.state.f, [name]: value }, tested: null });

  autoconfig = async () => {
    const { address, host } = this.state.f;
    if (!address.includes('@') || host) return;
    try {
      const s = await api('GET', `/external-accounts/autoconfig?address=${encodeURIComponent(address)}`);
      this.setState({ f: { ...this.state.f, host: s.imap.host, port: String(s.imap.port), tls: s.imap.tls, username: s.imap.username }, found: s.source, smtpFound: s.smtp });
    } catch {
      this.setState({ f: { ...this.state.f, username: this.state.f.username || address }, found: 'none' });
    }
  };

  body() {
    const f = this.state.f;
    return { host: f.host.trim(), port: Number(f.port), tls: f.tls, username: f.username, password: f.password, trusted_fingerprint: f.fingerprint };
  }

  /** The sending server's password is the IMAP one unless the user typed another. */
  smtp() {
    const { smtp, f } = this.state;
    return smtpBody({ ...smtp, password: smtp.password || f.password });
  }

  run = async (fn) => {
    this.setState({ busy: true, error: null, cert: null });
    try {
      await fn();
      this.setState({ busy: false });
    } catch (error) {
      const certFor = error.code === 'imap_tls_failed' ? 'imap' : error.code === 'smtp_tls_failed' ? 'smtp' : null;
      this.setState({ busy: false, error, cert: certFor ? error.details?.certificate ?? null : null, certFor });
    }
  };

  test = () => this.run(async () => {
    const tested = await api('POST', '/external-accounts/test', { body: this.body() });
    if (this.state.sending) await api('POST', '/external-accounts/test-smtp', { body: { ...this.smtp(), password: this.smtp().password ?? '' } });
    this.setState({ tested });
  });
  trust = () => {
    const { cert, certFor, f, smtp } = this.state;
    if (certFor === 'smtp') this.setState({ smtp: { ...smtp, fingerprint: cert.fingerprint }, cert: null, error: null });
    else this.setState({ f: { ...f, fingerprint: cert.fingerprint }, cert: null, error: null });
  };
  toggleSending = (on) => {
    const { f, smtpFound, smtp } = this.state;
    // prefilled once: from autoconfig, with the IMAP user name
    this.setState({ sending: on, smtp: on && !smtp.host ? smtpValues(smtpFound, { username: f.username }) : smtp });
  };
  submit = (e) => {
    e.preventDefault();
    const f = this.state.f;
    this.run(async () => {
      const { account } = await api('POST', '/external-accounts', { body: {
        ...this.body(), address: f.address.trim(), interval_minutes: Number(f.interval), delete_after_import: f.deleteAfter,
        ...(this.state.sending ? { smtp: this.smtp() } : {}),
      } });
      // "Add and import": the first import starts now rather than at the next poll
      await api('POST', `/external-accounts/${account.id}/sync`).catch(() => undefined);
      this.props.onAdded(account);
    });
  };

  render() {
    const { f, error, cert, tested, busy, found, sending, smtp } = this.state;
    const input = (name, label, type = 'text', extra = {}) => html`<label class="field"><span>${label}</span>
      <input name=${name} type=${type} value=${f[name]} required autocomplete="off" ...${extra} onInput=${(e) => this.set(name, e.currentTarget.value)} /></label>`;
    return html`<form class="account-form device-edit" onSubmit=${this.submit} aria-label=${t('accounts.add_title')}>
      <h2>${t('accounts.add_title')}</h2>
      ${input('address', t('accounts.address'), 'email', { onBlur: this.autoconfig })}
      ${found ? html`<p class="hint">${t(`accounts.found.${found}`)}</p>` : null}
      ${input('host', t('accounts.host'))}
      ${input('port', t('accounts.port'), 'number', { min: 1, max: 65535 })}
      <${SelectField} label=${t('accounts.tls_label')} name="tls" value=${f.tls} onInput=${this.set} options=${TLS_MODES.map((m) => [m, t(`accounts.tls.${m}`)])} />
      ${input('username', t('accounts.username'))}
      ${input('password', t('accounts.password'), 'password')}
      ${input('interval', t('accounts.interval'), 'number', { min: 5, max: 1440 })}
      <label class="check"><input type="checkbox" name="deleteAfter" checked=${f.deleteAfter} onChange=${(e) => this.set('deleteAfter', e.currentTarget.checked)} /> ${t('accounts.delete_after')}</label>
      ${f.fingerprint ? html`<p class="hint">${t('accounts.trusted', { fp: f.fingerprint })}</p>` : null}
      <label class="check"><input type="checkbox" name="sending" checked=${sending} onChange=${(e) => this.toggleSending(e.currentTarget.checked)} /> ${t('accounts.smtp_enable')}</label>
      ${sending ? html`<${SmtpFields} value=${smtp} onChange=${(v) => this.setState({ smtp: v, tested: null })} passwordLabel=${t('accounts.smtp_password_same')} />` : null}
      ${error && !cert ? html`<p class="error" role="alert">${errorText(error)}</p>` : null}
      ${cert ? html`<${CertificateOffer} cert=${cert} onTrust=${this.trust} />` : null}
      ${tested ? html`<p class="saved" role="status">${t('accounts.test_ok', { n: tested.folders.length })}</p>` : null}
      <div class="actions">
        <button type="button" class="quiet" disabled=${busy} onClick=${this.test}>${t('accounts.test')}</button>
        <button type="submit" disabled=${busy}>${t('accounts.add')}</button>
        <button type="button" class="quiet" onClick=${this.props.onCancel}>${t('accounts.cancel')}</button>
      </div>
    </form>`;
  }
}

export class AccountsScreen extends Component {
  state = { items: null, error: null, adding: false, progress: {} };

  componentDidMount() {
    this.load();
    this.unsubscribe = subscribe('import-progress', this.onProgress);
  }

  componentWillUnmount() {
    this.unsubscribe?.();
  }

  onProgress = (p) => {
    this.setState({ progress: { ...this.state.progress, [p.accountId]: p } });
    if (p.state === 'done' || p.state === 'failed') this.load();
  };

  load = async () => {
    try {
      const res = await api('GET', '/external-accounts');
      this.setState({ items: res.items, error: null });
    } catch (error) {
      this.setState({ error });
    }
  };

  render() {
    const { items, error, adding, progress } = this.state;
    return html`<section class="accounts">
      <h1>${t('accounts.title')}</h1>
      <p class="muted">${t('accounts.intro')}</p>
      <${ErrorNote} error=${error} />
      ${items === null ? html`<p class="loading">${t('loading')}</p>` : items.length === 0 && !adding ? html`<p>${t('accounts.none')}</p>` : html`<ul class="account-list device-list">
        ${items.map((a) => html`<${AccountItem} key=${a.id} account=${a} progress=${progress[a.id]} onChanged=${this.load} />`)}
      </ul>`}
      ${adding
        ? html`<${AddAccountForm} onAdded=${() => (this.setState({ adding: false }), this.load())} onCancel=${() => this.setState({ adding: false })} />`
        : html`<button type="button" onClick=${() => this.setState({ adding: true })}>${t('accounts.add_button')}</button>`}
    </section>`;
  }
}
