// The minimal web app: first-run set-up, login, and a plain list of discussions, enough to see
// that mail arrives. Preact + htm are loaded by relative URL from /vendor/ (no CDN, and no import
// map: an inline one would break the strict CSP, script-src 'self').
import { h, render, Component } from './vendor/preact.js';
import htm from './vendor/htm.js';

const html = htm.bind(h);
const API = '/api/v1';

function browserLang() {
  return (navigator.language || 'en').toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

async function loadCatalogue(lang) {
  const res = await fetch(`./i18n/${lang}.json`);
  return res.ok ? res.json() : {};
}

function translator(catalogue) {
  return (key, vars = {}) => (catalogue[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, { body, csrf } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  const data = (res.headers.get('content-type') || '').includes('application/json') ? await res.json() : null;
  if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? 'other', data?.error?.message ?? String(res.status));
  return data;
}

function errorText(t, err) {
  const key = `error.${err.code}`;
  return t(key, { message: err.message }) === key ? t('error.other', { message: err.message }) : t(key, { message: err.message });
}

function Field({ label, name, type = 'text', value, onInput, autocomplete }) {
  return html`<label class="field"><span>${label}</span>
    <input name=${name} type=${type} value=${value} autocomplete=${autocomplete} required
      onInput=${(e) => onInput(name, e.currentTarget.value)} /></label>`;
}

class App extends Component {
  constructor(props) {
    super(props);
    this.state = { phase: 'loading', form: { lang: props.lang }, error: null, user: null, csrf: null, items: [], next: null };
  }

  componentDidMount() {
    this.start();
  }

  async start() {
    try {
      const me = await api('GET', '/me');
      return this.enter(me.user, me.csrfToken);
    } catch (err) {
      if (err.status !== 401) return this.setState({ phase: 'login', error: err });
    }
    const { needed } = await api('GET', '/setup').catch(() => ({ needed: false }));
    this.setState({ phase: needed ? 'setup' : 'login' });
  }

  async enter(user, csrf) {
    this.setState({ phase: 'mail', user, csrf, error: null, form: { lang: this.props.lang } });
    await this.loadDiscussions();
  }

  async loadDiscussions(before) {
    try {
      const page = await api('GET', `/discussions?limit=50${before ? `&before=${encodeURIComponent(before)}` : ''}`);
      this.setState({ items: before ? [...this.state.items, ...page.items] : page.items, next: page.next, error: null });
    } catch (err) {
      if (err.status === 401) this.setState({ phase: 'login' });
      this.setState({ error: err });
    }
  }

  onInput = (name, value) => this.setState({ form: { ...this.state.form, [name]: value } });

  submit = (path, fields) => async (e) => {
    e.preventDefault();
    const body = Object.fromEntries(fields.map((f) => [f, this.state.form[f] ?? '']));
    try {
      const res = await api('POST', path, { body });
      await this.enter(res.user, res.csrfToken);
    } catch (err) {
      this.setState({ error: err });
    }
  };

  logout = async () => {
    await api('POST', '/auth/logout', { csrf: this.state.csrf }).catch(() => {});
    this.setState({ phase: 'login', user: null, csrf: null, items: [], next: null });
  };

  renderError() {
    const { error } = this.state;
    return error ? html`<p class="error" role="alert">${errorText(this.props.t, error)}</p>` : null;
  }

  renderSetup() {
    const { t } = this.props;
    const f = this.state.form;
    return html`<form class="card" onSubmit=${this.submit('/setup', ['code', 'domain', 'admin', 'password', 'lang'])}>
      <h1>${t('setup.title')}</h1>
      <p>${t('setup.intro')}</p>
      ${this.renderError()}
      <${Field} label=${t('setup.code')} name="code" value=${f.code ?? ''} onInput=${this.onInput} autocomplete="off" />
      <${Field} label=${t('setup.domain')} name="domain" value=${f.domain ?? ''} onInput=${this.onInput} autocomplete="off" />
      <${Field} label=${t('setup.admin')} name="admin" value=${f.admin ?? ''} onInput=${this.onInput} autocomplete="username" />
      <${Field} label=${t('setup.password')} name="password" type="password" value=${f.password ?? ''} onInput=${this.onInput} autocomplete="new-password" />
      <label class="field"><span>${t('setup.lang')}</span>
        <select name="lang" value=${f.lang} onChange=${(e) => this.onInput('lang', e.currentTarget.value)}>
          <option value="en">${t('lang.en')}</option><option value="fr">${t('lang.fr')}</option>
        </select></label>
      <button type="submit">${t('setup.submit')}</button>
    </form>`;
  }

  renderLogin() {
    const { t } = this.props;
    const f = this.state.form;
    return html`<form class="card" onSubmit=${this.submit('/auth/login', ['username', 'password'])}>
      <h1>${t('login.title')}</h1>
      ${this.renderError()}
      <${Field} label=${t('login.username')} name="username" value=${f.username ?? ''} onInput=${this.onInput} autocomplete="username" />
      <${Field} label=${t('login.password')} name="password" type="password" value=${f.password ?? ''} onInput=${this.onInput} autocomplete="current-password" />
      <button type="submit">${t('login.submit')}</button>
    </form>`;
  }

  renderItem(d) {
    const { t } = this.props;
    const who = d.participants.map((p) => p.name || p.address).join(', ');
    const pi = d.pi
      ? html`<span class=${`pi pi-${d.pi.colour}`} title=${t('mail.pi', { score: d.pi.score })}>${d.pi.letter}</span>`
      : html`<span class="pi pi-none">–</span>`;
    return html`<li class=${d.unread_count ? 'discussion unread' : 'discussion'} key=${d.id}>
      ${pi}
      <div class="summary">
        <div class="line"><span class="who">${who}</span>
          <time datetime=${new Date(d.last_message_at).toISOString()}>${new Date(d.last_message_at).toLocaleString(this.props.lang)}</time></div>
        <div class="subject">${d.subject || t('mail.no_subject')}${d.unread_count ? html` <span class="badge">${t('mail.unread', { n: d.unread_count })}</span>` : null}</div>
        <div class="excerpt">${d.excerpt}</div>
      </div>
    </li>`;
  }

  renderMail() {
    const { t } = this.props;
    const { user, items, next } = this.state;
    return html`<section class="mail">
      <header><h1>${t('mail.title')}</h1><span class="me">${user.addresses[0] ?? user.username}</span>
        <button type="button" onClick=${() => this.loadDiscussions()}>${t('mail.refresh')}</button>
        <button type="button" onClick=${this.logout}>${t('mail.logout')}</button></header>
      ${this.renderError()}
      ${items.length ? html`<ul class="timeline">${items.map((d) => this.renderItem(d))}</ul>` : html`<p class="empty">${t('mail.empty')}</p>`}
      ${next ? html`<button type="button" onClick=${() => this.loadDiscussions(next)}>${t('mail.more')}</button>` : null}
    </section>`;
  }

  render() {
    switch (this.state.phase) {
      case 'setup': return this.renderSetup();
      case 'login': return this.renderLogin();
      case 'mail': return this.renderMail();
      default: return html`<p class="loading">${this.props.t('loading')}</p>`;
    }
  }
}

const lang = browserLang();
document.documentElement.lang = lang;
const t = translator(await loadCatalogue(lang));
document.title = t('app.title');
render(html`<${App} lang=${lang} t=${t} />`, document.getElementById('app'));
