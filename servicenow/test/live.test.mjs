// The request the app's business rule builds, POSTed to a real ingest-webhook: accepted (202),
// refused (401) once one byte of the body or the secret changes.
//
// The real path a user takes: a fresh database, `lockstep admin bootstrap`, `lockstep up` (api and
// ingest-webhook, on free ports, own NATS subject prefix), `lockstep integrations create` with the
// webhook secret. Needs LOCKSTEP_BIN (the built `lockstep`), DATABASE_URL and NATS_URL;
// servicenow/run-tests.sh provides them.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';

import { instance } from './glide.mjs';
import { deleteStream } from './nats.mjs';
import { INCIDENT } from './fixtures.mjs';

const { LOCKSTEP_BIN, DATABASE_URL, NATS_URL } = process.env;
const missing = ['LOCKSTEP_BIN', 'DATABASE_URL', 'NATS_URL'].filter((v) => !process.env[v]);
const skip = missing.length ? `set ${missing.join(', ')} (servicenow/run-tests.sh does)` : false;

const suffix = randomBytes(6).toString('hex');
const database = `lockstep_sn_${suffix}`;
const prefix = `sn${suffix}`;
const secret = `whsec-test-${randomBytes(12).toString('hex')}`;
let up;
let ingestUrl;
let integrationId;

function databaseUrl(name) {
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

function psql(sql) {
  execFileSync('psql', [DATABASE_URL, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { stdio: 'pipe' });
}

function lockstep(args, env = {}) {
  return execFileSync(LOCKSTEP_BIN, args, { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves with the addresses `lockstep up` prints once each service is built. */
function startServices() {
  const env = {
    ...process.env,
    LOCKSTEP_DATABASE__URL: databaseUrl(database),
    LOCKSTEP_NATS__URL: NATS_URL,
    LOCKSTEP_NATS__SUBJECT_PREFIX: prefix,
    LOCKSTEP_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOCKSTEP_UP__API__LISTEN: '127.0.0.1:0',
    LOCKSTEP_UP__API__ADMIN: '127.0.0.1:0',
    LOCKSTEP_UP__API__HTTP: '127.0.0.1:0',
    LOCKSTEP_UP__INGEST_WEBHOOK__LISTEN: '127.0.0.1:0',
    LOCKSTEP_UP__INGEST_WEBHOOK__ADMIN: '127.0.0.1:0',
    // The integration's instance URL is a loopback address nobody listens on (nothing is polled or
    // called in this test); the api refuses loopback vendors unless allowed.
    LOCKSTEP_VENDOR_HTTP__ALLOW_PRIVATE_NETWORKS: '["127.0.0.1/32"]',
    LOCKSTEP_TELEMETRY__FORMAT: 'json',
    LOCKSTEP_TELEMETRY__FILTER: 'warn',
  };
  up = spawn(LOCKSTEP_BIN, ['up', '--only', 'api', '--only', 'ingest-webhook'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  up.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    up.on('exit', (code) => reject(new Error(`lockstep up exited with ${code}:\n${stderr}`)));
    up.stdout.on('data', (d) => {
      stdout += d;
      const api = stdout.match(/^api\s+grpc (\S+)\s+admin (\S+)/m);
      const ingest = stdout.match(/^ingest-webhook http (\S+)\s+admin (\S+)/m);
      if (api && ingest) resolve({ api: api[1], ingest: ingest[1], ingestAdmin: ingest[2] });
    });
  });
}

/** Waits until ingest-webhook's /readyz answers 200 (PostgreSQL and JetStream connected). */
async function ready(admin) {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`http://${admin}/readyz`).catch(() => null);
    if (res?.status === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('ingest-webhook did not become ready');
}

before(async () => {
  if (skip) return;
  psql(`CREATE DATABASE ${database}`);
  const boot = JSON.parse(lockstep(['-o', 'json', 'admin', 'bootstrap', '--database-url', databaseUrl(database)]));
  const addrs = await startServices();
  await ready(addrs.ingestAdmin);
  ingestUrl = `http://${addrs.ingest}`;
  const created = JSON.parse(lockstep(
    ['--server', `http://${addrs.api}`, '-o', 'json', 'integrations', 'create', '--name', 'acme',
      '--url', 'http://127.0.0.1:9', '--username', 'lockstep.integration', '--webhook-secret', secret],
    { LOCKSTEP_TOKEN: boot.token, LOCKSTEP_SN_PASSWORD: 'unused' },
  ));
  integrationId = (Array.isArray(created) ? created[0] : created).id;
  assert.match(integrationId, /^[0-9a-f-]{36}$/);
});

after(async () => {
  if (skip) return;
  if (up && up.exitCode === null) {
    const exited = new Promise((r) => up.once('exit', r));
    up.kill('SIGTERM');
    await exited;
  }
  await deleteStream(NATS_URL, prefix.toUpperCase()).catch((e) => console.error(`stream ${prefix}: ${e.message}`));
  psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

/** The request the business rule would send, built by the app's own code with `secret`. */
function ruleRequest(withSecret, fields = INCIDENT) {
  const sn = instance({
    properties: {
      'x_lockstep.endpoint': `${ingestUrl}/v1/webhooks/${integrationId}`,
      'x_lockstep.secret_credential': 'cred',
    },
    credentials: { cred: { api_key: withSecret } },
    respond: () => ({ status: 202 }),
  });
  sn.runBusinessRule(sn.save('incident', fields));
  assert.equal(sn.sent.length, 1);
  return sn.sent[0];
}

const post = (req, body = req.body) =>
  fetch(req.endpoint, { method: req.method, headers: req.headers, body });

test('ingest-webhook accepts what the business rule sends', { skip }, async () => {
  const req = ruleRequest(secret);
  const res = await post(req);
  const text = await res.text();
  assert.equal(res.status, 202, text);
  assert.deepEqual(JSON.parse(text), { status: 'accepted', duplicate: false });
  const again = await post(req);
  assert.equal(again.status, 202);
  assert.equal((await again.json()).duplicate, true, 'the same webhook-id is applied once');
});

test('ingest-webhook refuses the request once a byte of the body changes', { skip }, async () => {
  const req = ruleRequest(secret, { ...INCIDENT, sys_mod_count: '4' });
  const body = Buffer.from(req.body);
  const at = body.indexOf('"state":"6"') + '"state":"'.length;
  body[at] = '7'.charCodeAt(0);
  const res = await post(req, body);
  assert.equal(res.status, 401);
  assert.equal((await post(req)).status, 202, 'the untouched request still passes');
});

test('ingest-webhook refuses a request signed with another secret', { skip }, async () => {
  const req = ruleRequest(`${secret}x`, { ...INCIDENT, sys_mod_count: '5' });
  assert.equal((await post(req)).status, 401);
});
