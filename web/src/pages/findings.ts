// Findings, with bulk escalation: select up to 500 (across pages), the duplicate pre-flight marks
// the ones already linked, a dry run shows what each ticket would get, create answers per finding,
// and a failed one can be retried alone.

import { allIntegrations, can, get, message, post, query, type Finding, type Preview, type TicketLink, type TicketResult } from '../api';
import { field, h, replace, select, severityBadge, whileDisabled } from '../dom';
import { presetsAndIntegrations, specForm, type SpecForm } from '../escalate';
import { navigate, type PageContext } from '../main';
import { pager } from '../paging';
import { SEVERITIES, STATUSES } from './tickets';
import { ticketCell } from './finding';

const MAX = 500;
/** The selection outlives a page change (it may span pages), not a reload. */
const selected = new Map<string, string>();

export async function findingsPage({ main, url, stale }: PageContext): Promise<void> {
  const severity = url.searchParams.get('severity') ?? '';
  const status = url.searchParams.get('status') ?? '';
  const page = await get<{ findings: Finding[]; next_cursor: string }>(
    `/v1/findings${query({ severity, status, page_size: '200', cursor: url.searchParams.get('cursor') ?? '' })}`,
  );
  if (stale()) return;
  const analyst = can('analyst');
  const count = h('span', { 'data-testid': 'selected-count', 'aria-live': 'polite' });
  const boxes = new Map<string, HTMLInputElement>();
  const marks = new Map<string, HTMLElement>();
  const updateCount = () => {
    count.textContent = `${selected.size} selected (at most ${MAX})`;
    for (const [id, box] of boxes) box.disabled = !box.checked && selected.size >= MAX;
  };
  const filters = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter findings' },
    field('Severity', select('severity', [['', 'Any'], ...SEVERITIES.map((s): [string, string] => [s, s])], severity)),
    field('Status', select('status', [['', 'Any'], ...STATUSES.map((s): [string, string] => [s, s.replace('_', ' ')])], status)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply filters')),
  );
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(filters)) if (typeof v === 'string' && v) q.append(k, v);
    navigate(`/findings${q.toString() ? `?${q}` : ''}`);
  });
  const rows = page.findings.map((f) => {
    const box = h('input', { type: 'checkbox', checked: selected.has(f.id), 'aria-label': `Select ${f.title}` });
    box.addEventListener('change', () => {
      if (box.checked) selected.set(f.id, f.title);
      else selected.delete(f.id);
      updateCount();
    });
    boxes.set(f.id, box);
    const mark = h('span', { class: 'mark' });
    marks.set(f.id, mark);
    const live = f.tickets.filter((t) => t.state === 'live' || t.state === 'pending');
    return h(
      'tr',
      { 'data-finding': f.id },
      analyst ? h('td', {}, box) : null,
      h('td', {}, severityBadge(f.severity)),
      h('td', { class: 'title' }, h('a', { href: `/findings/${f.id}`, 'data-nav': true }, f.title), h('div', { class: 'muted small' }, f.scanner_key)),
      h('td', {}, f.asset || '—'),
      h('td', {}, f.status.replace('_', ' ')),
      h('td', {}, live.map((t) => [ticketCell(t), ' ']), mark),
    );
  });
  const selectPage = h('button', { type: 'button', class: 'small' }, 'Select this page');
  selectPage.addEventListener('click', () => {
    for (const f of page.findings) {
      if (selected.size >= MAX) break;
      selected.set(f.id, f.title);
      const b = boxes.get(f.id);
      if (b) b.checked = true;
    }
    updateCount();
  });
  const clear = h('button', { type: 'button', class: 'small' }, 'Clear selection');
  clear.addEventListener('click', () => {
    selected.clear();
    for (const b of boxes.values()) b.checked = false;
    updateCount();
  });
  replace(main, 
    h('h1', {}, 'Findings'),
    filters,
    analyst ? await bulkPanel(count, selectPage, clear, marks) : null,
    page.findings.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'grid', 'data-testid': 'findings' },
            h('thead', {}, h('tr', {}, [analyst ? 'Select' : null, 'Severity', 'Finding', 'Asset', 'Status', 'Tickets'].filter((c) => c).map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', {}, rows),
          ),
        )
      : h('p', { class: 'empty' }, 'No findings match.'),
    pager(url, page.next_cursor, page.findings.length, 'findings'),
  );
  updateCount();
}

async function bulkPanel(count: HTMLElement, selectPage: HTMLElement, clear: HTMLElement, marks: Map<string, HTMLElement>): Promise<HTMLElement> {
  const [integrations, presets] = await presetsAndIntegrations(allIntegrations);
  const form = specForm(integrations, presets, { modes: false });
  const out = h('div', { class: 'result', 'aria-live': 'polite', 'data-testid': 'bulk-result' });
  const ids = () => [...selected.keys()];
  const guard = (): boolean => {
    if (selected.size === 0) {
      replace(out, h('p', { class: 'error', role: 'alert' }, 'Select at least one finding.'));
      return false;
    }
    return true;
  };
  const action = (label: string, run: (b: HTMLButtonElement) => Promise<void>, cls = '') => {
    const b = h('button', { type: 'button', class: cls }, label);
    b.addEventListener('click', () => {
      if (!guard()) return;
      return whileDisabled(
        b,
        () => run(b),
        (e) => replace(out, h('p', { class: 'error', role: 'alert' }, message(e))),
      );
    });
    return b;
  };
  const check = action('Check duplicates', async () => {
    const res = await post<{ findings: Array<{ finding_id: string; linked: boolean; links: TicketLink[]; not_found: boolean }> }>(
      '/v1/tickets/check',
      { finding_ids: ids(), integration_id: form.spec().integration_id },
    );
    const linked = res.findings.filter((f) => f.linked);
    for (const f of res.findings) {
      const m = marks.get(f.finding_id);
      if (m) replace(m, f.linked ? h('span', { class: 'chip warn' }, 'already linked') : '');
    }
    replace(
      out,
      h('p', { 'data-testid': 'preflight' }, `${linked.length} of ${res.findings.length} selected already linked on this integration; creating returns their ticket.`),
      linked.length ? h('ul', {}, linked.map((f) => h('li', {}, selected.get(f.finding_id) ?? f.finding_id, ': ', f.links.map((l) => ticketCell(l))))) : null,
    );
  });
  const dry = action('Dry run', async () => {
    const res = await post<{ previews: Preview[] }>('/v1/tickets/preview', { spec: form.spec(), finding_ids: ids() });
    replace(out, diffTable(res.previews));
  });
  const create = action('Create tickets', async () => {
    const res = await post<{ results: TicketResult[]; created: number; already_linked: number; failed: number }>('/v1/tickets/bulk', {
      request_id: crypto.randomUUID(),
      finding_ids: ids(),
      spec: form.spec(),
    });
    replace(out, resultsTable(res, form));
  }, 'primary');
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'bulk-title' },
    h('h2', { id: 'bulk-title' }, 'Bulk escalation'),
    h('div', { class: 'toolbar' }, count, selectPage, clear),
    form.el,
    h('div', { class: 'actions' }, check, dry, create),
    out,
  );
}

function diffTable(previews: Preview[]): HTMLElement {
  const shown = ['short_description', 'impact', 'urgency', 'priority', 'category', 'assignment_group'];
  const fresh = previews.filter((p) => !p.existing && !p.error).length;
  return h(
    'div',
    { 'data-testid': 'bulk-preview' },
    h('p', {}, `Dry run: ${fresh} ticket${fresh === 1 ? '' : 's'} would be created, ${previews.length - fresh} not. Nothing was sent.`),
    h(
      'div',
      { class: 'table-wrap short' },
      h(
        'table',
        { class: 'grid compact' },
        h('thead', {}, h('tr', {}, ['Finding', 'Would send'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          previews.map((p) =>
            h(
              'tr',
              {},
              h('td', {}, selected.get(p.finding_id) ?? p.finding_id),
              h(
                'td',
                {},
                p.error
                  ? h('span', { class: 'error' }, p.error)
                  : p.existing
                    ? h('span', { class: 'chip warn' }, 'already linked: ', ticketCell(p.existing))
                    : p.fields.filter((f) => shown.includes(f.field)).map((f) => h('span', { class: 'kv' }, `${f.field}=${f.value}`)),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function resultsTable(res: { results: TicketResult[]; created: number; already_linked: number; failed: number }, form: SpecForm): HTMLElement {
  const spec = form.spec();
  const rows = res.results.map((r) => {
    const cell = h('td', {}, outcomeCell(r));
    const act = h('td', {});
    const tr = h('tr', { 'data-outcome': r.outcome }, h('td', {}, selected.get(r.finding_id) ?? r.finding_id), cell, act);
    if (r.outcome === 'failed') {
      const retry = h('button', { type: 'button', class: 'small' }, 'Retry');
      retry.addEventListener('click', async () => {
        retry.disabled = true;
        try {
          const again = await post<TicketResult>('/v1/tickets', { request_id: crypto.randomUUID(), finding_id: r.finding_id, spec });
          tr.dataset.outcome = again.outcome;
          replace(cell, outcomeCell(again));
          if (again.outcome !== 'failed') retry.remove();
        } catch (e) {
          replace(cell, h('span', { class: 'error' }, message(e)));
        } finally {
          retry.disabled = false;
        }
      });
      act.appendChild(retry);
    }
    return tr;
  });
  return h(
    'div',
    { 'data-testid': 'bulk-results' },
    h('p', { 'data-testid': 'bulk-summary' }, `${res.created} created, ${res.already_linked} already linked, ${res.failed} failed.`),
    h(
      'div',
      { class: 'table-wrap short' },
      h('table', { class: 'grid compact' }, h('thead', {}, h('tr', {}, ['Finding', 'Result', 'Action'].map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, rows)),
    ),
  );
}

function outcomeCell(r: TicketResult): Node {
  if (r.outcome === 'failed') return h('span', { class: 'error' }, `failed (${r.error_code}): ${r.error_message} `);
  return h('span', {}, r.outcome === 'created' ? 'created ' : 'already linked ', r.link ? ticketCell(r.link) : '');
}
