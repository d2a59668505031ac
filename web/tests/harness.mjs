// The real stack the browser tests drive: a fresh PostgreSQL database, `lockstep up` (every
// service, own NATS subject prefix, port 0 everywhere), the itsm-sim ServiceNow emulator, two
// tenants with their tokens, and seed data made through the JSON API itself.
//
// Needs LOCKSTEP_BIN, ITSM_SIM_BIN, DATABASE_URL and NATS_URL (scripts/test-web.sh provides them).

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const env = process.env;
export const missing = ['LOCKSTEP_BIN', 'ITSM_SIM_BIN', 'DATABASE_URL', 'NATS_URL'].filter((v) => !env[v]);

function databaseUrl(name) {
  const url = new URL(env.DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export function psql(url, sql) {
  return execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-At', '-c', sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function lockstep(args) {
  const out = execFileSync(env.LOCKSTEP_BIN, ['-o', 'json', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out);
}

/** Starts a process and resolves with the regex matches once every pattern was seen on stdout. */
function startProcess(bin, args, extraEnv, patterns, what) {
  const child = spawn(bin, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  const found = new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${stdout}\n${stderr.slice(-4000)}`)));
    child.stdout.on('data', (d) => {
      stdout += d;
      const matches = patterns.map((p) => stdout.match(p));
      if (matches.every(Boolean)) resolve(matches);
    });
  });
  return { child, found, log: () => `${stdout}\n${stderr.slice(-4000)}` };
}

async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Waits until `GET url` answers 200 (the server is listening and its routes are mounted). */
async function reachable(url, what) {
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer at ${url}: ${last}`);
}

export class Stack {
  async start() {
    const suffix = randomBytes(5).toString('hex');
    this.database = `lockstep_web_${suffix}`;
    this.prefix = `web${suffix}`;
    psql(env.DATABASE_URL, `CREATE DATABASE ${this.database}`);
    this.dbUrl = databaseUrl(this.database);

    const sim = startProcess(env.ITSM_SIM_BIN, ['--listen', '127.0.0.1:0'], {}, [/itsm-sim listening on (\S+)/], 'itsm-sim');
    this.sim = sim.child;
    this.simUrl = (await sim.found)[0][1].replace(/\/$/, '');

    const a = lockstep(['admin', 'bootstrap', '--tenant-name', 'acme', '--database-url', this.dbUrl]);
    const b = lockstep(['admin', 'bootstrap', '--tenant-name', 'globex', '--database-url', this.dbUrl]);
    const token = (tenant, role) =>
      lockstep(['admin', 'create-token', '--tenant', tenant, '--name', `${role}-web`, '--role', role, '--database-url', this.dbUrl]).token;
    this.a = { tenant: a.tenant_id, admin: a.token, analyst: token(a.tenant_id, 'analyst'), viewer: token(a.tenant_id, 'viewer') };
    this.b = { tenant: b.tenant_id, admin: b.token };

    const listen = {};
    for (const s of ['API', 'TICKET_WRITER', 'POLLER', 'INGEST_WEBHOOK']) listen[`LOCKSTEP_UP__${s}__LISTEN`] = '127.0.0.1:0';
    for (const s of ['API', 'TICKET_WRITER', 'POLLER', 'INGEST_WEBHOOK', 'SYNC_APPLIER']) listen[`LOCKSTEP_UP__${s}__ADMIN`] = '127.0.0.1:0';
    const up = startProcess(
      env.LOCKSTEP_BIN,
      ['up'],
      {
        ...listen,
        LOCKSTEP_UP__API__HTTP: '127.0.0.1:0',
        LOCKSTEP_DATABASE__URL: this.dbUrl,
        LOCKSTEP_NATS__URL: env.NATS_URL,
        LOCKSTEP_NATS__SUBJECT_PREFIX: this.prefix,
        LOCKSTEP_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
        LOCKSTEP_VENDOR_HTTP__ALLOW_PRIVATE_NETWORKS: '["127.0.0.0/8", "::1/128"]',
        LOCKSTEP_TELEMETRY__FORMAT: 'json',
        LOCKSTEP_TELEMETRY__FILTER: 'warn',
      },
      [/^api\b.*\bhttp (\S+)/m, /^poller\b/m, /^ticket-writer\b/m, /^sync-applier\b/m],
      'lockstep up',
    );
    this.up = up.child;
    this.upLog = up.log;
    const [api] = await up.found;
    this.base = `http://${api[1].replace(/^https?:\/\//, '')}`;
    await reachable(`${this.base}/v1/openapi.json`, 'the api');
    return this;
  }

  async stop() {
    await stop(this.up);
    await stop(this.sim);
    if (this.database) psql(env.DATABASE_URL, `DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`);
  }

  /** A JSON API call with a bearer token (no CSRF needed), as a script or `curl` would make it. */
  async api(token, method, path, body) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  /** The emulator's control API (never faulted, no authentication). */
  async sim_(method, path, body) {
    const res = await fetch(`${this.simUrl}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`sim ${method} ${path}: HTTP ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
}
