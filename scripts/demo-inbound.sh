#!/usr/bin/env bash
# The inbound segment of `make demo`: the ServiceNow emulator, ingest-webhook and sync-applier run
# in one process (lockstep-stories' demo-inbound example) against the PostgreSQL and NATS that
# scripts/with-services.sh provides (DATABASE_URL / NATS_URL, else .run/env). A fresh database and a
# private subject prefix are used and removed afterwards. Shows a ServiceNow-side resolve reaching
# the finding as re_test, then, with auto-close on, as closed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
RUST_LOG="${RUST_LOG:-warn}" OTEL_SDK_DISABLED=true \
  cargo run --quiet --locked -p lockstep-stories --example demo-inbound
