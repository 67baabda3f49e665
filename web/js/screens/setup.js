// First run: the one-time code printed on the console, the mail domain, the administrator and
// the language. (The full appliance wizard, DNS, TLS and relay, grows from here in a later issue.)
import { html, Component } from '../html.js';
import { t, currentLang, setLanguage, LANGS } from '../i18n.js';
import { api } from '../api.js';
import { Field, SelectField, ErrorNote } from '../components/field.js';

export class SetupScreen extends Component {
  state = { form: { code: '', domain: '', admin: '', password: '', lang: currentLang() }, error: null, busy: false };

  onInput = async (name, value) => {
    this.setState({ form: { ...this.state.form, [name]: value } });
    if (name === 'lang') {
      // The wizard speaks the language being chosen.
      await setLanguage(value);
      this.forceUpdate();
    }
  };

  submit = async (e) => {
    e.preventDefault();
    this.setState({ busy: true, error: null });
    try {
      const res = await api('POST', '/setup', { body: this.state.form });
      this.props.onDone(res);
    } catch (error) {
      this.setState({ error, busy: false });
    }
  };

  render() {
    const { form, error, busy } = this.state;
    return html`<form class="card" onSubmit=${this.submit}>
      <h1>${t('setup.title')}</h1>
      <p>${t('setup.intro')}</p>
      <${ErrorNote} error=${error} />
      <${Field} label=${t('setup.code')} name="code" value=${form.code} onInput=${this.onInput} />
      <${Field} label=${t('setup.domain')} name="domain" value=${form.domain} onInput=${this.onInput} />
      <${Field} label=${t('setup.admin')} name="admin" value=${form.admin} onInput=${this.onInput} autocomplete="username" />
      <${Field} label=${t('setup.password')} name="password" type="password" value=${form.password} onInput=${this.onInput} autocomplete="new-password" />
      <${SelectField} label=${t('setup.lang')} name="lang" value=${form.lang} onInput=${this.onInput}
        options=${LANGS.map((l) => [l, l === 'fr' ? t('lang.fr') : t('lang.en')])} />
      <button type="submit" disabled=${busy}>${t('setup.submit')}</button>
    </form>`;
  }
}
