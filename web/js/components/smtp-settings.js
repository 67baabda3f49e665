// The sending server of an external account ("send as this address through its own server"):
// host, port, security, user name, password, and a certificate the user chose to trust. Used by
// the add form (prefilled from autoconfig and the IMAP login) and by an account's "Sending server"
// panel (password left empty keeps the stored one). The box checks the login before keeping it.
import { html, Component } from '../html.js';
import { t, errorText } from '../i18n.js';
import { api } from '../api.js';
import { SelectField } from './field.js';
import { CertificateOffer } from './certificate-offer.js';

const TLS_MODES = ['implicit', 'starttls', 'plain'];

export const EMPTY_SMTP = { host: '', port: '465', tls: 'implicit', username: '', password: '', fingerprint: null };

/** Settings from autoconfig (`{host, port, tls, username}`) as form values. */
export function smtpValues(found, fallback = {}) {
  return found ? { ...EMPTY_SMTP, ...fallback, host: found.host, port: String(found.port), tls: found.tls, username: found.username } : { ...EMPTY_SMTP, ...fallback };
}

/** Form values as the API's `smtp` object; an empty password is left out (keep the stored one). */
export function smtpBody(v) {
  const body = { host: v.host.trim(), port: Number(v.port), tls: v.tls, username: v.username, trusted_fingerprint: v.fingerprint };
  return v.password ? { ...body, password: v.password } : body;
}

/**
 * The fields alone: the parent owns the values (`value`, `onChange(next)`). `passwordLabel`, when
 * given, makes the password optional and says what an empty one means.
 */
export function SmtpFields({ value: v, onChange, passwordLabel }) {
  const passwordOptional = !!passwordLabel;
  const set = (name, x) => onChange({ ...v, [name]: x });
  const input = (name, label, type = 'text', extra = {}) => html`<label class="field"><span>${label}</span>
    <input name=${`smtp-${name}`} type=${type} value=${v[name]} required=${!(name === 'password' && passwordOptional)} autocomplete="off" ...${extra}
      onInput=${(e) => set(name, e.currentTarget.value)} /></label>`;
  return html`<fieldset class="smtp-fields"><legend>${t('accounts.smtp_title')}</legend>
    <p class="hint">${t('accounts.smtp_intro')}</p>
    ${input('host', t('accounts.smtp_host'))}
    ${input('port', t('accounts.port'), 'number', { min: 1, max: 65535 })}
    <${SelectField} label=${t('accounts.tls_label')} name="smtp-tls" value=${v.tls} onInput=${(_n, x) => set('tls', x)} options=${TLS_MODES.map((m) => [m, t(`accounts.tls.${m}`)])} />
    ${input('username', t('accounts.username'))}
    ${input('password', passwordLabel ?? t('accounts.password'), 'password')}
    ${v.fingerprint ? html`<p class="hint">${t('accounts.trusted', { fp: v.fingerprint })}</p>` : null}
  </fieldset>`;
}

/** An account's "Sending server" panel: set up, change or stop sending through it. */
export class SmtpPanel extends Component {
  constructor(props) {
    super(props);
    const s = props.account.smtp;
    this.state = { v: s ? { ...EMPTY_SMTP, host: s.host, port: String(s.port), tls: s.tls, username: s.username, fingerprint: s.trusted_fingerprint } : smtpValues(null, { username: props.account.username }), error: null, cert: null, busy: false };
  }

  save = async (smtp) => {
    this.setState({ busy: true, error: null, cert: null });
    try {
      await api('PATCH', `/external-accounts/${this.props.account.id}`, { body: { smtp } });
      this.setState({ busy: false });
      this.props.onDone();
    } catch (error) {
      this.setState({ busy: false, error, cert: error.code === 'smtp_tls_failed' ? error.details?.certificate ?? null : null });
    }
  };

  render({ account, onCancel }) {
    const { v, error, cert, busy } = this.state;
    return html`<form class="inline-form smtp-panel" onSubmit=${(e) => (e.preventDefault(), this.save(smtpBody(v)))}>
      <${SmtpFields} value=${v} onChange=${(next) => this.setState({ v: next })} passwordLabel=${account.smtp ? t('accounts.smtp_password_keep') : null} />
      ${error && !cert ? html`<p class="error" role="alert">${errorText(error)}</p>` : null}
      ${cert ? html`<${CertificateOffer} cert=${cert} onTrust=${() => this.setState({ v: { ...v, fingerprint: cert.fingerprint }, cert: null, error: null })} />` : null}
      <div class="actions">
        <button type="submit" disabled=${busy}>${t('accounts.save')}</button>
        ${account.smtp ? html`<button type="button" class="quiet danger-text" disabled=${busy} onClick=${() => this.save(null)}>${t('accounts.smtp_remove')}</button>` : null}
        <button type="button" class="quiet" onClick=${onCancel}>${t('accounts.cancel')}</button>
      </div>
    </form>`;
  }
}
