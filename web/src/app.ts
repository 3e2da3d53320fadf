// The console's shell: the layout (skip link, top bar with language switch, navigation, main
// region), the route table, and rendering a page into <main> on every navigation.
//
// Pages are modules exporting `render(ctx)`, loaded on demand so that the sign-in page does not
// download the charts. After each navigation the page heading takes the focus, so keyboard and
// screen-reader users start at the new content, and the document title names the page.
import { h, replace } from './dom';
import { t, tEnum, setLocale, locale, onLocaleChange, type Locale } from './i18n';
import { ApiError, describe, onUnauthorized } from './api';
import { resolve, startRouter, navigate, currentPath, type RouteDef } from './router';
import { current, loadSession, signOut, saveLocale, forget, type Session } from './session';
import { PAGE_ORDER, type PageName } from './access';
import { notice, loading, orgLabel } from './ui/components';

export interface PageContext {
  params: Record<string, string>;
  session: Session;
  // Re-render the current page (after a change).
  refresh(): void;
}

type PageModule = { render(ctx: PageContext): Promise<HTMLElement> | HTMLElement };

interface Route extends RouteDef {
  page: PageName | null;  // the navigation entry it belongs to; null: sign-in / not found
  load: () => Promise<PageModule>;
}

export const ROUTES: Route[] = [
  { name: 'signin', pattern: '/signin', page: null, load: () => import('./pages/signin') },
  { name: 'overview', pattern: '/', page: 'overview', load: () => import('./pages/overview') },
  { name: 'alerts', pattern: '/alerts', page: 'alerts', load: () => import('./pages/alerts') },
  { name: 'alert', pattern: '/alerts/:id', page: 'alerts', load: () => import('./pages/alert') },
  { name: 'incidents', pattern: '/incidents', page: 'incidents', load: () => import('./pages/incidents') },
  { name: 'incident-new', pattern: '/incidents/new', page: 'incidents', load: () => import('./pages/incident_form') },
  { name: 'incident', pattern: '/incidents/:id', page: 'incidents', load: () => import('./pages/incident') },
  { name: 'cases', pattern: '/cases', page: 'cases', load: () => import('./pages/cases') },
  { name: 'case-new', pattern: '/cases/new', page: 'cases', load: () => import('./pages/case_form') },
  { name: 'case', pattern: '/cases/:id', page: 'cases', load: () => import('./pages/case') },
  { name: 'events', pattern: '/events', page: 'events', load: () => import('./pages/events') },
  { name: 'advisories', pattern: '/advisories', page: 'advisories', load: () => import('./pages/advisories') },
  { name: 'advisory-new', pattern: '/advisories/new', page: 'advisories', load: () => import('./pages/advisory_form') },
  { name: 'advisory', pattern: '/advisories/:id', page: 'advisories', load: () => import('./pages/advisory') },
  { name: 'requests', pattern: '/requests', page: 'requests', load: () => import('./pages/requests') },
  { name: 'request-new', pattern: '/requests/new', page: 'requests', load: () => import('./pages/request_form') },
  { name: 'request', pattern: '/requests/:id', page: 'requests', load: () => import('./pages/request') },
  { name: 'recommendations', pattern: '/recommendations', page: 'recommendations', load: () => import('./pages/recommendations') },
  { name: 'recommendation-new', pattern: '/recommendations/new', page: 'recommendations', load: () => import('./pages/recommendation_form') },
  { name: 'recommendation', pattern: '/recommendations/:id', page: 'recommendations', load: () => import('./pages/recommendation') },
  { name: 'audits', pattern: '/audits', page: 'audits', load: () => import('./pages/audits') },
  { name: 'audit-new', pattern: '/audits/new', page: 'audits', load: () => import('./pages/audit_form') },
  { name: 'audit-detail', pattern: '/audits/:id', page: 'audits', load: () => import('./pages/audit_detail') },
  { name: 'standards', pattern: '/standards', page: 'standards', load: () => import('./pages/standards') },
  { name: 'standard', pattern: '/standards/:id', page: 'standards', load: () => import('./pages/standard') },
  { name: 'organizations', pattern: '/organizations', page: 'organizations', load: () => import('./pages/organizations') },
  { name: 'users', pattern: '/users', page: 'users', load: () => import('./pages/users') },
  { name: 'sensors', pattern: '/sensors', page: 'sensors', load: () => import('./pages/sensors') },
  { name: 'intel', pattern: '/intel', page: 'intel', load: () => import('./pages/intel') },
  { name: 'rules', pattern: '/rules', page: 'rules', load: () => import('./pages/rules') },
  { name: 'audit', pattern: '/audit', page: 'audit', load: () => import('./pages/audit') },
  { name: 'settings', pattern: '/settings', page: 'settings', load: () => import('./pages/settings') },
];

export const NAV_PATHS: Record<PageName, string> = {
  overview: '/', alerts: '/alerts', incidents: '/incidents', cases: '/cases', events: '/events', advisories: '/advisories',
  requests: '/requests', recommendations: '/recommendations', audits: '/audits', standards: '/standards', organizations: '/organizations',
  users: '/users', sensors: '/sensors', intel: '/intel', rules: '/rules', audit: '/audit', settings: '/settings',
};

let root: HTMLElement;
let renderCount = 0;

export async function start(container: HTMLElement): Promise<void> {
  root = container;
  onUnauthorized(() => {
    forget();
    if (currentPath() !== '/signin') navigate(`/signin?expired=1&next=${encodeURIComponent(location.pathname + location.search)}`, true);
  });
  onLocaleChange(() => { void render(); });
  startRouter(() => { void render(); });
  const session = await loadSession();
  if (!session) {
    const stored = localStorage.getItem('yagura.locale');
    if (stored === 'ja' || stored === 'en') setLocale(stored);
    else if (navigator.language.startsWith('ja')) setLocale('ja');
  }
  document.documentElement.lang = locale();
  await render();
}

async function render(): Promise<void> {
  const run = ++renderCount;
  const path = currentPath();
  const session = current();
  if (!session && path !== '/signin') {
    navigate(`/signin${path !== '/' ? `?next=${encodeURIComponent(path + location.search)}` : ''}`, true);
    return;
  }
  if (session && path === '/signin') {
    navigate('/', true);
    return;
  }
  const match = resolve(ROUTES, path);
  const route = match ? ROUTES.find((r) => r.name === match.name) ?? null : null;
  const main = h('main', { id: 'main', tabindex: '-1' }, loading());
  if (!session) {
    replace(root, h('div', { class: 'signin-layout' }, languageSwitch(), main));
  } else {
    replace(root, shell(session, route?.page ?? null, main));
  }

  let content: HTMLElement;
  let title: string;
  if (!route || !match) {
    content = notFound();
    title = t('notfound.title');
  } else if (session && route.page && !session.access.pages.has(route.page)) {
    content = notFound();
    title = t('notfound.title');
  } else {
    try {
      const module = await route.load();
      content = await module.render({
        params: match.params,
        session: session as Session,
        refresh: () => { void render(); },
      });
      title = content.querySelector('h1')?.textContent ?? t('app.name');
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        content = notFound();
        title = t('notfound.title');
      } else if (error instanceof ApiError && error.status === 401) {
        return;
      } else {
        content = h('div', null, h('h1', { tabindex: '-1' }, t('error.page_title')), notice('error', describe(error)));
        title = t('error.page_title');
      }
    }
  }
  if (run !== renderCount) return;  // a newer navigation won
  replace(main, content);
  document.title = `${title} — ${t('app.name')}`;
  const heading = main.querySelector<HTMLElement>('h1');
  (heading ?? main).focus({ preventScroll: false });
}

function notFound(): HTMLElement {
  return h('div', { class: 'not-found' },
    h('h1', { tabindex: '-1' }, t('notfound.title')),
    h('p', null, t('notfound.body')),
    h('p', null, h('a', { href: '/' }, t('notfound.home'))));
}

function languageSwitch(): HTMLElement {
  const make = (loc: Locale, label: string) => h('button', {
    type: 'button', class: 'lang-btn', lang: loc, 'aria-pressed': String(locale() === loc),
    onclick: async () => {
      if (locale() === loc) return;
      localStorage.setItem('yagura.locale', loc);
      try {
        await saveLocale(loc);
      } catch (error) {
        alertError(error);
      }
    },
  }, label);
  return h('div', { class: 'lang-switch', role: 'group', 'aria-label': t('lang.label') },
    make('en', 'English'), make('ja', '日本語'));
}

function alertError(error: unknown): void {
  const main = document.getElementById('main');
  main?.prepend(notice('error', describe(error)));
}

function shell(session: Session, active: PageName | null, main: HTMLElement): HTMLElement {
  const { me, access } = session;
  const nav = h('nav', { class: 'sidenav', 'aria-label': t('nav.label') },
    h('ul', null, ...PAGE_ORDER.filter((p) => access.pages.has(p)).map((page) =>
      h('li', null, h('a', {
        href: NAV_PATHS[page],
        'aria-current': page === active ? 'page' : null,
        'data-page': page,
      }, t(`nav.${page}`))))));
  const signOutButton = h('button', {
    type: 'button', class: 'btn btn-quiet',
    onclick: async () => {
      try {
        await signOut();
      } finally {
        navigate('/signin', true);
      }
    },
  }, t('auth.sign_out'));
  const header = h('header', { class: 'topbar' },
    h('a', { href: '/', class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '櫓'), t('app.name')),
    h('div', { class: 'whoami' },
      h('span', { class: 'user-name' }, me.user.display_name || me.user.username),
      h('span', { class: 'user-org' }, orgLabel(me.organization)),
      h('span', { class: 'user-roles' }, me.roles.map((r) => tEnum('role', r)).join(', '))),
    languageSwitch(),
    signOutButton);
  return h('div', { class: 'app' },
    h('a', {
      class: 'skip-link', href: '#main',
      // Browsers differ in whether following a fragment moves the focus; this one always does.
      onclick: (event: Event) => { event.preventDefault(); main.focus(); main.scrollIntoView(); },
    }, t('nav.skip')),
    header,
    h('div', { class: 'layout' }, nav, main));
}
