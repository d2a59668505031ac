// The app's own JavaScript under Node.js against the Glide stand-in: the payload Lockstep parses,
// the Standard Webhooks signature, and retries through the event queue.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';

import { INCIDENT } from './fixtures.mjs';
import { instance } from './glide.mjs';

const SECRET = 'wh-secret-Ünïcode-ok';
const CRED = '0123456789abcdef0123456789abcdef';
const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);
const PROPS = {
  'x_lockstep.endpoint': 'https://lockstep.example/v1/webhooks/0199f3c2-7a41-7c2e-9d1b-5f0e8b6a2c11',
  'x_lockstep.secret_credential': CRED,
};


function app(options = {}) {
  return instance({
    properties: PROPS,
    credentials: { [CRED]: { api_key: SECRET } },
    now: () => NOW,
    ...options,
  });
}

function expectedSignature(secret, headers, body) {
  const signed = `${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`;
  return 'v1,' + createHmac('sha256', Buffer.from(secret, 'utf8')).update(signed).digest('base64');
}

test('an incident update is posted with the documented payload', () => {
  const sn = app();
  sn.runBusinessRule(sn.save('incident', INCIDENT));
  assert.equal(sn.sent.length, 1);
  const [req] = sn.sent;
  assert.equal(req.method, 'POST');
  assert.equal(req.endpoint, PROPS['x_lockstep.endpoint']);
  assert.equal(req.headers['Content-Type'], 'application/json');
  assert.equal(req.headers['webhook-id'], `${INCIDENT.sys_id}-3`);
  assert.equal(req.headers['webhook-timestamp'], String(NOW / 1000));
  assert.match(req.body, /^[\x20-\x7e]*$/, 'the body is ASCII only');
  assert.ok(req.body.includes('\\u2014') && req.body.includes('\\u00f6'), 'non-ASCII is escaped');
  const body = JSON.parse(req.body);
  assert.deepEqual(Object.keys(body).sort(), ['close_code', 'correlation_id', 'event_id', 'event_type', 'fields',
    'incident_state', 'number', 'state', 'sys_id', 'sys_mod_count', 'sys_updated_by', 'sys_updated_on', 'table']);
  assert.equal(body.event_id, `${INCIDENT.sys_id}-3`);
  assert.equal(body.event_type, 'update');
  assert.equal(body.table, 'incident');
  assert.equal(body.state, '6');
  assert.equal(body.fields.short_description, INCIDENT.short_description);
  assert.equal(body.fields.assigned_to, '', 'empty fields are "" not null');
  for (const value of [...Object.values(body).filter((v) => typeof v !== 'object'), ...Object.values(body.fields)]) {
    assert.equal(typeof value, 'string');
  }
  assert.equal(Object.keys(body.fields).length, 17);
});

test('the signature is Standard Webhooks v1 over id.timestamp.body with the secret as UTF-8 bytes', () => {
  for (const scoped of [false, true]) {
    const sn = app({ scoped });
    sn.runBusinessRule(sn.save('incident', INCIDENT));
    const [req] = sn.sent;
    assert.equal(req.headers['webhook-signature'], expectedSignature(SECRET, req.headers, req.body));
  }
});

test('a change request is sent without incident_state, and an insert says so', () => {
  const sn = app();
  const change = { ...INCIDENT, sys_id: 'c'.repeat(32), number: 'CHG0030001', state: '-5', sys_mod_count: '0', type: 'normal', risk: '3' };
  sn.runBusinessRule(sn.save('change_request', change));
  const body = JSON.parse(sn.sent[0].body);
  assert.equal(body.table, 'change_request');
  assert.equal(body.incident_state, '');
  assert.equal(body.event_type, 'insert');
  assert.equal(body.fields.type, 'normal');
  assert.ok(!('hold_reason' in body.fields));
});

test('nothing is sent for an unwatched table, without an endpoint, or without a credential', () => {
  let sn = app({ properties: { ...PROPS, 'x_lockstep.tables': 'change_request' } });
  sn.runBusinessRule(sn.save('incident', INCIDENT));
  assert.equal(sn.sent.length, 0);

  sn = app({ properties: { ...PROPS, 'x_lockstep.endpoint': '' } });
  sn.runBusinessRule(sn.save('incident', INCIDENT));
  assert.equal(sn.sent.length, 0);

  sn = app({ credentials: {} });
  sn.runBusinessRule(sn.save('incident', INCIDENT));
  assert.equal(sn.sent.length, 0);
  assert.match(sn.logs.at(-1)[1], /secret_credential/);
});

test('429 and 503 queue a retry event with a growing delay, Retry-After winning when longer', () => {
  const sn = app({ respond: () => ({ status: 429, headers: { 'Retry-After': '120' } }) });
  sn.runBusinessRule(sn.save('incident', INCIDENT));
  assert.deepEqual(sn.events, [{
    name: 'x_lockstep.webhook.retry', table: 'incident', parm1: `incident:${INCIDENT.sys_id}`, parm2: '2', at: NOW + 120_000,
  }]);

  const busy = app({ respond: () => ({ status: 503, headers: { 'Retry-After': '5' } }) });
  const current = busy.save('incident', INCIDENT);
  busy.runBusinessRule(current);
  assert.equal(busy.events[0].at, NOW + 30_000, 'first retry after retry_base_seconds');
  busy.runScriptAction({ parm1: busy.events[0].parm1, parm2: busy.events[0].parm2 });
  assert.equal(busy.events[1].parm2, '3');
  assert.equal(busy.events[1].at, NOW + 60_000, 'then doubled');
  assert.equal(busy.sent[1].headers['webhook-id'], busy.sent[0].headers['webhook-id'], 'a retry keeps the id');
});

test('a connection failure is retried; a refusal or success is not', () => {
  const down = app({ respond: () => { throw new Error('Connection refused'); } });
  down.runBusinessRule(down.save('incident', INCIDENT));
  assert.equal(down.events.length, 1);

  for (const status of [202, 400, 401, 413]) {
    const sn = app({ respond: () => ({ status }) });
    sn.runBusinessRule(sn.save('incident', INCIDENT));
    assert.equal(sn.sent.length, 1);
    assert.equal(sn.events.length, 0, `no retry after ${status}`);
  }
});

test('retries stop at x_lockstep.max_attempts', () => {
  const sn = app({ properties: { ...PROPS, 'x_lockstep.max_attempts': '3' }, respond: () => ({ status: 503 }) });
  sn.runBusinessRule(sn.save('incident', INCIDENT));
  // Run each queued event, as the event processor would, until none is queued any more.
  for (let i = 0; i < sn.events.length && i < 10; i++) sn.runScriptAction(sn.events[i]);
  assert.equal(sn.sent.length, 3);
  assert.equal(sn.events.length, 2);
  assert.match(sn.logs.at(-1)[1], /not delivered.*poller/);
});

test('a retry of a deleted record is dropped', () => {
  const sn = app();
  sn.runScriptAction({ parm1: `incident:${'f'.repeat(32)}`, parm2: '2' });
  assert.equal(sn.sent.length, 0);
  assert.match(sn.logs.at(-1)[1], /no longer exists/);
});
