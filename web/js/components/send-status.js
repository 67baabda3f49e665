// What happened to a message once sent, in plain words: delivered at once to local users, queued
// for other domains, then delivered or failed (with the reason the remote server gave) as the
// `delivery` events arrive. The failure's reason is read from the queue (GET /queue?status=failed).
import { html, Component } from '../html.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { subscribe } from '../live.js';

export class SendStatus extends Component {
  state = { domains: {} };

  componentDidMount() {
    this.off = subscribe('delivery', this.onDelivery);
    // an attempt may have ended before this listened: the queue says where each domain stands
    if (this.props.result.queued.length) this.fromQueue();
  }

  async fromQueue() {
    const q = await api('GET', '/queue').catch(() => ({ items: [] }));
    const domains = { ...this.state.domains };
    for (const row of q.items.filter((r) => r.subjectMessageId === this.props.result.headerMessageId)) {
      if (row.status === 'queued' || row.status === 'delivering') continue;
      domains[row.domain] ??= { status: row.status, reason: row.lastError ?? null };
    }
    this.setState({ domains });
  }

  componentWillUnmount() {
    this.off();
  }

  onDelivery = async (e) => {
    if (e.messageId !== this.props.result.messageId) return;
    let reason = null;
    if (e.status === 'failed' || e.status === 'dropped') {
      const q = await api('GET', `/queue?status=${e.status}`).catch(() => ({ items: [] }));
      reason = q.items.find((row) => row.id === e.queueId)?.lastError ?? null;
    }
    this.setState({ domains: { ...this.state.domains, [e.domain]: { status: e.status, reason } } });
  };

  render({ result }) {
    const { domains } = this.state;
    return html`<div class="send-status" role="status">
      ${result.local.length ? html`<p class="ok">${t('send.local', { to: result.local.join(', ') })}</p>` : null}
      ${result.queued.length ? html`<p>${t('send.queued', { to: result.queued.join(', ') })}</p>` : null}
      ${Object.entries(domains).map(([domain, d]) => html`<p key=${domain} class=${d.status === 'delivered' ? 'ok' : d.status === 'failed' || d.status === 'dropped' ? 'error' : ''}>
        ${d.status === 'delivered' ? t('send.delivered', { domain })
          : d.status === 'failed' || d.status === 'dropped' ? t('send.failed', { domain, reason: d.reason || t('send.no_reason') })
          : t('send.retrying', { domain })}</p>`)}
    </div>`;
  }
}
