// Compose (#/compose, #/compose/:draftId) and the drafts list (#/drafts). A new message becomes a
// draft at its first change (POST /drafts) and every later change is autosaved about a second
// after typing stops (PATCH /drafts/:id, only the fields that changed); attachments are uploaded
// to the draft as they are picked. Sending saves what is pending first, then says what happened:
// delivered locally, queued, and later delivered or failed with the reason (SendStatus).
// When every recipient has a key (SealStatus), the message is sealed in this browser: its subject,
// text and new files stay here (only the recipients are autosaved) and crypto/seal.js sends it.
import { html, Component } from '../html.js';
import { t, formatDate } from '../i18n.js';
import { api, ApiError } from '../api.js';
import { navigate } from '../router.js';
import { ErrorNote } from '../components/field.js';
import { RecipientsInput } from '../components/recipients-input.js';
import { SendStatus } from '../components/send-status.js';
import { SealStatus } from '../components/seal-status.js';
import { lookupSeal, mailboxOf, sendSealedDraft } from '../crypto/seal.js';

const AUTOSAVE_MS = 1000;
const FIELDS = ['from', 'to', 'cc', 'bcc', 'subject', 'body'];
/** what a sealed message keeps in the browser: never autosaved to the box */
const SEALED_FIELDS = ['subject', 'body'];
let localId = 0;

const asText = (m) => (typeof m === 'string' ? m : m.name ? `${m.name} <${m.address}>` : m.address);

export class ComposeScreen extends Component {
  state = { draft: null, identities: [], external: [], error: null, saving: 'idle', sending: false, sent: null, showCc: false, seal: null };
  /** files picked while the message is sealed: kept here, never uploaded */
  localFiles = [];
  dirty = new Set();
  timer = null;
  /** the draft as typed, updated at once (setState is batched; a save right after a change reads this) */
  current = null;

  put(draft) {
    this.current = draft;
    this.setState({ draft });
  }

  async componentDidMount() {
    try {
      const me = await api('GET', '/me');
      // external: addresses of external accounts that send through their own server
      this.setState({ identities: me.user.addresses ?? [], external: me.user.send_as ?? [] });
      if (this.props.draftId) {
        const d = await api('GET', `/drafts/${this.props.draftId}`);
        this.put({ ...d, to: d.to.map(asText), cc: d.cc.map(asText), bcc: d.bcc.map(asText) });
        this.setState({ showCc: d.cc.length + d.bcc.length > 0 });
      } else {
        this.put({ id: null, from: me.user.addresses?.[0] ?? '', to: [], cc: [], bcc: [], subject: '', body: '', attachments: [] });
      }
    } catch (error) {
      this.setState({ error });
    }
  }

  componentWillUnmount() {
    if (this.dirty.size) this.save();
    clearTimeout(this.timer);
  }

  set(name, value) {
    this.dirty.add(name);
    this.put({ ...this.current, [name]: value });
    this.setState({ saving: 'pending' });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), AUTOSAVE_MS);
  }

  sealed() {
    return !!this.state.seal?.sealed;
  }

  /** The lookup changed: entering sealed mode wipes the subject and text already saved on the box. */
  onSeal = (seal) => {
    const was = this.sealed();
    this.setState({ seal });
    if (seal.sealed && !was && this.current?.id && (this.current.subject || this.current.body)) {
      api('PATCH', `/drafts/${this.current.id}`, { body: { subject: '', body: '' } }).catch(() => {});
      for (const f of SEALED_FIELDS) this.dirty.add(f); // saved again should it turn back into a postcard
    }
    if (!seal.sealed && was) this.uploadKeptFiles();
  };

  /** Back to a postcard: the files kept in the browser while it was sealed go to the draft like any other. */
  async uploadKeptFiles() {
    const kept = this.localFiles;
    this.localFiles = [];
    if (!kept.length) return;
    try {
      if (!this.current.id) await this.save();
      for (const k of kept) {
        const a = await api('POST', `/drafts/${this.current.id}/attachments?filename=${encodeURIComponent(k.filename)}`, { raw: k.file });
        this.put({ ...this.current, attachments: this.current.attachments.map((x) => (x.id === k.id ? a : x)) });
      }
      this.save();
    } catch (error) {
      this.setState({ error });
    }
  }

  /** Creates the draft on first save, then patches only what changed; one save at a time. Sealed: recipients only. */
  save = async () => {
    clearTimeout(this.timer);
    if (this.saving) return this.saving.then(() => (this.dirty.size ? this.save() : undefined));
    const fields = [...this.dirty].filter((f) => !this.sealed() || !SEALED_FIELDS.includes(f));
    if (!fields.length && this.current.id) return undefined;
    for (const f of fields) this.dirty.delete(f);
    const d = this.current;
    const body = Object.fromEntries((d.id ? fields : FIELDS.filter((f) => !this.sealed() || !SEALED_FIELDS.includes(f))).map((f) => [f, d[f]]));
    this.setState({ saving: 'saving' });
    this.saving = (async () => {
      try {
        const saved = d.id ? await api('PATCH', `/drafts/${d.id}`, { body }) : await api('POST', '/drafts', { body });
        if (!d.id) {
          this.put({ ...this.current, id: saved.id });
          history.replaceState(null, '', `#/compose/${saved.id}`);
        }
        this.setState({ saving: this.dirty.size && !this.sealed() ? 'pending' : 'saved', error: null });
      } catch (error) {
        for (const f of fields) this.dirty.add(f);
        this.setState({ error, saving: 'idle' });
      } finally {
        this.saving = null;
      }
    })();
    return this.saving;
  };

  attach = async (e) => {
    const files = [...e.currentTarget.files];
    e.currentTarget.value = '';
    if (this.sealed()) {
      const kept = files.map((file) => ({ id: `local-${++localId}`, filename: file.name, size: file.size, file }));
      this.localFiles.push(...kept);
      this.put({ ...this.current, attachments: [...this.current.attachments, ...kept] });
      return;
    }
    try {
      if (!this.current.id) await this.save();
      for (const file of files) {
        const a = await api('POST', `/drafts/${this.current.id}/attachments?filename=${encodeURIComponent(file.name)}`, { raw: file });
        this.put({ ...this.current, attachments: [...this.current.attachments, a] });
      }
    } catch (error) {
      this.setState({ error });
    }
  };

  detach = async (att) => {
    if (att.file) {
      this.localFiles = this.localFiles.filter((x) => x !== att);
      this.put({ ...this.current, attachments: this.current.attachments.filter((x) => x.id !== att.id) });
      return;
    }
    try {
      await api('DELETE', `/drafts/${this.current.id}/attachments/${att.id}`);
      this.put({ ...this.current, attachments: this.current.attachments.filter((x) => x.id !== att.id) });
    } catch (error) {
      this.setState({ error });
    }
  };

  send = async (e) => {
    e?.preventDefault();
    if (this.state.sending) return;
    this.setState({ sending: true, error: null });
    try {
      // text left in a recipients box counts, as if it had become a chip
      for (const input of document.querySelectorAll('.compose .recipients input')) input.blur();
      await this.save();
      if (!this.current.id) throw new ApiError(400, 'no_recipients', '');
      const sent = this.sealed() ? await this.sendSealed() : await api('POST', `/drafts/${this.current.id}/send`);
      this.setState({ sent });
    } catch (error) {
      this.setState({ error });
    } finally {
      this.setState({ sending: false });
    }
  };

  async sendSealed() {
    const d = this.current;
    // asked again: the recipients may have changed since the last answer (it waits for typing to stop)
    const lookup = await lookupSeal([...d.to, ...d.cc, ...d.bcc]);
    if (!lookup.sealed) {
      this.onSeal({ sealed: false, lookup });
      throw Object.assign(new Error('seal changed'), { code: 'seal_changed' });
    }
    const onBox = d.attachments.filter((a) => !a.file);
    return sendSealedDraft({ ...d, attachments: onBox }, { text: d.body, files: this.localFiles.map((a) => a.file), lookup });
  }

  discard = async () => {
    clearTimeout(this.timer);
    this.dirty.clear();
    if (this.current.id) await api('DELETE', `/drafts/${this.current.id}`).catch(() => {});
    navigate('/drafts');
  };

  onKey = (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) this.send(e);
  };

  render() {
    const { draft: d, identities, external, error, saving, sending, sent, showCc } = this.state;
    if (sent) {
      return html`<section class="compose"><header class="screen-head"><h1>${t('send.title')}</h1></header>
        <${SendStatus} result=${sent} />
        <p class="actions"><a class="button" href=${`#/discussions/${sent.discussionId}`}>${t('send.open_discussion')}</a>
          <a class="quiet" href="#/timeline">${t('discussion.back')}</a></p></section>`;
    }
    if (!d) return html`<section class="compose">${error ? html`<${ErrorNote} error=${error} />` : html`<p class="loading">${t('loading')}</p>`}</section>`;
    const all = [...identities, ...external];
    const froms = all.includes(d.from) || !d.from ? all : [d.from, ...all];
    return html`<section class="compose">
      <header class="screen-head"><h1>${d.parent_message_id ? t('compose.reply_title') : t('compose.title')}</h1>
        <span class="muted save-state" role="status">${saving === 'saving' ? t('compose.saving') : saving === 'saved' ? t('compose.saved') : ''}</span></header>
      <form class="compose-form" onSubmit=${this.send} onKeyDown=${this.onKey}>
        <div class="field"><label for="compose-from"><span>${t('compose.from')}</span></label>
          <select id="compose-from" value=${d.from} onChange=${(e) => this.set('from', e.currentTarget.value)}>
            ${froms.map((a) => html`<option value=${a} selected=${a === d.from}>${external.includes(a) ? t('compose.via_own_server', { address: a }) : a}</option>`)}</select></div>
        <${RecipientsInput} label=${t('compose.to')} value=${d.to} onChange=${(v) => this.set('to', v)} />
        ${showCc ? html`<${RecipientsInput} label=${t('compose.cc')} value=${d.cc} onChange=${(v) => this.set('cc', v)} />
          <${RecipientsInput} label=${t('compose.bcc')} value=${d.bcc} onChange=${(v) => this.set('bcc', v)} />`
          : html`<button type="button" class="quiet" onClick=${() => this.setState({ showCc: true })}>${t('compose.show_cc')}</button>`}
        <${SealStatus} addresses=${[...d.to, ...d.cc, ...d.bcc].map((a) => mailboxOf(a).address)} onResult=${this.onSeal} />
        ${this.sealed() ? html`<p class="hint">${t('seal.not_saved')}</p>` : null}
        <label class="field"><span>${t('compose.subject')}</span>
          <input value=${d.subject} onInput=${(e) => this.set('subject', e.currentTarget.value)} /></label>
        <label class="field"><span>${t('compose.body')}</span>
          <textarea rows="14" value=${d.body} onInput=${(e) => this.set('body', e.currentTarget.value)}></textarea></label>
        <div class="compose-attachments">
          ${d.attachments.length ? html`<ul>${d.attachments.map((a) => html`<li key=${a.id}>📎 ${a.filename} <span class="muted">${Math.ceil(a.size / 1024)} KB</span>
            <button type="button" class="quiet" aria-label=${t('compose.remove_attachment', { name: a.filename })} onClick=${() => this.detach(a)}>×</button></li>`)}</ul>` : null}
          <label class="file-pick"><span>${t('compose.attach')}</span> <input type="file" multiple onChange=${this.attach} /></label>
        </div>
        <${ErrorNote} error=${error} />
        <div class="actions">
          <button type="submit" disabled=${sending}>${sending ? t('send.sending') : t('compose.send')}</button>
          <button type="button" class="quiet" onClick=${this.discard}>${t('compose.discard')}</button>
          <span class="muted">${t('compose.send_hint')}</span>
        </div>
      </form>
    </section>`;
  }
}

export class DraftsScreen extends Component {
  state = { items: null, error: null };

  componentDidMount() {
    this.load();
  }

  load = async () => {
    try {
      this.setState({ items: (await api('GET', '/drafts')).items, error: null });
    } catch (error) {
      this.setState({ error });
    }
  };

  discard = async (id) => {
    await api('DELETE', `/drafts/${id}`).catch((error) => this.setState({ error }));
    this.load();
  };

  render() {
    const { items, error } = this.state;
    return html`<section class="drafts">
      <header class="screen-head"><h1>${t('drafts.title')}</h1><a class="button" href="#/compose">${t('compose.new')}</a></header>
      <${ErrorNote} error=${error} />
      ${items === null ? html`<p class="loading">${t('loading')}</p>`
        : !items.length ? html`<p class="empty">${t('drafts.empty')}</p>`
        : html`<ul class="timeline">${items.map((d) => html`<li class="discussion" key=${d.id}>
            <a class="summary" href=${`#/compose/${d.id}`}>
              <div class="line"><span class="who">${d.to.map(asText).join(', ') || t('drafts.no_recipient')}</span><time>${formatDate(d.updated_at)}</time></div>
              <div class="subject">${d.subject || t('mail.no_subject')}${d.attachment_count ? ' 📎' : ''}</div>
              <div class="excerpt">${d.excerpt}</div></a>
            <button type="button" class="quiet" onClick=${() => this.discard(d.id)}>${t('compose.discard')}</button></li>`)}</ul>`}
    </section>`;
  }
}
