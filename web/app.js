// Boot: the browser's language until the user's is known, then the shell. Modules are loaded by
// relative URL (no bundler: what is in web/ is what runs; CSP script-src 'self').
import { html, render } from './js/html.js';
import { browserLang, setLanguage } from './js/i18n.js';
import { App } from './js/shell.js';

// The catalogue loads while the shell asks who is logged in (GET /me): both at once, not in turn.
render(html`<${App} languageReady=${setLanguage(browserLang())} />`, document.getElementById('app'));
