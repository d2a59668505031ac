#!/usr/bin/env bash
# The ServiceNow app's checks (run by scripts/test-delivery.sh, itself a step of `make test`):
#  1. dist/lockstep-update-set.xml is exactly what build/update-set.mjs makes from src/ and app.json;
#  2. the app's JavaScript under Node's test runner against the Glide stand-in (test/*.test.mjs),
#     including the live test: the business rule's request POSTed to a real ingest-webhook started
#     with `lockstep up` (needs DATABASE_URL and NATS_URL, as `make test` provides, and psql).
# The update set's well-formedness is checked by test/test_update_set.py (pytest, same step).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

if ! command -v node >/dev/null; then
  echo "node (Node.js 20 or later) is needed for the ServiceNow app's tests" >&2
  exit 1
fi

for var in DATABASE_URL NATS_URL; do
  if [ -z "${!var:-}" ]; then
    echo "$var is not set: run through make test (scripts/with-services.sh) or make services-up" >&2
    exit 1
  fi
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
node "$here/build/update-set.mjs" "$tmp/update-set.xml" >/dev/null
if ! cmp -s "$tmp/update-set.xml" "$here/dist/lockstep-update-set.xml"; then
  echo "servicenow/dist/lockstep-update-set.xml is stale: run node servicenow/build/update-set.mjs" >&2
  exit 1
fi

(cd "$root" && cargo build --quiet -p lockstep-cli --bin lockstep)
export LOCKSTEP_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/lockstep"
cd "$here"
node --test test/*.test.mjs
