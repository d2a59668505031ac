#!/usr/bin/env bash
# `make bench`: every benchmark, each printing its figures beside a baseline measured in the same run.
# Benchmarks are bounded in time and talk only to loopback servers they start themselves.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

run_bench() { # package bench title
  printf '\n== %s ==\n' "$3"
  if cargo metadata --format-version 1 --no-deps | python3 -c "
import json, sys
meta = json.load(sys.stdin)
sys.exit(0 if any(t['name'] == '$2' and 'bench' in t['kind'] for p in meta['packages'] if p['name'] == '$1' for t in p['targets']) else 1)
"; then
    cargo bench --quiet -p "$1" --bench "$2"
  else
    echo "not built yet: $1 has no bench $2"
  fi
}

run_bench lockstep-itsm-sim sim_throughput "itsm-sim: reads/s and writes/s of the ServiceNow emulator"
run_bench lockstep-ticket-writer bulk_create "ticket-writer: bulk creation of 500 findings at 50 ms vendor latency"
run_bench lockstep-poller poll_cycle "poller: one cycle over many integrations, 1% changed"
run_bench lockstep-connectors jira "Jira Cloud: bulk creation of 500 at 50 ms via /issue/bulk, search/jql requests vs changed issues"
run_bench lockstep-connectors sdp "ServiceDesk Plus: bulk creation of 500 at 50 ms (no bulk endpoint), feed requests vs changed requests"
run_bench lockstep-api tickets_page "api: the Tickets page over 100,000 links, HTTP JSON vs gRPC"
if [ -x scripts/bench-inbound.sh ]; then
  printf '\n== inbound: webhooks/s, applied events/s and latency vs raw JetStream ==\n'
  scripts/bench-inbound.sh
else
  printf '\n== inbound ==\nnot built yet: scripts/bench-inbound.sh does not exist\n'
fi
