#!/usr/bin/env bash
# The ServiceDesk Plus segment of `make demo` (run by scripts/demo.sh; helpers in
# scripts/demo/lib.sh). The emulator's on-premises portal `itdesk` (the one behind /api/v3/):
# lockstep@itdesk.example.com is the integration technician (API key below), ravi@… a technician
# working requests, admin@… the SDAdmin who configures the webhook. SDP signs nothing: the
# webhook carries the integration's secret in an X-Lockstep-Token header.
set -euo pipefail
# shellcheck source=scripts/demo/lib.sh
. "$DEMO_ROOT/scripts/demo/lib.sh"

secret="$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')"
api_key="A1B2C3D4-0000-4000-8000-0000000LOCK"
# A request as SDP holds it (the vendor's own record), as the SDAdmin reads it.
sdp_act() {
  local who=$1 method=$2 path=$3 input=${4:-null}
  sim POST /_sim/sdp/act \
    "{\"portal\": \"itdesk\", \"email_id\": \"$who@itdesk.example.com\", \"method\": \"$method\", \"path\": \"$path\", \"input_data\": $input}"
}
request_field() { sdp_act admin GET "requests/$1" | jq -r ".body.request$2"; }
# Ravi moves a request to a status in SDP (the emulator's control API acts as him; webhooks fire).
status_as_ravi() {
  vendor "Ravi sets request $1 to $2 in ServiceDesk Plus"
  sdp_act ravi PUT "requests/$1" "{\"request\": {\"status\": {\"name\": \"$2\"}}}" >/dev/null
}

step "1. the integration (technician API key), its connection test and the closing rule"
lockstep integrations create --vendor manageengine --name sdp-demo --url "$DEMO_SIM_URL" \
  --api-key "$api_key" --webhook-secret "$secret" --poll-interval "$DEMO_POLL_SECS"
integration="$(lockstep_json integrations list | jq -r '.[] | select(.name == "sdp-demo") | .id')"
[ -n "$integration" ] || fail "the integration sdp-demo is not listed"
lockstep integrations test "$integration"
ok "integration $integration created; connection test passed (portal, key, lookups, write permission, template)"
lockstep_json mappings show "$integration" |
  jq '.request.outbound |= map(if .status == "closed" then .state = "Closed" | .close_code = "Success" else . end)' \
    >"$DEMO_WORK/sdp-rules.json"
lockstep mappings set "$integration" --file "$DEMO_WORK/sdp-rules.json"
ok "a closed finding closes its request with closure code Success (checked against the instance's statuses and closure codes)"
vendor "the SDAdmin configures the webhook: our URL, our payload template, header X-Lockstep-Token"
sim_show POST /_sim/sdp/webhooks \
  "{\"portal\": \"itdesk\", \"url\": \"$DEMO_WEBHOOK_BASE/v1/webhooks/$integration\", \"header_name\": \"X-Lockstep-Token\", \"header_value\": \"$secret\"}"
ok "webhook configured (SDP signs nothing; the token header is the proof)"

step "2. import the scan and create the requests (no bulk endpoint: a bounded parallel loop)"
scan="$(segment_scan sdp)"
imported="$(lockstep_json findings import "$scan")"
mapfile -t ids < <(jq -r '.findings[].id' <<<"$imported")
[ "${#ids[@]}" -eq 3 ] || fail "expected the scan's 3 findings, got ${#ids[@]}"
lockstep tickets bulk --integration "$integration" "${ids[@]}"
declare -A req
for id in "${ids[@]}"; do
  req[$id]="$(finding_field "$id" '.tickets[] | select(.state == "live") | .external_id')" ||
    fail "finding $id has no live request after the bulk create"
  [ "$(request_field "${req[$id]}" .status.name)" = Open ] || fail "request ${req[$id]} is not Open in SDP"
  request_field "${req[$id]}" .description | grep -q "lockstep:$id" ||
    fail "request ${req[$id]} does not carry the correlation id of finding $id"
done
ok "3 requests in SDP: ${req[*]}, each with its correlation id, so a retry never duplicates them"
sim POST /_sim/clock/advance '{"seconds": 2}' >/dev/null
by_webhook=${ids[0]} by_poll=${ids[1]} closed_by_us=${ids[2]}

step "3. Ravi resolves a request in SDP: the finding moves to re_test by webhook"
status_as_ravi "${req[$by_webhook]}" Resolved
wait_for 20 "finding $by_webhook moved to re_test" finding_is "$by_webhook" re_test
[ "$(last_channel "$by_webhook")" = webhook ] || fail "the change did not arrive by webhook"
ok "status Resolved (a Completed status) → re_test, applied with channel webhook"
lockstep findings activity "$by_webhook"

step "4. a dropped webhook: the change arrives by the last_updated_time poll"
sim_drop_webhooks 1
status_as_ravi "${req[$by_poll]}" "On Hold"
echo "waiting for the poller (this integration polls every $DEMO_POLL_SECS s)..."
wait_for $((DEMO_POLL_SECS + 30)) "finding $by_poll moved to in_progress by poll" \
  finding_is "$by_poll" in_progress
[ "$(last_channel "$by_poll")" = poll ] || fail "the change did not arrive by poll"
sim_drop_webhooks 0
ok "On Hold → in_progress, applied with channel poll"

step "5. close a finding in Lockstep: its request is closed with closure code Success"
request=${req[$closed_by_us]}
lockstep findings set-status "$closed_by_us" closed --note "fixed and re-tested"
closed_in_sdp() { [ "$(request_field "$request" .status.name)" = Closed ]; }
wait_for 20 "request $request Closed in SDP" closed_in_sdp
[ "$(request_field "$request" .closure_info.closure_code.name)" = Success ] ||
  fail "request $request was closed without the closure code Success"
ok "request $request is Closed through _close, closure code Success, with a note for the technicians"
lockstep findings activity "$closed_by_us"
lockstep tickets list --integration "$integration"
