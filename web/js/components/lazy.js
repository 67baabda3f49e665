// A screen whose code loads the first time it is shown (import()), so that the first page load
// carries what the timeline needs and nothing more; later visits render at once.
import { html, Component } from '../html.js';
import { t } from '../i18n.js';
import { ErrorNote } from './field.js';

/** lazy(() => import('./screens/x.js'), 'XScreen'): a component standing for XScreen. */
export function lazy(load, name) {
  let Screen = null;
  let pending = null;
  return class LazyScreen extends Component {
    state = { error: null };

    componentDidMount() {
      if (Screen) return;
      pending ??= load().then((module) => {
        Screen = module[name];
      });
      pending.then(() => this.forceUpdate(), () => {
        pending = null; // the next visit tries again
        this.setState({ error: { code: 'network', message: '' } });
      });
    }

    render(props) {
      if (Screen) return html`<${Screen} ...${props} />`;
      return this.state.error ? html`<${ErrorNote} error=${this.state.error} />` : html`<p class="loading">${t('loading')}</p>`;
    }
  };
}
