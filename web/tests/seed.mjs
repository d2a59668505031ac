// Seed data, made through the JSON API (the way an admin and a scanner would): one ServiceNow
// integration on the emulator, 270 findings, 210 of them ticketed in one bulk call (so the tickets
// list has two pages of 200), and a second tenant with findings of its own.
//
// SLA breach: six critical and four high incidents get an SLA that ended five hours ago in the
// emulator (its clock is not advanced: that would make every vendor version "from the future").

import { psql } from './harness.mjs';

const SEVERITIES = ['critical', 'high', 'medium', 'low'];
export const TOTAL = 270;
export const TICKETED = 210;

export function pad(n) {
  return String(n).padStart(4, '0');
}

export async function seed(stack) {
  const { a, b } = stack;
  const integration = await stack.api(a.admin, 'POST', '/v1/integrations', {
    request_id: crypto.randomUUID(),
    vendor: 'servicenow',
    name: 'acme-sn',
    base_url: stack.simUrl,
    credentials: { basic: { username: 'lockstep.integration', password: 'lockstep.integration' } },
    settings: { auto_close_on_resolve: false, default_table: 'incident', poll_interval_secs: 0, allow_unsigned: false },
    webhook_secret: '',
  });
  const findings = Array.from({ length: TOTAL }, (_, i) => ({
    key: `WEB-${pad(i + 1)}`,
    title: `Finding ${pad(i + 1)}: ${['OpenSSL', 'SWEET32', 'Log4Shell', 'TLS 1.0'][i % 4]} on app-${i % 17}`,
    severity: SEVERITIES[i % 4],
    asset: `app-${i % 17}.corp.example`,
    cve: i % 4 === 2 ? 'CVE-2021-44228' : '',
    description: `Seeded finding ${i + 1} for the browser tests.`,
  }));
  const imported = await stack.api(a.analyst, 'POST', '/v1/findings/import', {
    format: 'json',
    scanner: 'webtest',
    content: JSON.stringify({ scanner: 'webtest', findings }),
  });
  const idOf = new Map(imported.findings.map((f) => [f.scanner_key, f.id]));
  const ids = findings.map((f) => idOf.get(f.key));
  const spec = { integration_id: integration.id, table: 'incident', mode: 'standalone', related_ticket: '', labels: [], reporter: '', preset: '', fields: {} };
  const bulk = await stack.api(a.analyst, 'POST', '/v1/tickets/bulk', {
    request_id: crypto.randomUUID(),
    finding_ids: ids.slice(0, TICKETED),
    spec,
  });
  if (bulk.created !== TICKETED) throw new Error(`seed: ${JSON.stringify(bulk).slice(0, 2000)}`);

  // Breached SLAs, made where they come from: the incidents' task_sla rows in the emulator get a
  // planned end five hours ago (the connector judges a breach from it). The stored links are set
  // to the same values at once, as the poller's SLA refresh will write them when it next reads.
  const due = new Date(Date.now() - 5 * 3600_000);
  const snTime = due.toISOString().slice(0, 19).replace('T', ' ');
  for (const [severity, n] of [['critical', 6], ['high', 4]]) {
    const rows = psql(
      stack.dbUrl,
      `SELECT l.id || ' ' || l.external_id FROM ticket_links l JOIN findings f ON f.id = l.finding_id AND f.tenant_id = l.tenant_id
       WHERE f.severity = '${severity}' AND l.state = 'live' ORDER BY f.scanner_key LIMIT ${n}`,
    ).trim().split('\n').map((line) => line.split(' '));
    const slas = await stack.sim_('GET', `/_sim/servicenow/records/task_sla?query=${encodeURIComponent(`taskIN${rows.map((r) => r[1]).join(',')}`)}`);
    if (slas.result.length < n) throw new Error(`seed: ${slas.result.length} task_sla rows for ${n} ${severity} incidents`);
    for (const sla of slas.result) {
      await stack.sim_('POST', '/_sim/servicenow/act', { user: 'admin', table: 'task_sla', op: 'update', record: sla.sys_id, fields: { planned_end_time: snTime } });
    }
    psql(stack.dbUrl, `UPDATE ticket_links SET sla_due_at = '${due.toISOString()}', sla_breached = true WHERE id IN (${rows.map((r) => `'${r[0]}'`).join(',')})`);
  }
  await stack.sim_('POST', '/_sim/servicenow/sla/recalculate');

  const other = await stack.api(b.admin, 'POST', '/v1/findings/import', {
    format: 'json',
    scanner: 'globex-scanner',
    content: JSON.stringify({ findings: [{ key: 'GLX-1', title: 'Globex only: exposed admin panel', severity: 'high', asset: 'glx-1' }] }),
  });
  return { integration, ids, bulk, otherFinding: other.findings[0].id };
}
