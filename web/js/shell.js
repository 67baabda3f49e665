// The application shell: which phase the browser is in (first run, login, naming this device,
// logged in) and, once in, which screen the hash route shows inside the layout. It owns the
// session's state (user, account PI, settings), the language and time zone that follow the user's
// settings, the keyboard shortcuts (`/` search, `c` compose), and the return to the login screen
// when the API says the session ended (logged out elsewhere, this device removed).
import { html, Component } from './html.js';
import { t, setLanguage, setTimeZone, currentLang } from './i18n.js';
import { api, setCsrf, onSessionEnd } from './api.js';
import { currentRoute, navigate, onRouteChange } from './router.js';
import { setPrefs, prefs, notifyNewMail } from './prefs.js';
import { subscribe } from './live.js';
import { Layout } from './components/layout.js';
import { SetupScreen } from './screens/setup.js';
import { LoginScreen } from './screens/login.js';
import { DeviceNameScreen } from './screens/device-name.js';
import { TimelineScreen } from './screens/timeline.js';
import { SoonScreen } from './screens/soon.js';
import { SearchScreen } from './screens/search.js';
import { lazy } from './components/lazy.js';

// Loaded when first shown: the first page load carries the timeline (and search, whose tag chips it uses).
const DevicesScreen = lazy(() => import('./screens/devices.js'), 'DevicesScreen');
const AccountsScreen = lazy(() => import('./screens/accounts.js'), 'AccountsScreen');
const HelpScreen = lazy(() => import('./screens/help.js'), 'HelpScreen');
const ContactsScreen = lazy(() => import('./screens/contacts.js'), 'ContactsScreen');
const ContactScreen = lazy(() => import('./screens/contact.js'), 'ContactScreen');
const DiscussionScreen = lazy(() => import('./screens/discussion.js'), 'DiscussionScreen');
const SettingsScreen = lazy(() => import('./screens/settings.js'), 'SettingsScreen');
const TagsScreen = lazy(() => import('./screens/tags.js'), 'TagsScreen');
const KeysScreen = lazy(() => import('./screens/keys.js'), 'KeysScreen');
const ComposeScreen = lazy(() => import('./screens/compose.js'), 'ComposeScreen');
const DraftsScreen = lazy(() => import('./screens/compose.js'), 'DraftsScreen');

function typingInto(el) {
  return !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

export class App extends Component {
  state = { phase: 'loading', user: null, pi: null, settings: null, route: currentRoute(), notice: null, error: null };

  componentDidMount() {
    this.offRoute = onRouteChange((route) => this.setState({ route }));
    onSessionEnd(() => this.toLogin(t('error.unauthorized')));
    document.addEventListener('keydown', this.onKey);
    this.start();
  }

  componentWillUnmount() {
    this.offRoute();
    document.removeEventListener('keydown', this.onKey);
  }

  async start() {
    const [me] = await Promise.allSettled([api('GET', '/me'), this.props.languageReady]);
    if (me.status === 'fulfilled') {
      setCsrf(me.value.csrfToken);
      return this.enter(me.value).catch((error) => this.setState({ phase: 'login', notice: null, error }));
    }
    if (me.reason.status !== 401) return this.setState({ phase: 'login', notice: null, error: me.reason });
    const { needed } = await api('GET', '/setup').catch(() => ({ needed: false }));
    this.setState({ phase: needed ? 'setup' : 'login' });
  }

  /** A session is open (me = GET /me): the user's language and zone, then this device or its naming. */
  async enter(me) {
    await this.applyUser(me.user);
    this.setState({ phase: me.device ? 'in' : 'device', user: me.user, pi: me.pi ?? null, settings: me.user.settings ?? null, notice: null });
  }

  async applyUser(user) {
    setTimeZone(user.timezone);
    setPrefs(user.settings);
    this.watchNewMail();
    await setLanguage(user.lang);
  }

  /** Desktop notifications of new mail follow the preference (and the browser's permission). */
  watchNewMail() {
    const wanted = prefs().notifications;
    if (wanted && !this.offNewMail) {
      this.offNewMail = subscribe('message', (m) => {
        if (m.is_spam || m.tags?.includes('SENT')) return;
        notifyNewMail(t('notify.new_mail', { from: m.from?.name || m.from?.address || '?' }), m.subject || t('mail.no_subject'));
      });
    } else if (!wanted && this.offNewMail) {
      this.offNewMail();
      this.offNewMail = null;
    }
  }

  /** After login or setup: straight in when the server recognised this device. */
  onAuthenticated = async (res) => {
    setCsrf(res.csrfToken);
    await this.applyUser(res.user);
    if (res.needsDevice === false) return this.refreshMe('in');
    this.setState({ phase: 'device', user: res.user });
  };

  onDeviceNamed = () => this.refreshMe('in');

  /** The settings screen changed the user (PATCH /me): its language and zone apply at once. */
  onUser = async (user) => {
    await this.applyUser(user);
    this.setState({ user, settings: user.settings ?? null });
  };

  /** While logged in: the server says at once when this session was ended from another device. */
  watchSession(on) {
    if (on && !this.offEnded) {
      this.offEnded = subscribe('ended', () => {
        // a removed device forgets the key it was told to remember (crypto/vault.js)
        import('./crypto/vault.js').then((vault) => vault.forget()).catch(() => {});
        this.toLogin(t('error.unauthorized'));
      });
    }
    if (!on && this.offEnded) {
      this.offEnded();
      this.offEnded = null;
    }
  }

  componentDidUpdate() {
    this.watchSession(this.state.phase === 'in');
  }

  async refreshMe(phase) {
    const me = await api('GET', '/me');
    await this.applyUser(me.user);
    this.setState({ phase, user: me.user, pi: me.pi ?? null, settings: me.user.settings ?? null, notice: null });
    if (phase === 'in' && !location.hash) navigate('/timeline');
  }

  toLogin(notice = null) {
    setCsrf(null);
    import('./crypto/keyring.js').then((keyring) => keyring.clear()).catch(() => {});
    setPrefs(null);
    this.watchNewMail();
    this.setState({ phase: 'login', user: null, pi: null, settings: null, notice });
  }

  logout = async () => {
    await api('POST', '/auth/logout').catch(() => {});
    this.toLogin();
  };

  onKey = (e) => {
    if (this.state.phase !== 'in' || this.state.settings?.keyboard_shortcuts === false) return;
    if (e.ctrlKey || e.metaKey || e.altKey || typingInto(e.target)) return;
    if (e.key === '/') {
      e.preventDefault();
      document.getElementById('search')?.focus();
    } else if (e.key === 'c') {
      navigate('/compose');
    }
  };

  renderScreen(route) {
    switch (route.name) {
      case 'timeline': return html`<${TimelineScreen} />`;
      case 'discussion': return html`<${DiscussionScreen} key=${route.id} id=${route.id} reply=${route.query.get('reply') === '1'} />`;
      case 'compose': return html`<${ComposeScreen} key=${route.id ?? 'new'} draftId=${route.id} />`;
      case 'drafts': return html`<${DraftsScreen} />`;
      case 'accounts': return html`<${AccountsScreen} />`;
      case 'keys': return html`<${KeysScreen} />`;
      case 'devices': return html`<${DevicesScreen} onRemovedCurrent=${() => this.toLogin(t('devices.removed_current'))} />`;
      case 'help': return html`<${HelpScreen} key=${currentLang()} signal=${route.id} />`;
      case 'settings': return html`<${SettingsScreen} user=${this.state.user} pi=${this.state.pi} onUser=${this.onUser} />`;
      case 'tags': return html`<${TagsScreen} />`;
      case 'search': return html`<${SearchScreen} q=${route.query.get('q') ?? ''} />`;
      case 'contacts': return html`<${ContactsScreen} />`;
      case 'contact': return html`<${ContactScreen} id=${route.id} />`;
      default: return html`<${SoonScreen} key=${route.name} />`;
    }
  }

  render() {
    const { phase, user, pi, route, notice, error } = this.state;
    switch (phase) {
      case 'setup': return html`<div class="gate"><${SetupScreen} onDone=${this.onAuthenticated} /></div>`;
      case 'login': return html`<div class="gate"><${LoginScreen} notice=${notice} error=${error} onDone=${this.onAuthenticated} /></div>`;
      case 'device': return html`<div class="gate"><${DeviceNameScreen} onDone=${this.onDeviceNamed} /></div>`;
      case 'in': return html`<${Layout} user=${user} pi=${pi} route=${route} onLogout=${this.logout}>${this.renderScreen(route)}<//>`;
      default: return html`<p class="loading">${t('loading')}</p>`;
    }
  }
}
