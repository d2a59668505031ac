#!/usr/bin/env bash
# The ServiceNow segment of `make demo` (run by scripts/demo.sh, which starts the system and
# exports what scripts/demo/lib.sh describes). The model for other vendors' segments.
set -euo pipefail
# shellcheck source=scripts/demo/lib.sh
. "$DEMO_ROOT/scripts/demo/lib.sh"

secret="whsec_$(head -c 24 /dev/urandom | base64 | tr -d '\n')"
# The incident's state as the emulator holds it (the vendor's own record, not our copy).
incident_state() { sim GET "/_sim/servicenow/records/incident/$1" | jq -r .result.state; }
incident_count() { sim GET /_sim/servicenow/records/incident | jq '.result | length'; }
# How many of the emulator's webhook deliveries of incident $1's resolve had outcome $2 (and, when
# given, HTTP status $3 from ingest-webhook).
resolve_deliveries() {
  sim GET /_sim/webhooks/deliveries | jq --arg n "$1" --arg o "$2" --arg s "${3:-}" \
    '[.[] | select(.outcome == $o and ($s == "" or (.status | tostring) == $s))
          | .body | fromjson? | select(.number == $n and .state == "6")] | length'
}
# A ServiceNow user resolves an incident in the UI (the emulator's control API acts as them).
resolve_as_beth() {
  vendor "beth.anglin resolves $1 in ServiceNow (\"$2\")"
  sim_show POST /_sim/servicenow/act \
    "{\"user\": \"beth.anglin\", \"table\": \"incident\", \"record\": \"$1\", \"fields\": {\"state\": \"6\", \"close_code\": \"Solution provided\", \"close_notes\": \"$2\"}}"
}

step "1. create the integration and test its connection"
lockstep integrations create --name servicenow-demo --url "$DEMO_SIM_URL" \
  --username lockstep.integration --password lockstep.integration \
  --webhook-secret "$secret" --poll-interval "$DEMO_POLL_SECS"
integration="$(lockstep_json integrations list | jq -r '.[] | select(.name == "servicenow-demo") | .id')"
[ -n "$integration" ] || fail "the integration servicenow-demo is not listed"
lockstep integrations test "$integration"
ok "integration $integration created; connection test passed"
vendor "the ServiceNow admin installs the Lockstep app: business rules post signed webhooks to ingest-webhook"
sim_webhook_target servicenow "$integration" "\"secret\": \"$secret\""

step "2. import the scan"
scan="$(segment_scan servicenow)"
lockstep findings import "$scan"
imported="$(lockstep_json findings import "$scan")"
mapfile -t ids < <(jq -r '.findings[].id' <<<"$imported")
[ "${#ids[@]}" -eq 3 ] || fail "expected the scan's 3 findings, got ${#ids[@]}"
[ "$(jq .created <<<"$imported")" = 0 ] || fail "importing the scan again created findings"
ok "3 findings imported; importing the same scan again created none"
by_key() {
  jq -er --arg k "$1" '.findings[] | select(.scanner_key | startswith($k)) | .id' <<<"$imported" ||
    fail "no imported finding has the key $1"
}
# The critical one stays open longest: its priority-1 incident has an SLA to show in the workbench.
closed_by_us="$(by_key NES-19506)"
resolved_by_poll="$(by_key NES-42873)"
resolved_by_webhook="$(by_key NES-57582)"

step "3. preview the tickets (a dry run: nothing is sent)"
before="$(incident_count)"
lockstep tickets preview --integration "$integration" --assignment-group Network "$closed_by_us"
errors="$(lockstep_json tickets preview --integration "$integration" "${ids[@]}" |
  jq '[.[] | select(.error != "" or (.fields | length) == 0)] | length')"
[ "$errors" = 0 ] || fail "$errors of the previews carry an error or no fields"
[ "$(incident_count)" = "$before" ] || fail "the preview created incidents in ServiceNow"
ok "3 previews, no incident created in ServiceNow"

step "4. bulk-create the incidents"
lockstep tickets bulk --integration "$integration" "${ids[@]}"
declare -A key
for id in "${ids[@]}"; do
  key[$id]="$(finding_field "$id" '.tickets[] | select(.state == "live") | .key')" ||
    fail "finding $id has no live ticket after the bulk create"
  [ "$(incident_state "${key[$id]}")" = 1 ] || fail "${key[$id]} is not a New incident in ServiceNow"
done
ok "3 incidents in ServiceNow: ${key[*]}"
lockstep findings list --all

step "5. a resolve in ServiceNow reaches the finding by signed webhook"
incident=${key[$resolved_by_webhook]}
resolve_as_beth "$incident" "self-signed certificate replaced"
wait_for 20 "finding $resolved_by_webhook moved to re_test" finding_is "$resolved_by_webhook" re_test
[ "$(last_channel "$resolved_by_webhook")" = webhook ] || fail "the change did not arrive by webhook"
delivered="$(resolve_deliveries "$incident" delivered 202)"
[ "$delivered" -gt 0 ] || fail "no signed delivery of $incident was accepted (202) by ingest-webhook"
ok "delivered signed (Standard Webhooks), answered 202, applied with channel webhook"
lockstep findings activity "$resolved_by_webhook"

step "6. a dropped webhook: the change arrives by poll"
vendor "the network between ServiceNow and Lockstep loses the next webhooks"
sim_drop_webhooks 1
incident=${key[$resolved_by_poll]}
resolve_as_beth "$incident" "cipher suites restricted"
dropped="$(resolve_deliveries "$incident" dropped)"
[ "$dropped" -gt 0 ] || fail "the emulator did not drop the webhook of $incident"
ok "the webhook of $incident was dropped"
echo "waiting for the poller (this integration polls every $DEMO_POLL_SECS s)..."
wait_for $((DEMO_POLL_SECS + 30)) "finding $resolved_by_poll moved to re_test by poll" \
  finding_is "$resolved_by_poll" re_test
[ "$(last_channel "$resolved_by_poll")" = poll ] || fail "the change did not arrive by poll"
sim_drop_webhooks 0
lockstep findings activity "$resolved_by_poll"

step "7. the workbench: every linked ticket with its SLA"
lockstep tickets list --integration "$integration"
rows="$(lockstep_json tickets list --integration "$integration")"
[ "$(jq length <<<"$rows")" = 3 ] || fail "the workbench lists $(jq length <<<"$rows") tickets, not 3"
with_sla="$(jq '[.[] | select(.sla_due_at != "")] | length' <<<"$rows")"
[ "$with_sla" -gt 0 ] || fail "no ticket shows an SLA due time (read from task_sla by the poller)"
ok "3 tickets listed, $with_sla with an SLA due time from ServiceNow's task_sla"

step "8. close a finding in Lockstep: its incident is resolved in ServiceNow"
incident=${key[$closed_by_us]}
lockstep findings set-status "$closed_by_us" closed --note "fixed and re-tested"
resolved_in_sn() { [ "$(incident_state "$incident")" = 6 ]; }
wait_for 20 "$incident resolved in ServiceNow (state 6)" resolved_in_sn
sim GET "/_sim/servicenow/records/incident/$incident" |
  jq -r '.result | "ServiceNow: \(.number) state \(.state) (Resolved), close code \"\(.close_code)\", notes \"\(.close_notes)\""'
lockstep findings activity "$closed_by_us"
