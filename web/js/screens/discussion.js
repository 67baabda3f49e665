// One discussion (#/discussions/:id): its messages in date order, each opened with MessageView
// (the newest and the unread ones open at first, the others on a click), tags on the whole
// discussion, and a quick reply at the bottom: a draft answering the newest message with the
// typed text, sent at once (Ctrl+Enter or the button) — sealed in this browser when every
// recipient has a key (crypto/seal.js; the text never reaches the box in clear); "full editor"
// opens the same draft, quote included, in compose. New mail in this discussion appears live.
import { html, Component, createRef } from '../html.js';
import { t, formatDate } from '../i18n.js';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { subscribe } from '../live.js';
import { ErrorNote } from '../components/field.js';
import { PiBadge } from '../components/pi-badge.js';
import { MessageView } from '../components/message-view.js';
import { SendStatus } from '../components/send-status.js';
import { TagEditor } from '../components/tag-editor.js';
import { prefs } from '../prefs.js';
import { lookupSeal, sendSealedDraft } from '../crypto/seal.js';
import * as keyring from '../crypto/keyring.js';

export class DiscussionScreen extends Component {
  state = { d: null, error: null, open: new Set(), reply: '', sending: false, sent: null, replyError: null, tags: [], tagError: null };
  replyBox = createRef();

  componentDidMount() {
    this.load(true);
    api('GET', '/tags').then((r) => this.setState({ tags: r.items })).catch(() => {});
    this.off = subscribe('message', (e) => {
      if (String(e.discussionId) === String(this.props.id)) this.load();
    });
  }

  componentWillUnmount() {
    this.off();
  }

  load = async (first = false) => {
    try {
      const d = await api('GET', `/discussions/${this.props.id}`);
      const open = new Set(this.state.open);
      const last = d.messages[d.messages.length - 1];
      if (first) for (const m of d.messages) if (!m.is_read) open.add(m.id);
      if (last) open.add(last.id);
      this.setState({ d, open, error: null }, () => {
        if (first && this.props.reply) this.replyBox.current?.focus();
      });
    } catch (error) {
      this.setState({ error });
    }
  };

  toggle(id) {
    const open = new Set(this.state.open);
    if (open.has(id)) open.delete(id);
    else open.add(id);
    this.setState({ open });
  }

  lastId() {
    const ms = this.state.d.messages;
    return ms[ms.length - 1].id;
  }

  sendReply = async () => {
    const body = this.state.reply.trim();
    if (!body || this.state.sending) return;
    this.setState({ sending: true, replyError: null, sent: null });
    try {
      // The reply's recipients decide: sealed when they all have keys (and so does the user).
      const draft = await api('POST', '/drafts', { body: { replyTo: this.lastId() } });
      const lookup = await lookupSeal([...draft.to, ...draft.cc].map((a) => a.address));
      const key = lookup.sealed ? await keyring.myKey() : null;
      let sent;
      if (key && !key.revoked_at) {
        if (!keyring.unlockedKey() && !(await keyring.unlockRemembered())) {
          await api('DELETE', `/drafts/${draft.id}`).catch(() => {});
          throw Object.assign(new Error('locked'), { code: 'key_locked' });
        }
        sent = await sendSealedDraft(draft, { text: body, lookup });
      } else {
        await api('PATCH', `/drafts/${draft.id}`, { body: { body } });
        sent = await api('POST', `/drafts/${draft.id}/send`);
      }
      this.setState({ reply: '', sent });
      await this.load();
    } catch (replyError) {
      this.setState({ replyError });
    } finally {
      this.setState({ sending: false });
    }
  };

  fullEditor = async () => {
    try {
      const draft = await api('POST', '/drafts', { body: { replyTo: this.lastId() } });
      const typed = this.state.reply.trim();
      if (typed) await api('PATCH', `/drafts/${draft.id}`, { body: { body: `${typed}\n\n${draft.body}` } });
      navigate(`/compose/${draft.id}`);
    } catch (replyError) {
      this.setState({ replyError });
    }
  };

  /** The same tag change on every message of the discussion (POST /discussions/:id/tags). */
  async changeTags(change) {
    this.setState({ tagError: null });
    try {
      await api('POST', `/discussions/${this.props.id}/tags`, { body: change });
      await this.load();
    } catch (tagError) {
      this.setState({ tagError });
    }
  }

  renderTags(d) {
    const names = [...new Set(d.messages.flatMap((m) => m.tags))].sort();
    return html`<div class="discussion-tags">
      <${TagEditor} names=${names} known=${this.state.tags} addLabel=${t('discussion.tag_add')}
        removeLabel=${(tag) => t('discussion.tag_remove', { tag })} onChange=${(change) => this.changeTags(change)} />
      <${ErrorNote} error=${this.state.tagError} />
    </div>`;
  }

  onReplyKey = (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      this.sendReply();
    }
  };

  renderCollapsed(m) {
    const who = m.from.name || m.from.address || '?';
    return html`<button type="button" class="message-collapsed" onClick=${() => this.toggle(m.id)}>
      <${PiBadge} pi=${m.pi} /> <strong>${who}</strong> <span class="excerpt">${m.excerpt}</span>
      <time>${formatDate(m.date)}</time></button>`;
  }

  render() {
    const { d, error, open, reply, sending, sent, replyError, tags } = this.state;
    if (!d) return html`<section class="discussion-screen">${error ? html`<${ErrorNote} error=${error} />` : html`<p class="loading">${t('loading')}</p>`}</section>`;
    return html`<section class="discussion-screen">
      <header class="screen-head">
        <a class="quiet" href="#/timeline">← ${t('discussion.back')}</a>
        <h1>${d.subject || t('mail.no_subject')}</h1>
        <${PiBadge} pi=${d.pi} label=${t('discussion.pi')} />
      </header>
      ${d.truncated ? html`<p class="muted">${t('discussion.truncated', { n: d.messages.length })}</p>` : null}
      ${this.renderTags(d)}
      <ol class="messages">${(prefs().message_order === 'newest_first' ? [...d.messages].reverse() : d.messages).map((m) => html`<li key=${m.id}>
        ${open.has(m.id)
          ? html`<${MessageView} id=${m.id} tags=${tags} onChanged=${() => this.load()} />`
          : this.renderCollapsed(m)}</li>`)}</ol>
      <form class="quick-reply" onSubmit=${(e) => { e.preventDefault(); this.sendReply(); }}>
        <label for="quick-reply">${t('discussion.reply')}</label>
        <textarea id="quick-reply" ref=${this.replyBox} rows="4" value=${reply} placeholder=${t('discussion.reply_hint')}
          onInput=${(e) => this.setState({ reply: e.currentTarget.value })} onKeyDown=${this.onReplyKey}></textarea>
        <div class="actions">
          <button type="submit" disabled=${sending || !reply.trim()}>${sending ? t('send.sending') : t('discussion.send')}</button>
          <button type="button" class="quiet" onClick=${this.fullEditor}>${t('discussion.full_editor')}</button>
        </div>
        <${ErrorNote} error=${replyError} />
        ${sent ? html`<${SendStatus} key=${sent.messageId} result=${sent} />` : null}
      </form>
    </section>`;
  }
}
