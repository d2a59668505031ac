#!/usr/bin/env bash
# The HTTP JSON API against its own OpenAPI document (/v1/openapi.json) with schemathesis, run by
# scripts/test.sh. Real services: `lockstep up --only api --only ticket-writer --only poller` on a
# fresh database (migrated and bootstrapped by `lockstep admin bootstrap`) and a private NATS
# subject prefix, every listener on a free port. A bounded number of cases per operation
# (HTTP_API_CASES, default 25). Checks: no 5xx, responses match the schema (status codes, content
# types, bodies, headers), and every operation that needs a credential refuses a request without
# one (schemathesis' ignored_auth: 401). scripts/http-api-hooks.py serializes the streamed import's
# application/x-ndjson bodies. schemathesis comes from PyPI, pinned in
# scripts/http-api-requirements.txt, installed once into .tools/http-api-venv.
# Needs DATABASE_URL and NATS_URL (scripts/with-services.sh provides them) and psql.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/http-api-venv"
requirements="$root/scripts/http-api-requirements.txt"
stamp="$venv/.requirements"
: "${DATABASE_URL:?set DATABASE_URL (scripts/with-services.sh does)}"
: "${NATS_URL:?set NATS_URL (scripts/with-services.sh does)}"

if [ ! -x "$venv/bin/st" ] || ! cmp -s "$requirements" "$stamp"; then
  echo "installing schemathesis into .tools/http-api-venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi

cd "$root"
cargo build --quiet -p lockstep-cli
bin="${CARGO_TARGET_DIR:-$root/target}/debug/lockstep"

suffix="$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
db="lockstep_http_${suffix}"
db_url="$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$DATABASE_URL" "$db")"
work="$(mktemp -d)"
up_pid=""
cleanup() {
  if [ -n "$up_pid" ]; then
    kill "$up_pid" 2>/dev/null || true
    wait "$up_pid" 2>/dev/null || true
  fi
  psql "$DATABASE_URL" -q -c "DROP DATABASE IF EXISTS ${db} WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE ${db}" >/dev/null
token="$("$bin" -o json admin bootstrap --database-url "$db_url" --tenant-name schemathesis \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
printf 'k1:%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '\n')" >"$work/master-keys"

LOCKSTEP_DATABASE__URL="$db_url" \
LOCKSTEP_NATS__URL="$NATS_URL" \
LOCKSTEP_NATS__SUBJECT_PREFIX="http${suffix}" \
LOCKSTEP_MASTER_KEYS_FILE="$work/master-keys" \
LOCKSTEP_UP__API__LISTEN=127.0.0.1:0 LOCKSTEP_UP__API__ADMIN=127.0.0.1:0 LOCKSTEP_UP__API__HTTP=127.0.0.1:0 \
LOCKSTEP_UP__TICKET_WRITER__LISTEN=127.0.0.1:0 LOCKSTEP_UP__TICKET_WRITER__ADMIN=127.0.0.1:0 \
LOCKSTEP_UP__POLLER__LISTEN=127.0.0.1:0 LOCKSTEP_UP__POLLER__ADMIN=127.0.0.1:0 \
LOCKSTEP_TELEMETRY__FILTER=warn \
  "$bin" up --only api --only ticket-writer --only poller >"$work/up.log" 2>&1 &
up_pid=$!

http=""
for _ in $(seq 1 600); do
  http="$(sed -nE 's/^api .* http ([0-9.:]+).*/\1/p' "$work/up.log" | head -1)"
  [ -n "$http" ] && break
  kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.log" >&2; echo "lockstep up exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$http" ] || { cat "$work/up.log" >&2; echo "lockstep up printed no http address" >&2; exit 1; }
echo "HTTP API at http://$http (lockstep up log: $work/up.log)"

SCHEMATHESIS_HOOKS="$root/scripts/http-api-hooks.py" \
"$venv/bin/st" run "http://$http/v1/openapi.json" \
  --wait-for-schema 30 \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,ignored_auth \
  --phases examples,coverage,fuzzing \
  --max-examples "${HTTP_API_CASES:-25}" \
  --seed 19 \
  --workers 2 \
  --request-timeout 30 \
  --generation-database none \
  --no-color \
  || { echo "--- lockstep up log (last 50 lines) ---" >&2; tail -50 "$work/up.log" >&2; exit 1; }
