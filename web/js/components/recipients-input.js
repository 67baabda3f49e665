// A recipients field (to, cc, bcc): addresses as removable chips, typed in an input that suggests
// contacts (GET /contacts?q=) and past participants; Enter, comma, semicolon or leaving the field
// turns the text into a chip. The value is a list of "Name <a@b>" / "a@b" strings, as the API takes.
import { html, Component } from '../html.js';
import { api } from '../api.js';

let nextId = 0;
let participants = null;

/** Addresses seen in the first page of the timeline, once per page load: the fallback suggestions. */
async function pastParticipants() {
  participants ??= api('GET', '/discussions?limit=100')
    .then((p) => [...new Map(p.items.flatMap((d) => d.participants).map((a) => [a.address, a.name ? `${a.name} <${a.address}>` : a.address])).values()])
    .catch(() => []);
  return participants;
}

export function splitAddresses(text) {
  // commas inside a quoted display name do not separate addresses
  return (text.match(/(?:"[^"]*"|[^,;])+/g) ?? []).map((s) => s.trim()).filter(Boolean);
}

export class RecipientsInput extends Component {
  id = `rcpt-${++nextId}`;
  state = { text: '', options: [] };

  componentDidMount() {
    pastParticipants().then((options) => this.setState({ options }));
  }

  commit() {
    const add = splitAddresses(this.state.text);
    if (!add.length) return;
    this.setState({ text: '' });
    this.props.onChange([...this.props.value, ...add.filter((a) => !this.props.value.includes(a))]);
  }

  onInput = async (e) => {
    const text = e.currentTarget.value;
    if (/[,;]$/.test(text)) {
      this.setState({ text }, () => this.commit());
      return;
    }
    this.setState({ text });
    const q = text.trim();
    if (q.length < 2) return;
    try {
      const r = await api('GET', `/contacts?limit=10&q=${encodeURIComponent(q)}`);
      const found = r.items.flatMap((c) => (c.emails ?? []).map((m) => {
        const address = typeof m === 'string' ? m : m.address;
        return c.name ? `${c.name} <${address}>` : address;
      }));
      if (this.state.text === text) this.setState({ options: [...new Set([...found, ...(await pastParticipants())])] });
    } catch {
      /* no contacts API on this box: past participants only */
    }
  };

  onKey = (e) => {
    if (e.key === 'Enter' && this.state.text.trim()) {
      e.preventDefault();
      this.commit();
    } else if (e.key === 'Backspace' && !this.state.text && this.props.value.length) {
      this.props.onChange(this.props.value.slice(0, -1));
    }
  };

  render({ label, value, onChange }) {
    const { text, options } = this.state;
    return html`<div class="field recipients"><label for=${this.id}><span>${label}</span></label>
      <div class="chips">
        ${value.map((a) => html`<span class="chip" key=${a}>${a}
          <button type="button" aria-label=${`× ${a}`} onClick=${() => onChange(value.filter((x) => x !== a))}>×</button></span>`)}
        <input id=${this.id} list=${`${this.id}-list`} value=${text} autocomplete="off"
          onInput=${this.onInput} onKeyDown=${this.onKey} onBlur=${() => this.commit()} />
        <datalist id=${`${this.id}-list`}>${options.filter((o) => !value.includes(o)).slice(0, 50).map((o) => html`<option value=${o} />`)}</datalist>
      </div></div>`;
  }
}
