#!/usr/bin/env bash
# `make demo`: one story on one running system. One `lockstep up` (every service, configured by
# deploy/demo/lockstep.toml plus the environment, as a user runs it) against one `itsm-sim` process
# serving every vendor it emulates, driven by the `lockstep` CLI; actions on the vendor's side go
# through the emulator's control API and are shown as such ("[vendor side]"). Every step is checked
# and waited for with a bounded timeout: a step that does not happen stops the demo with a message
# naming it and a non-zero exit. Everything it starts is stopped on exit; its database is dropped.
#
# The story is told once per vendor, by a segment: scripts/demo/<vendor>.sh, where <vendor> is a
# name the emulator lists in GET /_sim/info (servicenow, jira, sdp). A vendor whose segment file
# does not exist is named as having none; nothing pretends.
#
# Adding a vendor's segment = adding ONE file, scripts/demo/<vendor>.sh (scripts/demo/servicenow.sh
# is the model). It runs as its own bash process with the environment below, sources
# scripts/demo/lib.sh (step, ok, fail, wait_for, the `lockstep` and `sim*` helpers, segment_scan)
# and tells the same story for its vendor:
#   1. create the integration (`--poll-interval "$DEMO_POLL_SECS"`) and test its connection;
#      point the emulator's webhooks for the vendor at ingest-webhook (sim_webhook_target);
#   2. import its own findings (`lockstep findings import "$(segment_scan <vendor>)"`);
#   3. preview (nothing sent: check the emulator holds no new ticket), 4. bulk-create;
#   5. resolve a ticket on the vendor side, arriving by signed webhook (channel webhook);
#   6. drop the webhooks (sim_drop_webhooks 1), resolve another ticket, see it arrive by poll
#      (channel poll), then sim_drop_webhooks 0;
#   7. the workbench (`lockstep tickets list --integration ...`) with the SLA where the vendor has one;
#   8. close a finding with the CLI and see its ticket closed in the emulator.
# Segments run one after another, each on findings of its own, so they never depend on each other.
#
# Needs DATABASE_URL and NATS_URL (scripts/with-services.sh provides them), jq, curl and psql.
set -euo pipefail
DEMO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEMO_ROOT
cd "$DEMO_ROOT"
: "${DATABASE_URL:?DATABASE_URL must be set (run through scripts/with-services.sh)}"
: "${NATS_URL:?NATS_URL must be set (run through scripts/with-services.sh)}"
# shellcheck source=scripts/demo/lib.sh
. scripts/demo/lib.sh

banner "Building lockstep and itsm-sim"
build_start=$SECONDS
cargo build --quiet --locked -p lockstep-cli -p lockstep-itsm-sim --bins
echo "built in $((SECONDS - build_start)) s"
demo_start=$SECONDS

export DEMO_BIN="${CARGO_TARGET_DIR:-$DEMO_ROOT/target}/debug"
DEMO_WORK="$(mktemp -d)"
export DEMO_WORK DEMO_POLL_SECS=30
suffix="$(date +%s)$$"
demo_db="lockstep_demo_${suffix}"
up_pid='' sim_pid=''

# Stops what the demo started, by process id, and waits (bounded) for each to exit.
stop() {
  local pid=$1 _
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  echo "process $pid did not stop within 10 s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -s "$DEMO_WORK/up.log" ]; then
    echo "--- lockstep up, last log lines ---" >&2
    tail -n 30 "$DEMO_WORK/up.log" >&2
  fi
  stop "$up_pid"
  stop "$sim_pid"
  psql "$DATABASE_URL" -q -c "DROP DATABASE IF EXISTS ${demo_db} WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$DEMO_WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

DEMO_SEGMENT=system
banner "Starting one system: itsm-sim (every emulated vendor) and lockstep up (every service)"

step "a database of its own (dropped at the end)"
psql "$DATABASE_URL" -q -c "CREATE DATABASE ${demo_db}" >/dev/null || fail "cannot create database ${demo_db}"
ok "database ${demo_db}"

step "itsm-sim --tls (one process, every vendor it emulates)"
printf '%s$ itsm-sim --tls --ca-out itsm-sim-ca.pem &%s\n' "$_cyan" "$_off"
"$DEMO_BIN/itsm-sim" --tls --ca-out "$DEMO_WORK/itsm-sim-ca.pem" >"$DEMO_WORK/sim.out" 2>"$DEMO_WORK/sim.err" &
sim_pid=$!
wait_for 10 "the emulator listening" grep -q "listening on" "$DEMO_WORK/sim.out"
export DEMO_SIM_URL DEMO_SIM_CA="$DEMO_WORK/itsm-sim-ca.pem"
DEMO_SIM_URL="$(sed -n 's/^itsm-sim listening on //p' "$DEMO_WORK/sim.out" | head -n1)"
vendors="$(sim GET /_sim/info | jq -r '.vendors[]')"
echo "itsm-sim listening on $DEMO_SIM_URL, emulating: ${vendors//$'\n'/ }"

step "lockstep up (configuration: deploy/demo/lockstep.toml, then LOCKSTEP_* variables)"
# What a user keeps in a file is in deploy/demo/lockstep.toml; what differs per machine or is
# secret comes from the environment, as it would in production.
export LOCKSTEP_CONFIG="$DEMO_ROOT/deploy/demo/lockstep.toml"
export LOCKSTEP_DATABASE__URL="${DATABASE_URL%/*}/${demo_db}"
export LOCKSTEP_NATS__URL="$NATS_URL"
export LOCKSTEP_NATS__SUBJECT_PREFIX="demo${suffix}"
printf 'demo:%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '\n')" >"$DEMO_WORK/master-keys"
export LOCKSTEP_MASTER_KEYS_FILE="$DEMO_WORK/master-keys"
export LOCKSTEP_VENDOR_HTTP__CA_FILES="[\"$DEMO_SIM_CA\"]"
# Free ports chosen by the system, so the demo never collides with anything already listening;
# `lockstep up` prints where each service landed.
for svc in API TICKET_WRITER POLLER INGEST_WEBHOOK; do
  export "LOCKSTEP_UP__${svc}__LISTEN=127.0.0.1:0" "LOCKSTEP_UP__${svc}__ADMIN=127.0.0.1:0"
done
export LOCKSTEP_UP__SYNC_APPLIER__ADMIN=127.0.0.1:0

printf '%s$ lockstep admin bootstrap --tenant-name demo%s\n' "$_cyan" "$_off"
boot="$("$DEMO_BIN/lockstep" admin bootstrap --tenant-name demo)" || fail "bootstrap failed"
eval "$boot"
export LOCKSTEP_TOKEN
echo "LOCKSTEP_TENANT=$LOCKSTEP_TENANT"
echo "LOCKSTEP_TOKEN=${LOCKSTEP_TOKEN:0:8}… (shown once; only its hash is stored)"

printf '%s$ lockstep up &%s\n' "$_cyan" "$_off"
"$DEMO_BIN/lockstep" up >"$DEMO_WORK/up.log" 2>&1 &
up_pid=$!
up_running() {
  kill -0 "$up_pid" 2>/dev/null || fail "lockstep up exited: $(tail -n 5 "$DEMO_WORK/up.log")"
  grep -q "all services running" "$DEMO_WORK/up.log"
}
wait_for 60 "every service running" up_running
grep -E '^(api|ticket-writer|ingest-webhook|sync-applier|poller) ' "$DEMO_WORK/up.log"
# addr SERVICE KIND: where `lockstep up` says the service listens.
addr() {
  local at
  at="$(sed -n "s/^$1 *$2 \([^ ]*\).*/\1/p" "$DEMO_WORK/up.log" | head -n1)"
  [ -n "$at" ] || fail "lockstep up did not say where $1 listens ($2)"
  printf 'http://%s' "$at"
}
LOCKSTEP_API_URL="$(addr api grpc)"
LOCKSTEP_WRITER_URL="$(addr ticket-writer grpc)"
LOCKSTEP_POLLER_URL="$(addr poller grpc)"
DEMO_WEBHOOK_BASE="$(addr ingest-webhook http)"
export LOCKSTEP_API_URL LOCKSTEP_WRITER_URL LOCKSTEP_POLLER_URL DEMO_WEBHOOK_BASE
wait_for 30 "the api answering" "$DEMO_BIN/lockstep" integrations list

ran=() missing=()
for vendor in $vendors; do
  if [ -f "scripts/demo/$vendor.sh" ]; then
    banner "$vendor"
    DEMO_STEP="the $vendor segment"
    DEMO_SEGMENT=$vendor bash "scripts/demo/$vendor.sh" || fail "the $vendor segment failed (see above)"
    ran+=("$vendor")
  else
    missing+=("$vendor")
  fi
done

DEMO_SEGMENT=system
banner "Done in $((SECONDS - demo_start)) s (after the build)"
echo "vendor segments shown: ${ran[*]:-none}"
for vendor in "${missing[@]}"; do
  echo "no demo segment yet for $vendor: the emulator serves it, but scripts/demo/$vendor.sh does not exist"
done
[ "${#ran[@]}" -gt 0 ] || fail "no vendor segment ran"
