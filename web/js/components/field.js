// Form pieces shared by the screens: a labelled input, a labelled select, an error line.
import { html, Component } from '../html.js';
import { errorText } from '../i18n.js';

export function Field({ label, name, type = 'text', value, onInput, autocomplete = 'off', required = true, placeholder }) {
  return html`<label class="field"><span>${label}</span>
    <input name=${name} type=${type} value=${value ?? ''} autocomplete=${autocomplete} required=${required} placeholder=${placeholder}
      onInput=${(e) => onInput(name, e.currentTarget.value)} /></label>`;
}

let nextId = 0;

/**
 * options: [[value, label], …]. The label points at the select by id instead of wrapping it: a
 * wrapping label's text would include every option's, and so would the select's accessible name.
 */
export class SelectField extends Component {
  id = `select-${++nextId}`;

  render({ label, name, value, options, onInput }) {
    return html`<div class="field"><label for=${this.id}><span>${label}</span></label>
      <select id=${this.id} name=${name} value=${value} onChange=${(e) => onInput(name, e.currentTarget.value)}>
        ${options.map(([v, l]) => html`<option value=${v} selected=${v === value}>${l}</option>`)}
      </select></div>`;
  }
}

export function ErrorNote({ error }) {
  return error ? html`<p class="error" role="alert">${errorText(error)}</p>` : null;
}
