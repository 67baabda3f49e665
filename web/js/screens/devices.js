// The user's devices: name, type, first and last seen, last address, PI with its reasons; rename
// (name and type) and remove. Removing a device ends its sessions at once; removing this one
// logs out (the shell is told through onRemovedCurrent).
import { html, Component } from '../html.js';
import { t, formatDate } from '../i18n.js';
import { api } from '../api.js';
import { ErrorNote, SelectField } from '../components/field.js';
import { PiBadge } from '../components/pi-badge.js';
import { DEVICE_TYPES, typeLabel } from '../device-types.js';

class DeviceItem extends Component {
  state = { mode: 'view', name: '', type: '', error: null, busy: false };

  edit = () => this.setState({ mode: 'edit', name: this.props.device.name, type: this.props.device.type, error: null });
  cancel = () => this.setState({ mode: 'view', error: null });

  save = async (e) => {
    e.preventDefault();
    this.setState({ busy: true, error: null });
    try {
      await api('PATCH', `/devices/${this.props.device.id}`, { body: { name: this.state.name, type: this.state.type } });
      this.setState({ mode: 'view', busy: false });
      this.props.onChanged();
    } catch (error) {
      this.setState({ error, busy: false });
    }
  };

  remove = async () => {
    this.setState({ busy: true, error: null });
    try {
      const res = await api('DELETE', `/devices/${this.props.device.id}`);
      this.props.onRemoved(res);
    } catch (error) {
      this.setState({ error, busy: false });
    }
  };

  renderEdit() {
    const { name, type, busy } = this.state;
    return html`<form class="device-edit" onSubmit=${this.save}>
      <label class="field"><span>${t('device.name')}</span>
        <input name="name" value=${name} required onInput=${(e) => this.setState({ name: e.currentTarget.value })} /></label>
      <${SelectField} label=${t('device.type')} name="type" value=${type} onInput=${(_, v) => this.setState({ type: v })}
        options=${DEVICE_TYPES.map((ty) => [ty, typeLabel(ty)])} />
      <div class="actions">
        <button type="submit" disabled=${busy}>${t('devices.save')}</button>
        <button type="button" class="quiet" onClick=${this.cancel}>${t('devices.cancel')}</button>
      </div>
    </form>`;
  }

  renderConfirm() {
    const { device } = this.props;
    return html`<div class="confirm" role="alert">
      <p>${device.current ? t('devices.confirm_current') : t('devices.confirm', { name: device.name })}</p>
      <div class="actions">
        <button type="button" class="danger" disabled=${this.state.busy} onClick=${this.remove}>${t('devices.remove_confirm')}</button>
        <button type="button" class="quiet" onClick=${this.cancel}>${t('devices.cancel')}</button>
      </div>
    </div>`;
  }

  render({ device }) {
    const { mode, error } = this.state;
    return html`<li class="device" data-device=${device.id}>
      <${PiBadge} pi=${device.pi} label=${device.name} />
      <div class="device-body">
        <div class="device-title"><strong class="device-name">${device.name}</strong>
          ${device.current ? html` <span class="tag-current">${t('devices.current')}</span>` : null}
          <span class="muted"> · ${typeLabel(device.type)}</span></div>
        <dl class="device-facts">
          <dt>${t('devices.first_seen')}</dt><dd>${formatDate(device.first_seen_at)}</dd>
          <dt>${t('devices.last_seen')}</dt><dd>${formatDate(device.last_seen_at)}</dd>
          <dt>${t('devices.last_ip')}</dt><dd>${device.last_ip || t('devices.unknown')}</dd>
        </dl>
        <${ErrorNote} error=${error} />
        ${mode === 'edit' ? this.renderEdit() : mode === 'confirm' ? this.renderConfirm() : html`<div class="actions">
          <button type="button" class="quiet" onClick=${this.edit}>${t('devices.rename')}</button>
          <button type="button" class="quiet danger-text" onClick=${() => this.setState({ mode: 'confirm' })}>${t('devices.remove')}</button>
        </div>`}
      </div>
    </li>`;
  }
}

export class DevicesScreen extends Component {
  state = { items: null, unbound: 0, error: null };

  componentDidMount() {
    this.load();
  }

  load = async () => {
    try {
      const res = await api('GET', '/devices');
      this.setState({ items: res.items, unbound: res.unbound_sessions, error: null });
    } catch (error) {
      this.setState({ error });
    }
  };

  onRemoved = (res) => {
    if (res.current) this.props.onRemovedCurrent();
    else this.load();
  };

  render() {
    const { items, unbound, error } = this.state;
    return html`<section class="devices">
      <h1>${t('devices.title')}</h1>
      <p class="muted">${t('devices.intro')}</p>
      <${ErrorNote} error=${error} />
      ${items === null ? html`<p class="loading">${t('loading')}</p>` : html`<ul class="device-list">
        ${items.map((d) => html`<${DeviceItem} key=${d.id} device=${d} onChanged=${this.load} onRemoved=${this.onRemoved} />`)}
      </ul>`}
      ${unbound > 0 ? html`<p class="hint">${t('devices.unbound', { n: unbound })}</p>` : null}
    </section>`;
  }
}
