// The new-device step after a login from a browser the box does not know: a name and a type
// (desktop, laptop, phone, tablet, shared computer). POST /devices/current binds the session to
// the new device and leaves a device cookie, so the next login from here skips this step.
import { html, Component } from '../html.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { Field, SelectField, ErrorNote } from '../components/field.js';
import { DEVICE_TYPES, typeLabel, guessDevice } from '../device-types.js';

export class DeviceNameScreen extends Component {
  constructor() {
    super();
    const guess = guessDevice(navigator.userAgent);
    this.state = { form: { name: t('device.suggested', guess), type: guess.type }, error: null, busy: false };
  }

  onInput = (name, value) => this.setState({ form: { ...this.state.form, [name]: value } });

  submit = async (e) => {
    e.preventDefault();
    this.setState({ busy: true, error: null });
    try {
      const res = await api('POST', '/devices/current', { body: this.state.form });
      this.props.onDone(res.device);
    } catch (error) {
      this.setState({ error, busy: false });
    }
  };

  render() {
    const { form, error, busy } = this.state;
    return html`<form class="card" onSubmit=${this.submit}>
      <h1>${t('device.title')}</h1>
      <p>${t('device.intro')}</p>
      <${ErrorNote} error=${error} />
      <${Field} label=${t('device.name')} name="name" value=${form.name} onInput=${this.onInput} />
      <${SelectField} label=${t('device.type')} name="type" value=${form.type} onInput=${this.onInput}
        options=${DEVICE_TYPES.map((type) => [type, typeLabel(type)])} />
      <p class="hint">${t('device.shared_hint')}</p>
      <button type="submit" disabled=${busy}>${t('device.submit')}</button>
    </form>`;
  }
}
