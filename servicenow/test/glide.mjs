// A small stand-in for the parts of ServiceNow's server-side API the app uses, so the app's own
// JavaScript (the files in servicenow/src, unchanged) runs under Node.js: GlideRecord (`current`),
// GlideDateTime, gs (properties, logging, base64, the event queue), sn_ws.RESTMessageV2,
// GlideCertificateEncryption / CertificateEncryption and sn_cc.StandardCredentialsProvider.
//
// Behaviour follows ServiceNow's documentation: getValue() returns null for an empty field,
// generateMac(base64Key, 'HmacSHA256', data) returns the MAC in base64, execute() is synchronous
// and returns a response with getStatusCode()/getHeader().

import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const read = (path) => readFileSync(join(src, path), 'utf8');

// The columns each table has (isValidField); change_request has no incident_state.
const COMMON = ['sys_id', 'number', 'state', 'close_code', 'correlation_id', 'correlation_display',
  'sys_updated_on', 'sys_mod_count', 'sys_updated_by', 'short_description', 'priority', 'impact',
  'urgency', 'category', 'assignment_group', 'assigned_to', 'close_notes', 'closed_at', 'active',
  'opened_at'];
export const COLUMNS = {
  incident: [...COMMON, 'incident_state', 'subcategory', 'hold_reason', 'resolved_at', 'sla_due', 'made_sla'],
  change_request: [...COMMON, 'type', 'risk', 'start_date', 'end_date', 'on_hold'],
};

/**
 * A ServiceNow instance in memory. `respond(request)` answers every RESTMessageV2.execute()
 * ({status, headers}) or throws to simulate a connection failure.
 */
export function instance({ properties = {}, credentials = {}, respond = () => ({ status: 202 }), now = () => Date.now(), scoped = false } = {}) {
  const tables = { incident: new Map(), change_request: new Map() };
  const sent = [];
  const events = [];
  const logs = [];

  class GlideRecord {
    constructor(table, fields = {}) {
      this._table = table;
      this._fields = { ...fields };
    }
    getTableName() { return this._table; }
    isValidField(name) { return COLUMNS[this._table].includes(name); }
    getValue(name) {
      const v = this._fields[name];
      return v === undefined || v === '' ? null : String(v);
    }
    getUniqueValue() { return this.getValue('sys_id'); }
    get(sysId) {
      const row = tables[this._table].get(sysId);
      if (!row) return false;
      this._fields = { ...row };
      return true;
    }
  }

  class GlideDateTime {
    constructor() { this._ms = now(); }
    getNumericValue() { return this._ms; }
    addSeconds(s) { this._ms += s * 1000; }
  }

  class Mac {
    generateMac(base64Key, algorithm, data) {
      if (algorithm !== 'HmacSHA256') throw new Error(`unsupported algorithm ${algorithm}`);
      return createHmac('sha256', Buffer.from(base64Key, 'base64')).update(data, 'utf8').digest('base64');
    }
  }

  class RESTMessageV2 {
    constructor() { this.request = { headers: {} }; }
    setEndpoint(url) { this.request.endpoint = url; }
    setHttpMethod(method) { this.request.method = method.toUpperCase(); }
    setHttpTimeout(ms) { this.request.timeout = ms; }
    setRequestHeader(name, value) { this.request.headers[name] = String(value); }
    setRequestBody(body) { this.request.body = body; }
    execute() {
      sent.push(this.request);
      const answer = respond(this.request);
      const headers = Object.fromEntries(Object.entries(answer.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      return {
        getStatusCode: () => answer.status,
        getHeader: (name) => headers[name.toLowerCase()] ?? null,
        getBody: () => answer.body ?? '',
        haveError: () => answer.status >= 400,
      };
    }
    executeAsync() { throw new Error('the app must not use executeAsync(): it cannot see the status to retry'); }
  }

  const gs = {
    getProperty: (name, fallback) => (name in properties ? String(properties[name]) : fallback),
    base64Encode: (text) => Buffer.from(text, 'utf8').toString('base64'),
    eventQueueScheduled: (name, record, parm1, parm2, when) =>
      events.push({ name, table: record.getTableName(), parm1, parm2, at: when.getNumericValue() }),
    info: (m) => logs.push(['info', m]),
    warn: (m) => logs.push(['warn', m]),
    error: (m) => logs.push(['error', m]),
  };

  const sn_cc = {
    StandardCredentialsProvider: class {
      getCredentialByID(id) {
        const c = credentials[id];
        return c ? { getAttribute: (name) => c[name] ?? null } : null;
      }
    },
  };

  const Class = { create: () => function () { this.initialize.apply(this, arguments); } };
  const globals = { Class, gs, GlideRecord, GlideDateTime, sn_ws: { RESTMessageV2 }, sn_cc };
  globals[scoped ? 'CertificateEncryption' : 'GlideCertificateEncryption'] = Mac;
  const context = vm.createContext(globals);
  vm.runInContext(read('script_include/LockstepWebhook.js'), context, { filename: 'LockstepWebhook.js' });
  context.x_lockstep = { LockstepWebhook: context.LockstepWebhook };

  return {
    sent,
    events,
    logs,
    LockstepWebhook: context.LockstepWebhook,
    /** Saves a record (so retries can read it back) and returns it as `current`. */
    save(table, fields) {
      tables[table].set(fields.sys_id, { ...fields });
      return new GlideRecord(table, fields);
    },
    /** Runs the business rule's script as the platform does after a save. */
    runBusinessRule(current) {
      vm.runInContext(read('business_rule/lockstep_webhook.js'), Object.assign(context, { current, previous: null }));
    },
    /** Runs the script action for a queued event. */
    runScriptAction(event) {
      vm.runInContext(read('script_action/lockstep_webhook_retry.js'), Object.assign(context, { event }));
    },
  };
}
