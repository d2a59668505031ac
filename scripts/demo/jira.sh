#!/usr/bin/env bash
# The Jira Cloud segment of `make demo` (run by scripts/demo.sh; helpers in scripts/demo/lib.sh).
# The emulator's seeded site: lockstep@example.com is the integration account (API token
# lockstep-token, America/New_York), priya@example.com a person working issues, admin@example.com
# the site admin who registers the webhook. Project VULN runs the "Security workflow"
# (Open → Triaged → Closed; closing needs a resolution on its screen).
set -euo pipefail
# shellcheck source=scripts/demo/lib.sh
. "$DEMO_ROOT/scripts/demo/lib.sh"

secret="$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')"
priya="712020:00000000-0000-4000-8000-000000000003"
lockstep_account="712020:00000000-0000-4000-8000-000000000002"
# The issue as the emulator holds it (the vendor's own record, not our copy).
issue_field() { sim GET "/_sim/jira/issues/$1" | jq -r "$2"; }
# Jira's REST API as a person or the site admin (Basic e-mail:token), e.g. to register a webhook.
jira_rest() {
  local who=$1 method=$2 path=$3 body=${4:-}
  local args=(-sS --fail-with-body --cacert "$DEMO_SIM_CA" -u "$who" -X "$method" "$DEMO_SIM_URL$path")
  [ -n "$body" ] && args+=(-H 'content-type: application/json' --data "$body")
  curl "${args[@]}" || fail "Jira refused $method $path"
}
# Priya performs a transition in Jira (the emulator's control API acts as her; webhooks fire).
transition_as_priya() {
  local fields=${4:-'{}'}
  vendor "Priya moves $1 in Jira: $3"
  sim_show POST /_sim/jira/act \
    "{\"account_id\": \"$priya\", \"method\": \"POST\", \"path\": \"issue/$1/transitions\", \"body\": {\"transition\": {\"id\": \"$2\"}, \"fields\": $fields}}"
}
# How many webhook deliveries about issue $1 had outcome $2.
issue_deliveries() {
  sim GET /_sim/webhooks/deliveries | jq --arg k "$1" --arg o "$2" \
    '[.[] | select(.outcome == $o) | .body | fromjson? | select(.issue.key == $k and .webhookEvent == "jira:issue_updated")] | length'
}

step "1. the Jira project, the integration and its connection test"
vendor "the Jira admin creates project VULN on the Security workflow and grants the integration account its permissions"
sim_show POST /_sim/jira/projects \
  "{\"key\": \"VULN\", \"name\": \"Vulnerabilities\", \"workflow\": \"Security workflow\", \"grants\": {\"$lockstep_account\": [\"browse\", \"create\", \"edit\", \"transition\", \"comment\", \"link\"], \"$priya\": [\"browse\", \"create\", \"edit\", \"transition\", \"comment\", \"link\"]}}"
lockstep integrations create --vendor jira --name jira-demo --url "$DEMO_SIM_URL" \
  --username lockstep@example.com --password lockstep-token --default-table VULN \
  --webhook-secret "$secret" --poll-interval "$DEMO_POLL_SECS"
integration="$(lockstep_json integrations list | jq -r '.[] | select(.name == "jira-demo") | .id')"
[ -n "$integration" ] || fail "the integration jira-demo is not listed"
lockstep integrations test "$integration"
ok "integration $integration created; connection test passed (account, project, permissions, issue type, priorities)"
vendor "the Jira site admin registers the admin webhook (JQL project = VULN) with the integration's secret"
jira_rest admin@example.com:admin-token POST /rest/webhooks/1.0/webhook \
  "{\"name\": \"lockstep\", \"url\": \"$DEMO_WEBHOOK_BASE/v1/webhooks/$integration\", \"events\": [\"jira:issue_created\", \"jira:issue_updated\"], \"filters\": {\"issue-related-events-section\": \"project = VULN\"}, \"secret\": \"$secret\"}" >/dev/null
ok "admin webhook registered: deliveries are signed X-Hub-Signature: sha256=…"

step "2. import the scan and bulk-create the issues (one /issue/bulk call)"
scan="$(segment_scan jira)"
imported="$(lockstep_json findings import "$scan")"
mapfile -t ids < <(jq -r '.findings[].id' <<<"$imported")
[ "${#ids[@]}" -eq 3 ] || fail "expected the scan's 3 findings, got ${#ids[@]}"
lockstep tickets bulk --integration "$integration" "${ids[@]}"
declare -A key
for id in "${ids[@]}"; do
  key[$id]="$(finding_field "$id" '.tickets[] | select(.state == "live") | .key')" ||
    fail "finding $id has no live ticket after the bulk create"
  [ "$(issue_field "${key[$id]}" .status_id)" = 1 ] || fail "${key[$id]} is not Open in Jira"
done
ok "3 issues in Jira: ${key[*]}, labelled lockstep-<finding id> so a retry never duplicates them"
sim POST /_sim/clock/advance '{"seconds": 2}' >/dev/null
by_webhook=${ids[0]} by_poll=${ids[1]} closed_by_us=${ids[2]}

step "3. Priya resolves an issue in Jira: the finding moves to re_test by signed webhook"
issue=${key[$by_webhook]}
transition_as_priya "$issue" 11 "Start triage"
transition_as_priya "$issue" 21 "Resolve (resolution Done)" '{"resolution": {"name": "Done"}}'
wait_for 20 "finding $by_webhook moved to re_test" finding_is "$by_webhook" re_test
[ "$(last_channel "$by_webhook")" = webhook ] || fail "the change did not arrive by webhook"
[ "$(issue_deliveries "$issue" delivered)" -gt 0 ] || fail "no delivery of $issue reached ingest-webhook"
ok "status category done → re_test, applied with channel webhook"
lockstep findings activity "$by_webhook"

step "4. a dropped webhook: the change arrives by the search/jql poll"
sim_drop_webhooks 1
issue=${key[$by_poll]}
transition_as_priya "$issue" 11 "Start triage"
[ "$(issue_deliveries "$issue" dropped)" -gt 0 ] || fail "the emulator did not drop the webhook of $issue"
echo "waiting for the poller (this integration polls every $DEMO_POLL_SECS s)..."
wait_for $((DEMO_POLL_SECS + 30)) "finding $by_poll moved to in_progress by poll" \
  finding_is "$by_poll" in_progress
[ "$(last_channel "$by_poll")" = poll ] || fail "the change did not arrive by poll"
sim_drop_webhooks 0
ok "Triaged (category indeterminate) → in_progress, applied with channel poll"

step "5. close a finding in Lockstep: its issue walks Open → Triaged → Closed with a resolution"
issue=${key[$closed_by_us]}
lockstep findings set-status "$closed_by_us" closed --note "fixed and re-tested"
closed_in_jira() { [ "$(issue_field "$issue" .status_id)" = 6 ]; }
wait_for 20 "$issue Closed in Jira" closed_in_jira
[ "$(issue_field "$issue" .resolution_id)" = 10000 ] || fail "$issue was closed without the resolution Done"
ok "$issue is Closed (two transitions, the screen's required resolution set to Done) with a comment"
lockstep findings activity "$closed_by_us"
lockstep tickets list --integration "$integration"
