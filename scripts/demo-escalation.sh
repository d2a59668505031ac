#!/usr/bin/env bash
# Demo segment: escalation over gRPC. Imports sample scans, creates a ServiceNow integration against
# the emulator (itsm-sim over HTTPS), tests it, previews the tickets (nothing sent), bulk-creates
# them, shows the findings with their ticket keys, then closes one finding and shows its incident
# resolved by the outbound status push.
#
# Needs DATABASE_URL and NATS_URL (scripts/with-services.sh provides them) and built binaries
# (`cargo build --bins`). Everything it starts is stopped on exit; its database is dropped.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
: "${DATABASE_URL:?DATABASE_URL must be set (run through scripts/with-services.sh)}"
: "${NATS_URL:?NATS_URL must be set (run through scripts/with-services.sh)}"

bin="$root/target/debug"
[ -x "$bin/lockstep" ] && [ -x "$bin/itsm-sim" ] || cargo build --quiet -p lockstep-cli -p lockstep-itsm-sim
work="$(mktemp -d)"
suffix="$(date +%s)$$"
demo_db="lockstep_demo_${suffix}"
pids=()
cleanup() {
  status=$?
  if [ "$status" -ne 0 ] && [ -f "$work/up.log" ]; then
    echo "--- lockstep up log (last lines) ---"; tail -n 30 "$work/up.log"
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$DATABASE_URL" -q -c "DROP DATABASE IF EXISTS ${demo_db}" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n\033[36m$ %s\033[0m\n' "$*"; }

# A database of its own, so the demo never touches anything else.
psql "$DATABASE_URL" -q -c "CREATE DATABASE ${demo_db}" >/dev/null
db_url="${DATABASE_URL%/*}/${demo_db}"

# The ServiceNow emulator over HTTPS; its first stdout line names its URL.
"$bin/itsm-sim" --tls --ca-out "$work/ca.pem" >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
sim_url="$(sed -n 's/^itsm-sim listening on //p' "$work/sim.out" | head -n1)"
[ -n "$sim_url" ] || { echo "itsm-sim did not start"; cat "$work/sim.err"; exit 1; }
echo "ServiceNow emulator: $sim_url"

export LOCKSTEP_DATABASE__URL="$db_url"
export LOCKSTEP_NATS__URL="$NATS_URL"
export LOCKSTEP_NATS__SUBJECT_PREFIX="demo${suffix}"
export LOCKSTEP_MASTER_KEYS="demo:$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
export LOCKSTEP_VENDOR_HTTP__CA_FILES="[\"$work/ca.pem\"]"
# The emulator listens on loopback; vendor connections reach it only because this allow-list says so.
export LOCKSTEP_VENDOR_HTTP__ALLOW_PRIVATE_NETWORKS='["127.0.0.0/8", "::1/128"]'
export LOCKSTEP_TELEMETRY__FORMAT=pretty
export LOCKSTEP_TELEMETRY__FILTER=warn
export LOCKSTEP_API_URL="http://127.0.0.1:50051"
export LOCKSTEP_WRITER_URL="http://127.0.0.1:50052"

step "lockstep admin bootstrap --tenant-name demo"
eval "$("$bin/lockstep" admin bootstrap --tenant-name demo)"
export LOCKSTEP_TOKEN
echo "tenant $LOCKSTEP_TENANT, admin token ${LOCKSTEP_TOKEN:0:8}… (only its hash is stored)"

step "lockstep up --only api --only ticket-writer &"
"$bin/lockstep" up --only api --only ticket-writer >"$work/up.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 150); do
  "$bin/lockstep" integrations list >/dev/null 2>&1 && break
  sleep 0.2
done
grep -E "grpc|running" "$work/up.log" || { cat "$work/up.log"; exit 1; }

step "lockstep findings import deploy/demo/scan.json"
"$bin/lockstep" findings import deploy/demo/scan.json
step "lockstep findings import deploy/demo/scan.sarif"
"$bin/lockstep" findings import deploy/demo/scan.sarif

step "lockstep integrations create --name servicenow-demo --url $sim_url --username lockstep.integration --password ***"
integration="$("$bin/lockstep" integrations create --name servicenow-demo --url "$sim_url" \
  --username lockstep.integration --password lockstep.integration -o json | jq -r '.[0].id')"
"$bin/lockstep" integrations get "$integration"

step "lockstep integrations test $integration"
"$bin/lockstep" integrations test "$integration"

step "lockstep mappings show $integration"
"$bin/lockstep" mappings show "$integration"

critical="$("$bin/lockstep" findings list --severity critical -o json | jq -r '.[0].id')"
step "lockstep tickets preview --integration $integration --assignment-group 'Network' $critical"
"$bin/lockstep" tickets preview --integration "$integration" --assignment-group "Network" "$critical"

step "lockstep tickets bulk --integration $integration --status open"
"$bin/lockstep" tickets bulk --integration "$integration" --status open

step "lockstep tickets bulk --integration $integration --status open   (again: nothing is duplicated)"
"$bin/lockstep" tickets bulk --integration "$integration" --status open 2>&1 | tail -n 1

step "lockstep findings list --all"
"$bin/lockstep" findings list --all

step "lockstep findings set-status $critical closed --note 'fixed and re-tested'"
"$bin/lockstep" findings set-status "$critical" closed --note "fixed and re-tested" >/dev/null
key="$("$bin/lockstep" findings get "$critical" -o json | jq -r '.tickets[0].key')"
for _ in $(seq 1 50); do
  state="$("$bin/lockstep" findings get "$critical" -o json | jq -r '.tickets[0].vendor_state')"
  [ "$state" = "6" ] && break
  sleep 0.2
done
echo "incident $key is now in ServiceNow state ${state} (6 = Resolved) with the configured close code"
step "lockstep findings activity $critical"
"$bin/lockstep" findings activity "$critical"
