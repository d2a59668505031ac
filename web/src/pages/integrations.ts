// Integrations: everyone sees them; admins create them, test the connection (each check with its
// remedy), rotate credentials and the webhook secret, edit the mapping (validated against the instance), set auto-close
// and pause or resume polling.

import { allIntegrations, can, get, message, post, request, type Integration } from '../api';
import { field, h, replace, select, time, whileDisabled } from '../dom';
import { navigate, type PageContext } from '../main';
import { webhookSecretSection } from './webhook_secret';

const VENDORS: Array<[string, string]> = [
  ['servicenow', 'ServiceNow'],
  ['jira', 'Jira'],
  ['manageengine', 'ServiceDesk Plus'],
];

const AUTH: Record<string, Array<[string, string, string]>> = {
  // kind → [field name, label, input type]
  basic: [['username', 'User name', 'text'], ['password', 'Password', 'password']],
  oauth2_client_credentials: [['client_id', 'Client id', 'text'], ['client_secret', 'Client secret', 'password']],
  oauth2_password: [
    ['client_id', 'Client id', 'text'],
    ['client_secret', 'Client secret', 'password'],
    ['username', 'User name', 'text'],
    ['password', 'Password', 'password'],
  ],
  api_key: [['key', 'API key', 'password']],
  // Jira Cloud 3LO, Zoho for ServiceDesk Plus Cloud: the token URL only when not the default.
  oauth2_refresh_token: [
    ['client_id', 'Client id', 'text'],
    ['client_secret', 'Client secret', 'password'],
    ['refresh_token', 'Refresh token', 'password'],
    ['token_url', 'Token URL (optional)', 'url'],
  ],
};

export async function integrationsPage({ main, stale }: PageContext): Promise<void> {
  const list = await allIntegrations();
  if (stale()) return;
  replace(main, 
    h('h1', {}, 'Integrations'),
    list.length
      ? h(
          'div',
          { class: 'table-wrap spaced' },
          h(
          'table',
          { class: 'grid', 'data-testid': 'integrations' },
          h('thead', {}, h('tr', {}, ['Name', 'Vendor', 'Instance', 'Auth', 'Polling', 'Auto-close'].map((c) => h('th', { scope: 'col' }, c)))),
          h(
            'tbody',
            {},
            list.map((i) =>
              h(
                'tr',
                {},
                h('td', {}, h('a', { href: `/integrations/${i.id}`, 'data-nav': true }, i.name)),
                h('td', {}, i.vendor),
                h('td', {}, i.base_url),
                h('td', {}, i.auth_kind, i.credentials_fingerprint ? h('div', { class: 'muted small' }, i.credentials_fingerprint) : null),
                h('td', {}, i.active ? 'active' : h('span', { class: 'chip warn' }, 'paused')),
                h('td', {}, i.settings.auto_close_on_resolve ? 'on' : 'off (re-test)'),
              ),
            ),
          ),
          ),
        )
      : h('p', { class: 'empty' }, 'No integration yet.'),
    can('admin') ? createForm() : h('p', { class: 'muted' }, 'Only admins create and change integrations.'),
  );
}

function credentialFields(kindSelect: HTMLSelectElement, box: HTMLElement): () => Record<string, Record<string, string>> {
  const inputs = new Map<string, HTMLInputElement>();
  const draw = () => {
    inputs.clear();
    const spec = AUTH[kindSelect.value] ?? [];
    replace(
      box,
      spec.map(([name, label, type]) => {
        const input = h('input', { type, name, autocomplete: 'off', required: !label.includes('(optional)') });
        inputs.set(name, input);
        return field(label, input);
      }),
    );
  };
  kindSelect.addEventListener('change', draw);
  draw();
  return () => {
    const values: Record<string, string> = {};
    for (const [k, i] of inputs) values[k] = i.value;
    return { [kindSelect.value]: values };
  };
}

function authSelect(): HTMLSelectElement {
  return select('auth_kind', [
    ['basic', 'Basic (user and password)'],
    ['oauth2_client_credentials', 'OAuth 2.0 client credentials'],
    ['oauth2_password', 'OAuth 2.0 password grant'],
    ['api_key', 'API key'],
    ['oauth2_refresh_token', 'OAuth 2.0 refresh token (Jira Cloud, Zoho)'],
  ], 'basic');
}

function createForm(): HTMLElement {
  const vendor = select('vendor', VENDORS, 'servicenow');
  const name = h('input', { type: 'text', name: 'name', required: true });
  const url = h('input', { type: 'url', name: 'base_url', required: true, placeholder: 'https://acme.service-now.com' });
  const kind = authSelect();
  const credBox = h('div', { class: 'grid-fields' });
  const credentials = credentialFields(kind, credBox);
  const table = h('input', { type: 'text', name: 'default_table', value: 'incident' });
  const autoClose = h('input', { type: 'checkbox', name: 'auto_close_on_resolve' });
  const secret = h('input', { type: 'password', name: 'webhook_secret', autocomplete: 'off' });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'new-title' },
    h('h2', { id: 'new-title' }, 'New integration'),
    h('div', { class: 'grid-fields' }, field('Vendor', vendor), field('Name', name), field('Instance URL', url), field('Authentication', kind)),
    credBox,
    h(
      'div',
      { class: 'grid-fields' },
      field('Default table or project', table),
      field('Webhook secret (optional)', secret),
      h('label', { class: 'inline' }, autoClose, 'Close the finding when the ticket is resolved (else re-test)'),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create integration')),
    out,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const created = await post<Integration>('/v1/integrations', {
        request_id: crypto.randomUUID(),
        vendor: vendor.value,
        name: name.value.trim(),
        base_url: url.value.trim(),
        credentials: credentials(),
        settings: { auto_close_on_resolve: autoClose.checked, default_table: table.value.trim(), poll_interval_secs: 0, allow_unsigned: false },
        webhook_secret: secret.value,
      });
      navigate(`/integrations/${created.id}`);
    } catch (e) {
      replace(out, h('p', { class: 'error', role: 'alert' }, message(e)));
    }
  });
  return form;
}

export async function integrationPage({ main, stale }: PageContext, id: string): Promise<void> {
  const i = await get<Integration>(`/v1/integrations/${encodeURIComponent(id)}`);
  if (stale()) return;
  const admin = can('admin');
  const path = `/v1/integrations/${encodeURIComponent(id)}`;
  const status = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite' });
  const say = (text: string, cls = 'ok') => {
    status.className = `banner ${cls}`;
    status.textContent = text;
  };
  const reload = () => navigate(location.pathname, true);
  const run = (label: string, f: () => Promise<void>, cls = '') => {
    const b = h('button', { type: 'button', class: cls }, label);
    b.addEventListener('click', () => whileDisabled(b, f, (e) => say(message(e), 'error')));
    return b;
  };
  const checks = h('div', { 'aria-live': 'polite', 'data-testid': 'checks' });
  replace(main, 
    h('p', { class: 'crumbs' }, h('a', { href: '/integrations', 'data-nav': true }, 'Integrations'), ' / ', i.name),
    h('h1', {}, i.name),
    status,
    h(
      'dl',
      { class: 'facts' },
      [
        ['Vendor', i.vendor],
        ['Instance', i.base_url],
        ['Authentication', `${i.auth_kind}${i.credentials_fingerprint ? ` · ${i.credentials_fingerprint}` : ''}`],
        ['Polling', i.active ? 'active' : 'paused'],
        ['Webhook secret', i.webhook_secret_set ? 'set' : 'not set'],
      ].map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
      h('dt', {}, 'Credentials rotated'),
      h('dd', {}, time(i.credentials_rotate_time)),
    ),
    admin
      ? h(
          'div',
          { class: 'actions' },
          run('Test connection', async () => {
            replace(checks, h('p', { class: 'muted' }, 'Testing…'));
            replace(checks, checkTable(await post(`${path}/test`)));
          }),
          i.active
            ? run('Pause polling', async () => {
                await post(`${path}/pause`);
                reload();
              })
            : run('Resume polling', async () => {
                await post(`${path}/resume`);
                reload();
              }),
        )
      : null,
    checks,
    settingsForm(i, admin, path, say),
    admin ? rotateForm(path, say) : null,
    admin ? webhookSecretSection(path, say) : null,
    await mappingEditor(path, admin, say),
  );
}

interface Check {
  id: string;
  title: string;
  status: string;
  detail: string;
  problem: string;
  remedy: string;
}

function checkTable(res: { ok: boolean; instance: string; user_name: string; checks: Check[] }): HTMLElement {
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, res.ok ? 'Connection test passed' : 'Connection test found problems'),
    h('p', { class: 'muted' }, `${res.instance} as ${res.user_name || '—'}`),
    h(
      'table',
      { class: 'grid compact' },
      h('thead', {}, h('tr', {}, ['Check', 'Result', 'Detail', 'What to do'].map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        res.checks.map((c) =>
          h('tr', {}, h('td', {}, c.title || c.id), h('td', {}, h('span', { class: `chip ${c.status}` }, c.status)), h('td', {}, c.detail), h('td', {}, c.remedy || '—')),
        ),
      ),
    ),
  );
}

function settingsForm(i: Integration, admin: boolean, path: string, say: (t: string, c?: string) => void): HTMLElement {
  const autoClose = h('input', { type: 'checkbox', name: 'auto_close_on_resolve', checked: i.settings.auto_close_on_resolve, disabled: !admin });
  const table = h('input', { type: 'text', name: 'default_table', value: i.settings.default_table, disabled: !admin });
  const interval = h('input', { type: 'number', name: 'poll_interval_secs', min: 0, value: i.settings.poll_interval_secs, disabled: !admin });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'settings-title' },
    h('h2', { id: 'settings-title' }, 'Settings'),
    h(
      'div',
      { class: 'grid-fields' },
      h('label', { class: 'inline' }, autoClose, 'Auto-close: a resolved ticket closes the finding (off: the finding goes to re-test)'),
      field('Default table or project', table),
      field('Poll interval (seconds, 0 = default 300)', interval),
    ),
    admin ? h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save settings')) : null,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await request('PATCH', path, {
        settings: { auto_close_on_resolve: autoClose.checked, default_table: table.value.trim(), poll_interval_secs: Number(interval.value) || 0 },
      });
      say('Settings saved.');
    } catch (e) {
      say(message(e), 'error');
    }
  });
  return form;
}

function rotateForm(path: string, say: (t: string, c?: string) => void): HTMLElement {
  const kind = authSelect();
  const box = h('div', { class: 'contents' });
  const credentials = credentialFields(kind, box);
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'rotate-title' },
    h('h2', { id: 'rotate-title' }, 'Rotate credentials'),
    h('div', { class: 'grid-fields' }, field('Authentication', kind), box),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Rotate')),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const i = await post<Integration>(`${path}/credentials`, { credentials: credentials() });
      form.reset();
      say(`Credentials rotated; new fingerprint ${i.credentials_fingerprint}.`);
    } catch (e) {
      say(message(e), 'error');
    }
  });
  return form;
}

interface Mapping {
  rules: unknown;
  is_default: boolean;
  severity: Array<{ kind: string; severity: string; impact: string; urgency: string; priority: string; category: string }>;
  instance_warnings: string[];
}

async function mappingEditor(path: string, admin: boolean, say: (t: string, c?: string) => void): Promise<HTMLElement> {
  const section = h('section', { class: 'card', 'aria-labelledby': 'mapping-title' });
  let m: Mapping;
  try {
    m = await get<Mapping>(`${path}/mapping`);
  } catch (e) {
    return h('section', { class: 'card' }, h('h2', {}, 'Mapping'), h('p', { class: 'error' }, message(e)));
  }
  const text = h('textarea', { name: 'rules', rows: 16, spellcheck: 'false', readonly: !admin, class: 'code' });
  text.value = JSON.stringify(m.rules, null, 2);
  const summary = h(
    'table',
    { class: 'grid compact' },
    h('thead', {}, h('tr', {}, ['Kind', 'Severity', 'Impact', 'Urgency', 'Priority', 'Category'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, m.severity.map((s) => h('tr', {}, [s.kind, s.severity, s.impact, s.urgency, s.priority, s.category].map((v) => h('td', {}, v || '—'))))),
  );
  const save = h('button', { type: 'button' }, 'Validate and save');
  save.addEventListener('click', async () => {
    let rules: unknown;
    try {
      rules = JSON.parse(text.value);
    } catch (e) {
      say(`The mapping is not valid JSON: ${message(e)}`, 'error');
      return;
    }
    try {
      await request('PUT', `${path}/mapping`, { rules, skip_instance_validation: false });
      say('Mapping saved: every value was checked against the instance.');
    } catch (e) {
      say(message(e), 'error');
    }
  });
  replace(
    section,
    h('h2', { id: 'mapping-title' }, 'Mapping'),
    h('p', { class: 'muted' }, m.is_default ? 'The vendor defaults (none saved yet).' : 'Saved rules.'),
    m.instance_warnings.length ? h('p', { class: 'warn' }, `Not valid on the instance: ${m.instance_warnings.join(', ')}`) : null,
    summary,
    field('Rules (JSON)', text, admin ? 'Checked against the instance’s choice lists when saved.' : undefined),
    admin ? h('div', { class: 'actions' }, save) : null,
  );
  return section;
}
