// The workbench's shell: the session, the navigation and a small router over the History API.
// Internal links carry `data-nav`; following one pushes the URL and renders the page, so every
// view has a URL of its own and the back button works.

import { can, loadSession, session, signOut, whenSignedOut, message } from './api';
import { h, replace } from './dom';
import { signInPage } from './pages/signin';
import { ticketsPage } from './pages/tickets';
import { findingsPage } from './pages/findings';
import { findingPage } from './pages/finding';
import { integrationsPage, integrationPage } from './pages/integrations';
import { tokensPage } from './pages/tokens';

export interface PageContext {
  main: HTMLElement;
  url: URL;
  /** Set when a newer navigation replaced this page: async work must stop drawing. */
  stale: () => boolean;
}

type Page = (ctx: PageContext) => Promise<void> | void;

interface Route {
  pattern: RegExp;
  title: string;
  page: (m: RegExpMatchArray) => Page;
}

const ROUTES: Route[] = [
  { pattern: /^\/sign-in$/, title: 'Sign in', page: () => signInPage },
  { pattern: /^\/(tickets)?$/, title: 'Tickets', page: () => ticketsPage },
  { pattern: /^\/findings$/, title: 'Findings', page: () => findingsPage },
  { pattern: /^\/findings\/([^/]+)$/, title: 'Finding', page: (m) => (ctx) => findingPage(ctx, decodeURIComponent(m[1] ?? '')) },
  { pattern: /^\/integrations$/, title: 'Integrations', page: () => integrationsPage },
  { pattern: /^\/integrations\/([^/]+)$/, title: 'Integration', page: (m) => (ctx) => integrationPage(ctx, decodeURIComponent(m[1] ?? '')) },
  { pattern: /^\/tokens$/, title: 'API tokens', page: () => tokensPage },
];

let generation = 0;
/** The path and query last drawn: a popstate that only changes the #fragment (the skip link) keeps the page. */
let drawn = '';
const app = document.getElementById('app') as HTMLElement;

export function navigate(href: string, replaceState = false): void {
  if (replaceState) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  void render();
}

function header(): HTMLElement {
  const s = session();
  const path = location.pathname;
  const link = (href: string, label: string) =>
    h('a', { href, 'data-nav': true, 'aria-current': path.startsWith(href) ? 'page' : null }, label);
  return h(
    'header',
    { class: 'top' },
    h('a', { class: 'brand', href: '/tickets', 'data-nav': true }, 'Lockstep'),
    s &&
      h(
        'nav',
        { 'aria-label': 'Main' },
        link('/tickets', 'Tickets'),
        link('/findings', 'Findings'),
        link('/integrations', 'Integrations'),
        // Admins only: the server refuses the others anyway.
        can('admin') && link('/tokens', 'API tokens'),
      ),
    s &&
      h(
        'div',
        { class: 'who' },
        h('span', { 'data-testid': 'who' }, `${s.name} · ${s.role}`),
        h('button', { type: 'button', class: 'link', onclick: () => void doSignOut() }, 'Sign out'),
      ),
  );
}

async function doSignOut(): Promise<void> {
  try {
    await signOut();
  } catch (e) {
    console.warn(message(e));
  }
  navigate('/sign-in');
}

async function render(initial = false): Promise<void> {
  generation += 1;
  const mine = generation;
  const url = new URL(location.href);
  drawn = url.pathname + url.search;
  if (!session() && url.pathname !== '/sign-in') {
    const next = url.pathname + url.search;
    history.replaceState(null, '', `/sign-in?next=${encodeURIComponent(next)}`);
    return render(initial);
  }
  const route = ROUTES.find((r) => r.pattern.test(url.pathname));
  const main = h('main', { id: 'main', tabindex: '-1' });
  replace(app, header(), main);
  if (!route) {
    document.title = 'Not found · Lockstep';
    replace(main, h('h1', {}, 'Not found'), h('p', {}, 'No page here. ', h('a', { href: '/tickets', 'data-nav': true }, 'Open the tickets.')));
    return;
  }
  document.title = `${route.title} · Lockstep`;
  const m = url.pathname.match(route.pattern) as RegExpMatchArray;
  try {
    await route.page(m)({ main, url, stale: () => mine !== generation });
  } catch (e) {
    if (mine === generation) replace(main, h('h1', {}, route.title), h('p', { class: 'error', role: 'alert' }, message(e)));
  }
  // After a navigation inside the app, move focus to the page's heading so keyboard and
  // screen-reader users start at the new content (a fresh load starts at the skip link).
  if (!initial && mine === generation && document.activeElement === document.body) {
    const h1 = main.querySelector('h1');
    if (h1) {
      h1.setAttribute('tabindex', '-1');
      h1.focus({ preventScroll: true });
    }
  }
}

document.addEventListener('click', (ev) => {
  const a = (ev.target as Element | null)?.closest?.('a[data-nav]') as HTMLAnchorElement | null;
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  ev.preventDefault();
  navigate(a.getAttribute('href') ?? '/');
});
window.addEventListener('popstate', () => {
  if (location.pathname + location.search !== drawn) void render();
});
whenSignedOut(() => {
  if (location.pathname !== '/sign-in') navigate('/sign-in', true);
});

export { can };

void (async () => {
  try {
    await loadSession();
  } catch (e) {
    replace(app, h('main', { id: 'main' }, h('h1', {}, 'Lockstep'), h('p', { class: 'error', role: 'alert' }, message(e))));
    return;
  }
  await render(true);
})();
