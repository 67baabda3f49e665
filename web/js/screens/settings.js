// The account's settings: profile, language (the UI switches at once), time zone, display
// preferences (the keys GET /me returns), the password, the account's PI and a way to the devices.
// Every change is one PATCH /me; the shell is handed the user it returns (onUser) so the language,
// zone and preferences apply everywhere without a reload.
import { html, Component } from '../html.js';
import { t, LANGS } from '../i18n.js';
import { api } from '../api.js';
import { ErrorNote, SelectField } from '../components/field.js';
import { PiBadge } from '../components/pi-badge.js';

const MIN_PASSWORD = 10;

// The choices of each display preference (server/accounts/settings.ts); booleans are checkboxes.
const CHOICES = {
  density: ['comfortable', 'compact'],
  theme: ['system', 'light', 'dark'],
  show_images: ['never', 'ask', 'always'],
  message_order: ['oldest_first', 'newest_first'],
};

function timeZones(current) {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return zones.includes(current) ? zones : [current, ...zones];
}

export class SettingsScreen extends Component {
  state = { name: this.props.user.display_name ?? '', saved: null, error: null, pw: { current: '', next: '', again: '' }, pwError: null, pwDone: null, busy: false, imageSenders: [], notifyDenied: false };

  componentDidMount() {
    this.loadImageSenders();
  }

  loadImageSenders = () => api('GET', '/image-senders').then((r) => this.setState({ imageSenders: r.senders })).catch((error) => this.setState({ error }));

  forgetImageSender = async (address) => {
    try {
      await api('DELETE', `/image-senders/${encodeURIComponent(address)}`);
      await this.loadImageSenders();
    } catch (error) {
      this.setState({ error });
    }
  };

  /** Turning notifications on asks the browser's permission first; a refusal is said, not saved. */
  setBoolean = async (key, on) => {
    if (key === 'notifications' && on && typeof Notification !== 'undefined' && Notification.permission !== 'granted') {
      const answer = await Notification.requestPermission().catch(() => 'denied');
      this.setState({ notifyDenied: answer !== 'granted' });
      if (answer !== 'granted') return;
    }
    this.patch({ settings: { [key]: on } }, 'display');
  };

  async patch(body, what) {
    this.setState({ error: null, saved: null });
    try {
      const { user } = await api('PATCH', '/me', { body });
      await this.props.onUser(user);
      this.setState({ saved: what });
    } catch (error) {
      this.setState({ error });
    }
  }

  saveName = (e) => {
    e.preventDefault();
    this.patch({ display_name: this.state.name.trim() || null }, 'profile');
  };

  setPw = (name, value) => this.setState({ pw: { ...this.state.pw, [name]: value }, pwError: null, pwDone: null });

  changePassword = async (e) => {
    e.preventDefault();
    const { current, next, again } = this.state.pw;
    if (next.length < MIN_PASSWORD) return this.setState({ pwError: t('settings.password_short', { n: MIN_PASSWORD }) });
    if (next !== again) return this.setState({ pwError: t('settings.password_mismatch') });
    this.setState({ busy: true, pwError: null });
    try {
      const res = await api('POST', '/me/password', { body: { current, next } });
      this.setState({ busy: false, pw: { current: '', next: '', again: '' }, pwDone: t('settings.password_done', { n: res.sessions_ended }) });
    } catch (error) {
      this.setState({ busy: false, pwError: error.code === 'wrong_password' ? t('settings.password_wrong') : null, pwDone: null, error: error.code === 'wrong_password' ? null : error });
    }
  };

  renderPreferences(settings) {
    return html`<div class="prefs">
      ${Object.entries(settings).map(([key, value]) => typeof value === 'boolean'
        ? html`<label class="check"><input type="checkbox" name=${key} checked=${value}
            onChange=${(e) => this.setBoolean(key, e.currentTarget.checked)} /> ${t(`settings.pref.${key}`)}</label>`
        : CHOICES[key] ? html`<${SelectField} label=${t(`settings.pref.${key}`)} name=${key} value=${value}
            options=${CHOICES[key].map((v) => [v, t(`settings.pref.${key}.${v}`)])}
            onInput=${(_, v) => this.patch({ settings: { [key]: v } }, 'display')} />` : null)}
    </div>`;
  }

  render({ user, pi }) {
    const { name, saved, error, pw, pwError, pwDone, busy } = this.state;
    const done = (what) => (saved === what ? html`<p class="saved" role="status">${t('settings.saved')}</p>` : null);
    return html`<section class="settings">
      <div class="screen-head"><h1>${t('settings.title')}</h1><${PiBadge} pi=${pi} label=${t('pi.account')} /></div>
      <${ErrorNote} error=${error} />

      <h2>${t('settings.profile')}</h2>
      <form class="row-form" onSubmit=${this.saveName}>
        <label class="field"><span>${t('settings.display_name')}</span>
          <input name="display_name" value=${name} maxLength="200" placeholder=${user.username} onInput=${(e) => this.setState({ name: e.currentTarget.value })} /></label>
        <button type="submit">${t('settings.save')}</button>
      </form>
      ${done('profile')}

      <h2>${t('settings.region')}</h2>
      <${SelectField} label=${t('settings.language')} name="lang" value=${user.lang}
        options=${LANGS.map((l) => [l, t(`lang.${l}`)])} onInput=${(_, v) => this.patch({ lang: v }, 'region')} />
      <${SelectField} label=${t('settings.timezone')} name="timezone" value=${user.timezone}
        options=${timeZones(user.timezone).map((z) => [z, z.replace(/_/g, ' ')])} onInput=${(_, v) => this.patch({ timezone: v }, 'region')} />
      ${done('region')}

      <h2>${t('settings.display')}</h2>
      ${this.renderPreferences(user.settings ?? {})}
      ${this.state.notifyDenied ? html`<p class="error" role="alert">${t('settings.notifications_denied')}</p>` : null}
      ${done('display')}
      <h3>${t('settings.image_senders')}</h3>
      ${this.state.imageSenders.length
        ? html`<ul class="image-senders">${this.state.imageSenders.map((a) => html`<li key=${a}>${a}
            <button type="button" class="quiet" aria-label=${t('settings.image_senders_remove', { sender: a })} onClick=${() => this.forgetImageSender(a)}>×</button></li>`)}</ul>`
        : html`<p class="muted">${t('settings.image_senders_none')}</p>`}

      <h2>${t('settings.password')}</h2>
      <form class="password-form" onSubmit=${this.changePassword}>
        <label class="field"><span>${t('settings.password_current')}</span>
          <input name="current" type="password" autocomplete="current-password" required value=${pw.current} onInput=${(e) => this.setPw('current', e.currentTarget.value)} /></label>
        <label class="field"><span>${t('settings.password_new')}</span>
          <input name="next" type="password" autocomplete="new-password" required value=${pw.next} onInput=${(e) => this.setPw('next', e.currentTarget.value)} /></label>
        <label class="field"><span>${t('settings.password_again')}</span>
          <input name="again" type="password" autocomplete="new-password" required value=${pw.again} onInput=${(e) => this.setPw('again', e.currentTarget.value)} /></label>
        ${pwError ? html`<p class="error" role="alert">${pwError}</p>` : null}
        ${pwDone ? html`<p class="saved" role="status">${pwDone}</p>` : null}
        <button type="submit" disabled=${busy}>${t('settings.password_submit')}</button>
      </form>

      <h2>${t('nav.keys')}</h2>
      <p>${t('settings.keys_intro')} <a href="#/keys">${t('settings.keys_link')}</a></p>
      <h2>${t('settings.devices')}</h2>
      <p>${t('settings.devices_intro')} <a href="#/devices">${t('settings.devices_link')}</a></p>
      <h2>${t('settings.accounts')}</h2>
      <p>${t('settings.accounts_intro')} <a href="#/accounts">${t('settings.accounts_link')}</a></p>
      <p><a href="#/help">${t('pi.help_link')}</a></p>
    </section>`;
  }
}
