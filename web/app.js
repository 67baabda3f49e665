// Boot. Who is logged in (and the timeline's first page, the usual first screen) is asked for at
// once, while the rest of the app's modules load (index.html preloads them); then the language
// of the browser until the user's is known, and the shell. Modules are loaded by relative URL (no
// bundler: what is in web/ is what runs; CSP script-src 'self').
import { prefetch } from './js/api.js';

const timeline = /^#?\/?(?:timeline)?$/.test(location.hash);
prefetch('/me').then((loggedIn) => loggedIn && timeline && prefetch('/discussions?limit=50'));

const [{ html, render }, { browserLang, setLanguage }, { App }] = await Promise.all([import('./js/html.js'), import('./js/i18n.js'), import('./js/shell.js')]);
// The catalogue loads while the shell asks who is logged in (GET /me): both at once, not in turn.
render(html`<${App} languageReady=${setLanguage(browserLang())} />`, document.getElementById('app'));
