// The JSON API under /v1 (docs/http-api.md): the session cookie authenticates, the CSRF token
// goes with every state-changing request, errors are problem+json whose `detail` says what to do.

export type Role = 'admin' | 'analyst' | 'viewer';

export interface Session {
  tenant_id: string;
  role: Role;
  name: string;
  csrf_token: string;
  expires_at: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly retryAfterSecs: number | null,
  ) {
    super(detail);
  }
}

let current: Session | null = null;

export function session(): Session | null {
  return current;
}

const RANK: Record<Role, number> = { viewer: 0, analyst: 1, admin: 2 };

/** Whether the signed-in role may do what `needed` may (the server refuses anyway). */
export function can(needed: Role): boolean {
  return current !== null && RANK[current.role] >= RANK[needed];
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && current) headers['X-CSRF-Token'] = current.csrf_token;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `The server did not answer (${String(e)}). Check the connection and try again.`, null);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const p = (json ?? {}) as { detail?: string; title?: string; code?: string; retry_after_secs?: number };
    const retry = p.retry_after_secs ?? (Number(res.headers.get('Retry-After')) || null);
    const err = new ApiError(res.status, p.code ?? String(res.status), p.detail ?? p.title ?? (text || res.statusText), retry);
    if (res.status === 401 && path !== '/v1/session') onSignedOut?.();
    throw err;
  }
  return json as T;
}

export const get = <T>(path: string) => request<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}) => request<T>('POST', path, body);

/** Called when the server no longer knows the session (expired, token revoked). */
let onSignedOut: (() => void) | null = null;
export function whenSignedOut(f: () => void): void {
  onSignedOut = f;
}

export async function loadSession(): Promise<Session | null> {
  try {
    current = await get<Session>('/v1/session');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) current = null;
    else throw e;
  }
  return current;
}

export async function signIn(token: string): Promise<Session> {
  current = await request<Session>('POST', '/v1/session', { token });
  return current;
}

export async function signOut(): Promise<void> {
  try {
    await request<void>('DELETE', '/v1/session');
  } finally {
    current = null;
  }
}

export function query(params: Record<string, string | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) if (one !== '') q.append(k, one);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// --- shapes (docs/http-api.md) ---

export interface TicketLink {
  id: string;
  finding_id: string;
  integration_id: string;
  integration_name: string;
  vendor: string;
  table_or_project: string;
  external_id: string;
  key: string;
  url: string;
  state: string;
  failure_reason: string;
  vendor_state: string;
  sla_breached: boolean;
  sla_due_time: string | null;
}

export interface LinkedTicket {
  link_id: string;
  finding_id: string;
  finding_title: string;
  scanner_key: string;
  asset: string;
  severity: string;
  finding_status: string;
  integration_id: string;
  integration_name: string;
  vendor: string;
  table_or_project: string;
  external_id: string;
  ticket_key: string;
  deep_link: string;
  finding_link: string;
  vendor_state: string;
  sla_due_at: string | null;
  sla_breached: boolean;
  overdue_secs: number;
  last_synced_at: string | null;
  last_sync_channel: string;
  sync_error: string;
}

export interface ResyncResult {
  integration_id: string;
  ok: boolean;
  tickets_changed: number;
  tickets_read: number;
  error: string;
}

/** The answer of re-syncing one ticket (POST /v1/tickets/{link_id}/resync). */
export interface TicketResync {
  link_id: string;
  finding_id: string;
  integration_id: string;
  ticket_key: string;
  /** current: nothing new; applied: changed and applied before the answer; published: changed, applying. */
  outcome: 'current' | 'applied' | 'published';
  vendor_state: string;
  vendor_state_label: string;
  vendor_version: string;
  finding_status: string;
  last_sync_channel: string;
}

export interface Finding {
  id: string;
  scanner_key: string;
  title: string;
  description: string;
  severity: string;
  status: string;
  asset: string;
  cve: string;
  cwe: number;
  scanner: string;
  first_seen_time: string | null;
  last_seen_time: string | null;
  tickets: TicketLink[];
}

export interface Settings {
  auto_close_on_resolve: boolean;
  default_table: string;
  poll_interval_secs: number;
  allow_unsigned: boolean;
}

export interface Integration {
  id: string;
  vendor: string;
  name: string;
  base_url: string;
  auth_kind: string;
  credentials_set: boolean;
  credentials_fingerprint: string;
  webhook_secret_set: boolean;
  settings: Settings;
  active: boolean;
  credentials_rotate_time: string | null;
}

export interface FieldValues {
  impact: string;
  urgency: string;
  priority: string;
  category: string;
  assignment_group: string;
  assignee: string;
  summary_template: string;
}

export interface Preset {
  id: string;
  name: string;
  fields: FieldValues;
}

export interface TicketSpec {
  integration_id: string;
  table: string;
  mode: string;
  related_ticket: string;
  labels: string[];
  reporter: string;
  preset: string;
  fields: FieldValues;
}

export interface TicketResult {
  finding_id: string;
  outcome: 'created' | 'already_linked' | 'failed';
  link: TicketLink | null;
  error_code: string;
  error_message: string;
}

export interface Preview {
  finding_id: string;
  fields: Array<{ field: string; value: string; source: string }>;
  existing: TicketLink | null;
  error: string;
}

export interface VendorField {
  name: string;
  label: string;
  required: boolean;
  kind: string;
  choices: Array<{ value: string; label: string }>;
}

/** Every integration of the tenant (the API pages them; tenants hold few). */
export async function allIntegrations(): Promise<Integration[]> {
  const out: Integration[] = [];
  let cursor = '';
  do {
    const page = await get<{ integrations: Integration[]; next_cursor: string }>(
      `/v1/integrations${query({ page_size: '200', cursor })}`,
    );
    out.push(...page.integrations);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

export function message(e: unknown): string {
  if (e instanceof ApiError) return e.status === 404 ? `Not found: ${e.detail}` : e.detail;
  return e instanceof Error ? e.message : String(e);
}
