// One message of a discussion, opened: from/to/cc and date (the user's zone), its PI badge with
// the reasons by axis (travel, sender, content), the authentication results in plain words, the
// attachments as download links, and the body. HTML is the API's sanitized copy served as its own
// document (GET /messages/:id/body) with its own CSP, in an iframe sandboxed without scripts or
// same-origin (links open in a new tab, nothing else). Remote images stay blocked unless the user
// shows them once (?remote=1), always for this sender (POST /image-senders) or always (settings).
import { html, Component } from '../html.js';
import { t, formatDate } from '../i18n.js';
import { api } from '../api.js';
import { PiBadge } from './pi-badge.js';
import { ErrorNote } from './field.js';
import { prefs } from '../prefs.js';
import { TagEditor } from './tag-editor.js';
import { SealedBody } from './sealed-body.js';

const AXES = ['travel', 'sender', 'content'];

function people(list) {
  return list.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ');
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function PiAxes({ pi }) {
  if (!pi?.axes) return null;
  return html`<p class="pi-axes">${AXES.map((a) => html`<span key=${a}>${t(`message.axis_${a}`)} ${pi.axes[a] ?? 0}</span>`)}</p>`;
}

export class MessageView extends Component {
  state = { m: null, error: null, allowRemote: false, busy: false };

  componentDidMount() {
    this.load();
  }

  load = async (allowRemote = this.state.allowRemote) => {
    try {
      const m = await api('GET', `/messages/${this.props.id}${allowRemote ? '?allow_remote=1' : ''}`);
      this.setState({ m, allowRemote, error: null });
      if (!m.is_read) {
        await api('POST', `/messages/${m.id}/read`, { body: { read: true } }).catch(() => {});
        this.props.onChanged?.();
      }
    } catch (error) {
      this.setState({ error });
    }
  };

  async act(fn) {
    this.setState({ busy: true, error: null });
    try {
      await fn();
      this.props.onChanged?.();
    } catch (error) {
      this.setState({ error });
    } finally {
      this.setState({ busy: false });
    }
  }

  tags(change) {
    return this.act(async () => {
      const r = await api('POST', `/messages/${this.state.m.id}/tags`, { body: change });
      this.setState({ m: { ...this.state.m, tags: r.tags, is_spam: r.is_spam } });
    });
  }

  markUnread = () => this.act(async () => {
    await api('POST', `/messages/${this.state.m.id}/read`, { body: { read: false } });
    this.setState({ m: { ...this.state.m, is_read: false } });
  });

  renderHead(m) {
    const h = m.headers;
    return html`<header class="message-head">
      <${PiBadge} pi=${m.pi} label=${t('message.pi')} />
      <div class="message-meta">
        <div><span class="label">${t('message.from')}</span> <strong>${people(h.from)}</strong></div>
        ${h.to.length ? html`<div><span class="label">${t('message.to')}</span> ${people(h.to)}</div>` : null}
        ${h.cc.length ? html`<div><span class="label">${t('message.cc')}</span> ${people(h.cc)}</div>` : null}
        <div><span class="label">${t('message.date')}</span> <time datetime=${h.date}>${formatDate(Date.parse(h.date))}</time></div>
      </div>
    </header>`;
  }

  trustSender = (trusted) => this.act(async () => {
    const address = this.state.m.sender;
    if (trusted) await api('POST', '/image-senders', { body: { address } });
    else await api('DELETE', `/image-senders/${encodeURIComponent(address)}`);
    await this.load(false);
  });

  renderRemoteNote(m) {
    const { busy, allowRemote } = this.state;
    if (m.remote_images === 'sender') {
      return html`<p class="remote-note">${t('message.remote_trusted', { sender: m.sender })}
        <button type="button" class="quiet" disabled=${busy} onClick=${() => this.trustSender(false)}>${t('message.remote_untrust')}</button></p>`;
    }
    if (m.blocked_remote === 0 || allowRemote || m.remote_images || prefs().show_images === 'never') return null;
    return html`<p class="remote-note">${t('message.remote_blocked', { n: m.blocked_remote })}
      <button type="button" class="quiet" onClick=${() => this.load(true)}>${t('message.show_images')}</button>
      ${m.sender ? html`<button type="button" class="quiet" disabled=${busy} onClick=${() => this.trustSender(true)}>${t('message.show_images_sender', { sender: m.sender })}</button>` : null}</p>`;
  }

  renderBody(m) {
    if (m.is_encrypted) return html`<${SealedBody} m=${m} />`;
    if (m.html === null) return html`<pre class="message-text">${m.text}</pre>`;
    const src = `${m.body_url}${this.state.allowRemote ? '?remote=1' : ''}`;
    return html`<div class="message-html">
      ${this.renderRemoteNote(m)}
      <iframe key=${`${src}|${m.remote_images}`} src=${src} sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" title=${t('message.body_frame')}></iframe>
    </div>`;
  }

  render({ tags: known = [] }) {
    const { m, error, busy } = this.state;
    if (!m) return html`<article class="message">${error ? html`<${ErrorNote} error=${error} />` : html`<p class="loading">${t('loading')}</p>`}</article>`;
    return html`<article class="message" data-id=${m.id}>
      ${this.renderHead(m)}
      <${PiAxes} pi=${m.pi} />
      ${m.auth_summary.length ? html`<ul class="auth">${m.auth_summary.map((line) => html`<li>${line}</li>`)}</ul>` : null}
      ${this.renderBody(m)}
      ${m.attachments.length ? html`<ul class="attachments" aria-label=${t('message.attachments')}>${m.attachments.map((a) => html`<li key=${a.index}>
        <a href=${`/api/v1/messages/${m.id}/attachments/${a.index}`} download=${a.filename || ''}>📎 ${a.filename || t('message.attachment_unnamed')}</a> <span class="muted">${size(a.size)}</span></li>`)}</ul>` : null}
      <${ErrorNote} error=${error} />
      <footer class="message-actions">
        <${TagEditor} names=${m.tags} known=${known} disabled=${busy} addLabel=${t('message.tag_add')}
          removeLabel=${(tag) => t('message.tag_remove', { tag })} onChange=${(change) => this.tags(change)} />
        <button type="button" class="quiet" disabled=${busy} onClick=${this.markUnread}>${t('message.mark_unread')}</button>
        ${m.is_spam
          ? html`<button type="button" class="quiet" disabled=${busy} onClick=${() => this.tags({ remove: ['SPAM'] })}>${t('message.not_spam')}</button>`
          : html`<button type="button" class="quiet" disabled=${busy} onClick=${() => this.tags({ add: ['SPAM'] })}>${t('message.spam')}</button>`}
        <a class="quiet" href=${`/api/v1/messages/${m.id}/raw`} download="">${t('message.raw')}</a>
      </footer>
    </article>`;
  }
}
