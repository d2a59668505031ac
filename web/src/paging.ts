// Cursor paging in the URL: `cursor` names the page (empty: the first). Next comes from the server;
// Previous from a client-side stack: when the user goes from page A to page B we remember "B came
// after A" in sessionStorage, keyed by the filters, so Previous works after a reload and the back
// button simply walks the history. A shared URL opened elsewhere has no stack: Previous then
// leads to the first page.

import { h } from './dom';
import { navigate } from './main';

const KEY = 'lockstep.cursors';

function load(): Record<string, string> {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as Record<string, string>;
  } catch {
    return {};
  }
}

/** The filters of a URL without its cursor, as a stable key. */
export function filterKey(url: URL): string {
  const p = new URLSearchParams(url.search);
  p.delete('cursor');
  p.delete('page');
  p.sort();
  return `${url.pathname}?${p.toString()}`;
}

function remember(url: URL, next: string, current: string): void {
  const map = load();
  map[`${filterKey(url)}#${next}`] = current;
  sessionStorage.setItem(KEY, JSON.stringify(map));
}

function previousOf(url: URL, current: string): string {
  return load()[`${filterKey(url)}#${current}`] ?? '';
}

function withCursor(url: URL, cursor: string, page: number): string {
  const u = new URL(url.href);
  if (cursor) u.searchParams.set('cursor', cursor);
  else u.searchParams.delete('cursor');
  if (page > 1) u.searchParams.set('page', String(page));
  else u.searchParams.delete('page');
  return u.pathname + u.search;
}

/** Previous / page n / Next controls for the page at `url`. */
export function pager(url: URL, nextCursor: string, rows: number, noun: string): HTMLElement {
  const current = url.searchParams.get('cursor') ?? '';
  const page = Math.max(1, Number(url.searchParams.get('page') ?? '1') || 1);
  const prev = h(
    'button',
    {
      type: 'button',
      disabled: !current,
      onclick: () => navigate(withCursor(url, previousOf(url, current), previousOf(url, current) ? page - 1 : 1)),
    },
    '← Previous',
  );
  const next = h(
    'button',
    {
      type: 'button',
      disabled: !nextCursor,
      onclick: () => {
        remember(url, nextCursor, current);
        navigate(withCursor(url, nextCursor, page + 1));
      },
    },
    'Next →',
  );
  return h(
    'nav',
    { class: 'pager', 'aria-label': `${noun} pages` },
    prev,
    h('span', { 'data-testid': 'page-number' }, `Page ${page} · ${rows} ${noun}`),
    next,
  );
}
