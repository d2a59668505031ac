#!/usr/bin/env node
// Generates the update set an admin imports (System Update Sets > Retrieved Update Sets > Import
// Update Set from XML > Preview > Commit) from the versioned sources in servicenow/src and
// servicenow/app.json. The output is deterministic (sys_ids derive from record names, dates from
// the release date), so `make test` can check that dist/ matches the sources.
//
//   node servicenow/build/update-set.mjs [output file]   (default: servicenow/dist/lockstep-update-set.xml)
//
// (@servicenow/sdk's `now-sdk build` was the first choice; its 4.12.2 cannot be installed here:
// npm finds no @servicenow/sdk-api@4.12.2, a dependency it names.)

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = JSON.parse(readFileSync(join(root, 'app.json'), 'utf8'));
const source = (path) => readFileSync(join(root, 'src', path), 'utf8');

/** A stable 32-hex sys_id for a record key. */
export const sysId = (key) => createHash('md5').update(`lockstep:${app.scope}:${key}`).digest('hex');

export const escapeXml = (text) =>
  String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const APP_ID = sysId('sys_app');
const SET_ID = sysId('sys_remote_update_set');
const WHEN = app.release_date;
const SET_NAME = `${app.name} ${app.version}`;

function element(name, value) {
  if (value && typeof value === 'object') {
    const attrs = Object.entries(value.attrs ?? {})
      .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
      .join('');
    return value.text === undefined || value.text === ''
      ? `<${name}${attrs}/>`
      : `<${name}${attrs}>${escapeXml(value.text)}</${name}>`;
  }
  return value === '' || value === undefined ? `<${name}/>` : `<${name}>${escapeXml(value)}</${name}>`;
}

const appRef = { attrs: { display_value: app.name }, text: APP_ID };

/** One record as ServiceNow writes it into a sys_update_xml payload. */
function recordUpdate(table, id, fields) {
  const common = {
    sys_class_name: table,
    sys_created_by: 'admin',
    sys_created_on: WHEN,
    sys_id: id,
    sys_mod_count: '0',
    sys_name: fields.name ?? fields.api_name ?? id,
    sys_package: { attrs: { display_value: app.name, source: app.scope }, text: APP_ID },
    sys_policy: '',
    sys_scope: { attrs: { display_value: app.name }, text: APP_ID },
    sys_update_name: `${table}_${id}`,
    sys_updated_by: 'admin',
    sys_updated_on: WHEN,
  };
  const all = { ...fields, ...common };
  const body = Object.keys(all)
    .sort()
    .map((k) => element(k, all[k]))
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?><record_update table="${table}">` +
    `<${table} action="INSERT_OR_UPDATE">${body}</${table}></record_update>`
  );
}

function updateXml(table, key, type, targetName, fields, targetTable = '') {
  const id = sysId(key);
  const fieldsXml = {
    action: 'INSERT_OR_UPDATE',
    application: appRef,
    category: 'customer',
    comments: '',
    name: `${table}_${id}`,
    payload: recordUpdate(table, id, fields),
    remote_update_set: { attrs: { display_value: SET_NAME }, text: SET_ID },
    replace_on_upgrade: 'false',
    sys_created_by: 'admin',
    sys_created_on: WHEN,
    sys_id: sysId(`update:${key}`),
    sys_mod_count: '0',
    sys_updated_by: 'admin',
    sys_updated_on: WHEN,
    table: targetTable,
    target_name: targetName,
    type,
    update_domain: 'global',
    update_guid: sysId(`guid:${key}`),
    update_guid_history: `${sysId(`guid:${key}`)}:0`,
    update_set: { attrs: { display_value: '' }, text: '' },
    view: '',
  };
  const body = Object.entries(fieldsXml)
    .map(([k, v]) => element(k, v))
    .join('\n    ');
  return `  <sys_update_xml action="INSERT_OR_UPDATE">\n    ${body}\n  </sys_update_xml>`;
}

export function build() {
  const role = app.role.name;
  const updates = [
    updateXml('sys_app', 'sys_app', 'Application', app.name, {
      name: app.name,
      scope: app.scope,
      version: app.version,
      short_description: app.description,
      active: 'true',
      enforce_license: 'log',
      licensable: 'true',
      js_level: 'helsinki_es5',
    }),
    updateXml('sys_user_role', `role:${role}`, 'Role', role, {
      name: role,
      suffix: role.split('.').pop(),
      description: app.role.description,
      elevated_privilege: 'false',
      assignable_by: '',
    }),
    ...app.properties.map((p) =>
      updateXml('sys_properties', `property:${p.name}`, 'System Property', p.name, {
        name: p.name,
        type: p.type,
        value: p.value,
        description: p.description,
        read_roles: role,
        write_roles: role,
        is_private: 'true',
        ignore_cache: 'false',
      }),
    ),
    updateXml('sys_script_include', 'script_include:LockstepWebhook', 'Script Include', 'LockstepWebhook', {
      name: 'LockstepWebhook',
      api_name: `${app.scope}.LockstepWebhook`,
      access: 'package_private',
      active: 'true',
      client_callable: 'false',
      description: 'Builds, signs and sends Lockstep webhooks; retries through the event queue.',
      script: source('script_include/LockstepWebhook.js'),
    }),
    ...['incident', 'change_request'].map((table) =>
      updateXml(
        'sys_script',
        `business_rule:${table}`,
        'Business Rule',
        `Lockstep webhook (${table})`,
        {
          name: `Lockstep webhook (${table})`,
          collection: table,
          when: 'async',
          action_insert: 'true',
          action_update: 'true',
          action_delete: 'false',
          action_query: 'false',
          active: 'true',
          advanced: 'true',
          order: '100',
          priority: '100',
          filter_condition: '',
          condition: '',
          description: `Posts every saved insert and update of ${table} to Lockstep (x_lockstep.endpoint).`,
          script: source('business_rule/lockstep_webhook.js'),
        },
        table,
      ),
    ),
    updateXml('sysevent_register', `event:${app.event.name}`, 'Event Registration', app.event.name, {
      event_name: app.event.name,
      description: app.event.description,
      table: '',
      fired_by: 'LockstepWebhook',
      queue: '',
    }),
    updateXml('sysevent_script_action', 'script_action:retry', 'Script Action', 'Lockstep webhook retry', {
      name: 'Lockstep webhook retry',
      event_name: app.event.name,
      active: 'true',
      order: '100',
      condition_script: '',
      description: 'Sends a Lockstep webhook again after a 429/503 answer or a connection failure.',
      script: source('script_action/lockstep_webhook_retry.js'),
    }),
  ];
  const set = {
    application: appRef,
    application_name: app.name,
    application_scope: app.scope,
    application_version: app.version,
    collisions: '',
    commit_date: '',
    deleted: '',
    description: app.description,
    inserted: '',
    name: SET_NAME,
    origin_sys_id: '',
    parent: { attrs: { display_value: '' }, text: '' },
    release_date: WHEN,
    remote_base_update_set: { attrs: { display_value: '' }, text: '' },
    remote_parent_id: '',
    remote_sys_id: SET_ID,
    state: 'loaded',
    summary: '',
    sys_class_name: 'sys_remote_update_set',
    sys_created_by: 'admin',
    sys_created_on: WHEN,
    sys_id: SET_ID,
    sys_mod_count: '0',
    sys_updated_by: 'admin',
    sys_updated_on: WHEN,
    update_set: { attrs: { display_value: '' }, text: '' },
    update_source: { attrs: { display_value: '' }, text: '' },
    updated: '',
  };
  const setXml = Object.entries(set)
    .map(([k, v]) => element(k, v))
    .join('\n    ');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<unload unload_date="${WHEN}">\n` +
    `  <sys_remote_update_set action="INSERT_OR_UPDATE">\n    ${setXml}\n  </sys_remote_update_set>\n` +
    updates.join('\n') +
    '\n</unload>\n'
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? join(root, 'dist', 'lockstep-update-set.xml');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, build());
  console.log(`wrote ${out}`);
}
