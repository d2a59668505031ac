// A finding: its fields, its tickets with state and SLA, its activity feed (each change names its
// channel and the vendor user), and escalation: integration and mode, the vendor's own fields,
// a dry run showing exactly what would be sent, then create.

import { allIntegrations, can, get, message, post, query, type Finding, type Preview, type TicketLink, type TicketResult } from '../api';
import { ago, h, replace, severityBadge, time } from '../dom';
import { presetsAndIntegrations, specForm } from '../escalate';
import type { PageContext } from '../main';

interface Activity {
  id: string;
  time: string;
  channel: string;
  actor: string;
  kind: string;
  from_status: string;
  to_status: string;
  message: string;
}

export async function findingPage({ main, stale }: PageContext, id: string): Promise<void> {
  const finding = await get<Finding>(`/v1/findings/${encodeURIComponent(id)}`);
  if (stale()) return;
  const tickets = h('section', { 'aria-labelledby': 'tickets-title' });
  const activity = h('section', { 'aria-labelledby': 'activity-title' });
  const reload = async () => {
    const f = await get<Finding>(`/v1/findings/${encodeURIComponent(id)}`);
    drawTickets(tickets, f.tickets);
    await drawActivity(activity, id);
  };
  replace(main, 
    h('p', { class: 'crumbs' }, h('a', { href: '/findings', 'data-nav': true }, 'Findings'), ' / ', finding.scanner_key),
    h('h1', {}, finding.title),
    details(finding),
    tickets,
    can('analyst') ? await escalation(finding, reload) : null,
    activity,
  );
  drawTickets(tickets, finding.tickets);
  await drawActivity(activity, id);
}

function details(f: Finding): HTMLElement {
  const item = (label: string, value: Node | string) => [h('dt', {}, label), h('dd', {}, value || '—')];
  return h(
    'dl',
    { class: 'facts' },
    item('Severity', severityBadge(f.severity)),
    item('Status', f.status.replace('_', ' ')),
    item('Asset', f.asset),
    item('CVE', f.cve),
    item('CWE', f.cwe ? `CWE-${f.cwe}` : ''),
    item('Scanner', `${f.scanner} · ${f.scanner_key}`),
    item('First seen', time(f.first_seen_time)),
    item('Last seen', time(f.last_seen_time)),
    f.description ? item('Description', h('span', { class: 'pre' }, f.description)) : null,
  );
}

export function ticketCell(t: TicketLink): Node {
  return t.url
    ? h('a', { href: t.url, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'deep-link' }, t.key || t.external_id)
    : h('span', {}, t.key || t.state);
}

function drawTickets(section: HTMLElement, links: TicketLink[]): void {
  replace(
    section,
    h('h2', { id: 'tickets-title' }, 'Tickets'),
    links.length
      ? h(
          'table',
          { class: 'grid', 'data-testid': 'finding-tickets' },
          h('thead', {}, h('tr', {}, ['Ticket', 'Integration', 'Link state', 'Vendor state', 'SLA due'].map((c) => h('th', { scope: 'col' }, c)))),
          h(
            'tbody',
            {},
            links.map((t) =>
              h(
                'tr',
                {},
                h('td', {}, ticketCell(t)),
                h('td', {}, `${t.integration_name} · ${t.table_or_project}`),
                h('td', {}, t.state, t.failure_reason ? h('div', { class: 'error small' }, t.failure_reason) : null),
                h('td', {}, t.vendor_state || '—'),
                h('td', {}, time(t.sla_due_time), t.sla_breached ? h('div', { class: 'overdue' }, 'breached') : null),
              ),
            ),
          ),
        )
      : h('p', { class: 'empty' }, 'No ticket yet.'),
  );
}

async function drawActivity(section: HTMLElement, id: string): Promise<void> {
  const list = h('ol', { class: 'feed', 'data-testid': 'activity' });
  replace(section, h('h2', { id: 'activity-title' }, 'Activity'), list);
  const more = async (cursor: string): Promise<void> => {
    let page: { entries: Activity[]; next_cursor: string };
    try {
      page = await get(`/v1/findings/${encodeURIComponent(id)}/activity${query({ page_size: '100', cursor })}`);
    } catch (e) {
      section.appendChild(h('p', { class: 'error' }, message(e)));
      return;
    }
    for (const a of page.entries) {
      list.appendChild(
        h(
          'li',
          {},
          h('div', { class: 'when' }, time(a.time), h('span', { class: 'muted' }, ` ${ago(a.time)}`)),
          h(
            'div',
            {},
            h('strong', {}, a.kind.replaceAll('_', ' ')),
            a.from_status || a.to_status ? ` ${a.from_status || '—'} → ${a.to_status || '—'}` : '',
            h('span', { class: 'chip' }, a.channel),
            a.actor ? h('span', { class: 'muted' }, ` by ${a.actor}`) : null,
          ),
          a.message ? h('div', { class: 'muted' }, a.message) : null,
        ),
      );
    }
    if (!page.entries.length && !cursor) list.appendChild(h('li', { class: 'empty' }, 'Nothing yet.'));
    if (page.next_cursor) {
      const button = h('button', { type: 'button', class: 'small' }, 'Older activity');
      button.addEventListener('click', () => {
        button.remove();
        void more(page.next_cursor);
      });
      section.appendChild(button);
    }
  };
  await more('');
}

async function escalation(finding: Finding, reload: () => Promise<void>): Promise<HTMLElement> {
  const [integrations, presets] = await presetsAndIntegrations(allIntegrations);
  const form = specForm(integrations, presets, { modes: true });
  const out = h('div', { class: 'result', 'aria-live': 'polite', 'data-testid': 'escalation-result' });
  const dry = h('button', { type: 'button' }, 'Dry run');
  const create = h('button', { type: 'button', class: 'primary' }, 'Create ticket');
  dry.addEventListener('click', async () => {
    dry.disabled = true;
    try {
      const res = await post<{ previews: Preview[] }>('/v1/tickets/preview', { spec: form.spec(), finding_ids: [finding.id] });
      const p = res.previews[0];
      replace(out, p ? previewTable(p) : h('p', {}, 'Nothing to preview.'));
    } catch (e) {
      replace(out, h('p', { class: 'error', role: 'alert' }, message(e)));
    } finally {
      dry.disabled = false;
    }
  });
  create.addEventListener('click', async () => {
    create.disabled = true;
    try {
      const r = await post<TicketResult>('/v1/tickets', { request_id: crypto.randomUUID(), finding_id: finding.id, spec: form.spec() });
      replace(out, resultLine(r));
      await reload();
    } catch (e) {
      replace(out, h('p', { class: 'error', role: 'alert' }, message(e)));
    } finally {
      create.disabled = false;
    }
  });
  return h(
    'section',
    { 'aria-labelledby': 'escalate-title', class: 'card' },
    h('h2', { id: 'escalate-title' }, 'Escalate'),
    form.el,
    h('div', { class: 'actions' }, dry, create),
    out,
  );
}

export function previewTable(p: Preview): HTMLElement {
  if (p.error) return h('p', { class: 'error' }, p.error);
  return h(
    'div',
    { 'data-testid': 'preview' },
    p.existing
      ? h('p', { class: 'warn' }, 'Already linked to ', ticketCell(p.existing), ': creating returns that ticket, nothing is sent.')
      : h('p', {}, 'Dry run: this is exactly what would be sent. Nothing was sent.'),
    h(
      'table',
      { class: 'grid compact' },
      h('thead', {}, h('tr', {}, ['Field', 'Value', 'From'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, p.fields.map((f) => h('tr', {}, h('td', {}, h('code', {}, f.field)), h('td', { class: 'pre' }, f.value), h('td', {}, f.source)))),
    ),
  );
}

export function resultLine(r: TicketResult): HTMLElement {
  if (r.outcome === 'failed') return h('p', { class: 'error', role: 'alert' }, `Failed (${r.error_code}): ${r.error_message}`);
  const verb = r.outcome === 'created' ? 'Created' : 'Already linked:';
  return h('p', { class: 'ok' }, `${verb} `, r.link ? ticketCell(r.link) : '', r.link ? ` in ${r.link.integration_name}` : '');
}
