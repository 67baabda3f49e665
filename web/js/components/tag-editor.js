// The tags of a message or of a whole discussion: each a clickable chip (opens its results tab)
// with a × to remove it, and a field to add one, suggesting the user's other tags. The owner does
// the change: onChange({ add: [name] }) or onChange({ remove: [name] }).
import { html, Component } from '../html.js';
import { TagChip } from '../screens/search.js';

let nextId = 0;

export class TagEditor extends Component {
  listId = `tag-list-${++nextId}`;
  state = { text: '' };

  add = (e) => {
    e.preventDefault();
    const name = this.state.text.trim();
    if (!name) return;
    this.setState({ text: '' });
    this.props.onChange({ add: [name] });
  };

  /** names: the tags it has; known: the user's tags [{name, color}]; addLabel, removeLabel(name): what a screen reader says */
  render({ names, known = [], disabled = false, addLabel, removeLabel, onChange }) {
    const colour = new Map(known.map((x) => [x.name, x.color]));
    return html`<span class="tag-editor">
      <span class="tags">${names.map((name) => html`<span class="tag" key=${name}><${TagChip} tag=${{ name, color: colour.get(name) }} />
        <button type="button" class="tag-remove" aria-label=${removeLabel(name)} disabled=${disabled} onClick=${() => onChange({ remove: [name] })}>×</button></span>`)}</span>
      <form class="tag-add" onSubmit=${this.add}>
        <input list=${this.listId} value=${this.state.text} placeholder=${addLabel} aria-label=${addLabel} onInput=${(e) => this.setState({ text: e.currentTarget.value })} />
        <datalist id=${this.listId}>${known.filter((x) => !names.includes(x.name)).map((x) => html`<option value=${x.name} />`)}</datalist>
      </form>
    </span>`;
  }
}
