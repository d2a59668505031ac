// Tickets: every linked finding across the integrations, 200 rows a page. Every filter and the page
// live in the URL (a GET form), so a view is bookmarked or shared by its address.

import { ApiError, allIntegrations, can, get, message, post, query, type Integration, type LinkedTicket, type ResyncResult, type TicketResync } from '../api';
import { ago, duration, field, h, replace, select, severityBadge, time } from '../dom';
import { navigate, type PageContext } from '../main';
import { pager } from '../paging';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];
export const STATUSES = ['open', 'in_progress', 're_test', 'closed', 'risk_accepted', 'false_positive'];
const FILTERS = ['integration', 'vendor', 'severity', 'finding_status', 'vendor_state', 'q', 'sla_breached', 'sync_error'];
const PAGE_SIZE = '200';

export async function ticketsPage({ main, url, stale }: PageContext): Promise<void> {
  const params: Record<string, string[]> = {};
  for (const k of FILTERS) params[k] = url.searchParams.getAll(k);
  const banner = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite', 'data-testid': 'banner' });
  const results = h('section', { 'aria-labelledby': 'results-title' }, h('p', {}, 'Loading…'));
  const integrations = await allIntegrations().catch(() => [] as Integration[]);
  if (stale()) return;
  replace(main, 
    h('h1', {}, 'Tickets'),
    filterForm(url, params, integrations),
    banner,
    results,
  );
  const q = query({ ...params, page_size: PAGE_SIZE, cursor: url.searchParams.get('cursor') ?? '' });
  // Loads (and after a re-sync reloads) the rows; the banner above stays as it is.
  const load = async (): Promise<void> => {
    let page: { rows: LinkedTicket[]; next_cursor: string };
    try {
      page = await get(`/v1/tickets${q}`);
    } catch (e) {
      if (!stale()) replace(results, h('p', { class: 'error', role: 'alert' }, message(e)));
      return;
    }
    if (stale()) return;
    const ids = [...new Set(page.rows.map((r) => r.integration_id))];
    replace(
      results,
      h(
        'div',
        { class: 'toolbar' },
        h('h2', { id: 'results-title' }, 'Linked tickets'),
        h('button', { type: 'button', onclick: () => void load() }, 'Refresh'),
        h('a', { class: 'button', href: `/v1/tickets.csv${query(params)}`, download: 'tickets.csv' }, 'Export CSV'),
        can('analyst') && resyncAll(ids, banner, load),
      ),
      page.rows.length ? table(page.rows, banner, load) : h('p', { class: 'empty' }, 'No linked tickets match these filters.'),
      pager(url, page.next_cursor, page.rows.length, 'tickets'),
    );
  };
  await load();
}

function filterForm(url: URL, params: Record<string, string[]>, integrations: Integration[]): HTMLElement {
  const one = (k: string) => params[k]?.[0] ?? '';
  const sevs = h(
    'fieldset',
    { class: 'checks' },
    h('legend', {}, 'Severity'),
    SEVERITIES.map((s) =>
      h('label', {}, h('input', { type: 'checkbox', name: 'severity', value: s, checked: params.severity?.includes(s) }), s),
    ),
  );
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter tickets', method: 'get', action: '/tickets' },
    field('Search', h('input', { type: 'search', name: 'q', value: one('q'), placeholder: 'title, asset, CVE, ticket key' })),
    sevs,
    field('Integration', select('integration', [['', 'Any'], ...integrations.map((i): [string, string] => [i.id, i.name])], one('integration'))),
    field('Vendor', select('vendor', [['', 'Any'], ['servicenow', 'ServiceNow'], ['jira', 'Jira'], ['manageengine', 'ServiceDesk Plus']], one('vendor'))),
    field('Finding status', select('finding_status', [['', 'Any'], ...STATUSES.map((s): [string, string] => [s, s.replace('_', ' ')])], one('finding_status'))),
    field('Vendor state', h('input', { type: 'text', name: 'vendor_state', value: one('vendor_state'), size: 6, placeholder: 'e.g. 2' })),
    field('SLA', select('sla_breached', [['', 'Any'], ['true', 'Breached'], ['false', 'Not breached']], one('sla_breached'))),
    h('label', { class: 'inline' }, h('input', { type: 'checkbox', name: 'sync_error', value: 'true', checked: one('sync_error') === 'true' }), 'Sync error'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply filters'), h('a', { href: '/tickets', 'data-nav': true }, 'Clear')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (typeof v === 'string' && v !== '') q.append(k, v);
    const s = q.toString();
    navigate(`${url.pathname}${s ? `?${s}` : ''}`);
  });
  return form;
}

function table(rows: LinkedTicket[], banner: HTMLElement, reload: () => Promise<void>): HTMLElement {
  const analyst = can('analyst');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid', 'data-testid': 'tickets' },
      h('caption', { class: 'sr-only' }, 'Linked tickets, newest link first'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Severity', 'Finding', 'Ticket', 'Vendor state', 'Status', 'SLA due', 'Last sync', analyst ? 'Actions' : null]
            .filter((c) => c !== null)
            .map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h('tbody', {}, rows.map((r) => row(r, analyst, banner, reload))),
    ),
  );
}

function row(r: LinkedTicket, analyst: boolean, banner: HTMLElement, reload: () => Promise<void>): HTMLElement {
  const sla = r.sla_due_at
    ? h(
        'div',
        {},
        time(r.sla_due_at),
        r.overdue_secs > 0 || r.sla_breached
          ? h('div', { class: 'overdue' }, r.overdue_secs > 0 ? `overdue ${duration(r.overdue_secs)}` : 'breached')
          : null,
      )
    : '—';
  const sync = h(
    'div',
    {},
    r.last_synced_at ? h('span', { title: r.last_synced_at }, ago(r.last_synced_at)) : 'never',
    r.last_sync_channel ? h('span', { class: 'muted' }, ` via ${r.last_sync_channel}`) : null,
    r.sync_error ? h('div', { class: 'error small', title: r.sync_error }, `sync error: ${r.sync_error}`) : null,
  );
  const ticket = h(
    'div',
    {},
    r.deep_link
      ? h('a', { href: r.deep_link, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'deep-link' }, r.ticket_key || r.external_id)
      : r.ticket_key || 'pending',
    h('div', { class: 'muted small nowrap' }, `${r.integration_name} · ${r.table_or_project}`),
  );
  const tr = h(
    'tr',
    { 'data-link': r.link_id },
    h('td', {}, severityBadge(r.severity)),
    h(
      'td',
      { class: 'title' },
      h('a', { href: r.finding_link || `/findings/${r.finding_id}`, 'data-nav': true }, r.finding_title),
      h('div', { class: 'muted small' }, [r.scanner_key, r.asset].filter(Boolean).join(' · ')),
    ),
    h('td', {}, ticket),
    h('td', { 'data-testid': 'vendor-state' }, r.vendor_state || '—'),
    h('td', { class: 'nowrap' }, r.finding_status.replace('_', ' ')),
    h('td', {}, sla),
    h('td', {}, sync),
  );
  if (analyst) {
    const button = h('button', { type: 'button', class: 'small', 'aria-label': `Re-sync ${r.ticket_key || r.finding_title}` }, 'Re-sync');
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const out = await post<TicketResync>(`/v1/tickets/${encodeURIComponent(r.link_id)}/resync`);
        showTicketResult(banner, out);
        await reload();
      } catch (e) {
        showError(banner, e);
        button.disabled = false;
      }
    });
    tr.appendChild(h('td', {}, button));
  }
  return tr;
}

function showResult(banner: HTMLElement, results: ResyncResult[], changed: number): void {
  const failed = results.filter((r) => !r.ok);
  banner.className = failed.length ? 'banner error' : 'banner ok';
  replace(
    banner,
    `Re-sync done: ${changed} ticket${changed === 1 ? '' : 's'} changed.`,
    // The poller publishes what changed; the applier commits it a moment later.
    changed > 0 ? ' Changes are applied within seconds: Refresh if a row still shows the old state.' : '',
    failed.map((f) => h('div', {}, `Integration ${f.integration_id} failed: ${f.error}`)),
  );
}

// The row's re-sync reads that one ticket; when it changed, the server answers once the change
// is applied (outcome "applied"), so the reload that follows shows it.
function showTicketResult(banner: HTMLElement, out: TicketResync): void {
  const changed = out.outcome === 'current' ? 0 : 1;
  const state = out.vendor_state_label ? `${out.vendor_state_label} (${out.vendor_state})` : out.vendor_state;
  const status = out.finding_status.replace('_', ' ');
  banner.className = 'banner ok';
  replace(
    banner,
    `Re-sync done: ${changed} ticket${changed === 1 ? '' : 's'} changed. `,
    out.outcome === 'current'
      ? `${out.ticket_key} is already current: vendor state ${state}, finding ${status}.`
      : out.outcome === 'applied'
        ? `${out.ticket_key} now shows vendor state ${state}; the finding is ${status}.`
        : `${out.ticket_key} reads vendor state ${state}; the change is applied within seconds: Refresh if the row still shows the old state.`,
  );
}

function showError(banner: HTMLElement, e: unknown): void {
  banner.className = 'banner error';
  replace(banner, `Re-sync failed: ${message(e)}`);
}

// The server allows re-sync all once a minute per caller; when it refuses, it says how long to
// wait. The wait is shown as a live countdown beside the button, and kept across reloads.
const COOLDOWN_KEY = 'lockstep.resyncAllUntil';

function resyncAll(ids: string[], banner: HTMLElement, refresh: () => Promise<void>): HTMLElement {
  const button = h('button', { type: 'button' }, `Re-sync all (${ids.length} integration${ids.length === 1 ? '' : 's'} on this page)`);
  const countdown = h('span', { class: 'countdown', 'data-testid': 'countdown', 'aria-live': 'polite' });
  const wrap = h('span', { class: 'resync-all' }, button, countdown);
  let timer: number | undefined;
  const tick = () => {
    const left = Math.ceil((Number(sessionStorage.getItem(COOLDOWN_KEY) ?? 0) - Date.now()) / 1000);
    if (left > 0) {
      button.disabled = true;
      countdown.textContent = `Next re-sync all in ${left} s`;
    } else {
      button.disabled = ids.length === 0;
      countdown.textContent = '';
      stopTimer();
    }
  };
  const stopTimer = () => {
    if (timer !== undefined) window.clearInterval(timer);
    timer = undefined;
  };
  // The page may be redrawn while the countdown runs: a detached countdown stops itself.
  const startTimer = () => {
    if (timer === undefined) timer = window.setInterval(() => (wrap.isConnected ? tick() : stopTimer()), 1000);
  };
  const start = (secs: number) => {
    sessionStorage.setItem(COOLDOWN_KEY, String(Date.now() + secs * 1000));
    startTimer();
    tick();
  };
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const out = await post<{ tickets_changed: number; results: ResyncResult[] }>('/v1/resync-all', { integration_ids: ids });
      showResult(banner, out.results, out.tickets_changed);
      start(60);
      await refresh();
    } catch (e) {
      if (e instanceof ApiError && e.status === 429) {
        banner.className = 'banner warn';
        replace(banner, `Re-sync all is limited to once a minute: ${e.detail}`);
        start(e.retryAfterSecs ?? 60);
      } else {
        showError(banner, e);
        button.disabled = false;
      }
    }
  });
  if (Number(sessionStorage.getItem(COOLDOWN_KEY) ?? 0) > Date.now()) startTimer();
  tick();
  return wrap;
}
