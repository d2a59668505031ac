#!/usr/bin/env bash
# Every check a submission must pass: formatting, lints, all Rust tests against real PostgreSQL and
# NATS, and the emulator's conformance suites run with ServiceNow's and Jira's own Python clients
# and our own ServiceDesk Plus v3 suite (plain requests).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "vendor seam: no ServiceNow names outside its connector"
scripts/check-vendor-seam.sh

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test"
cargo test --workspace --no-fail-fast

if [ -x crates/itsm-sim/pysnc/run.sh ]; then
  step "itsm-sim conformance with pysnc"
  crates/itsm-sim/pysnc/run.sh
fi

if [ -x crates/itsm-sim/jira-conformance/run.sh ]; then
  step "itsm-sim conformance with the pycontribs jira client"
  crates/itsm-sim/jira-conformance/run.sh
fi

if [ -x crates/itsm-sim/sdp-conformance/run.sh ]; then
  step "itsm-sim conformance for ServiceDesk Plus v3 (requests, from the reference)"
  crates/itsm-sim/sdp-conformance/run.sh
fi

step "HTTP JSON API: schemathesis against /v1/openapi.json on real services"
scripts/test-http-api.sh

step "delivery: Helm chart, Dockerfile lint, ServiceNow app"
scripts/test-delivery.sh

step "web workbench: browser tests in Debian's Chromium (Playwright) against real services"
scripts/test-web.sh
