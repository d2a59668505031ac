// A resolved incident, as the business rule sees it after the save (values as getValue() returns them).
export const INCIDENT = {
  sys_id: '9d3c2b1a0f9e8d7c6b5a493827161504',
  number: 'INC0010042',
  state: '6',
  incident_state: '6',
  close_code: 'Solution provided',
  correlation_id: 'lockstep:0199f3c2-7a41-7c2e-9d1b-5f0e8b6a2c11',
  correlation_display: 'Lockstep',
  sys_updated_on: '2026-07-29 09:12:05',
  sys_mod_count: '3',
  sys_updated_by: 'beth.anglin',
  short_description: 'CVE-2026-1234 on web-01 — Störung',
  priority: '3',
  impact: '2',
  urgency: '2',
  active: 'true',
  resolved_at: '2026-07-29 09:12:05',
};
