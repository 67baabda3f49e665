// Logging in: username (or address) and password. The shell decides what follows: the device
// naming step when the server answers needsDevice, else the timeline.
import { html, Component } from '../html.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { Field, ErrorNote } from '../components/field.js';

export class LoginScreen extends Component {
  state = { form: { username: '', password: '' }, error: null, busy: false };

  onInput = (name, value) => this.setState({ form: { ...this.state.form, [name]: value } });

  submit = async (e) => {
    e.preventDefault();
    this.setState({ busy: true, error: null });
    try {
      const res = await api('POST', '/auth/login', { body: this.state.form });
      this.props.onDone(res);
    } catch (error) {
      this.setState({ error, busy: false, form: { ...this.state.form, password: '' } });
    }
  };

  render({ notice }) {
    const { form, error, busy } = this.state;
    return html`<form class="card" onSubmit=${this.submit}>
      <h1>${t('login.title')}</h1>
      ${notice && !error ? html`<p class="notice" role="status">${notice}</p>` : null}
      <${ErrorNote} error=${error ?? this.props.error} />
      <${Field} label=${t('login.username')} name="username" value=${form.username} onInput=${this.onInput} autocomplete="username" />
      <${Field} label=${t('login.password')} name="password" type="password" value=${form.password} onInput=${this.onInput} autocomplete="current-password" />
      <button type="submit" disabled=${busy}>${t('login.submit')}</button>
    </form>`;
  }
}
