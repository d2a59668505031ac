#!/usr/bin/env bash
# The inbound benchmark: ingest-webhook and sync-applier against their JetStream baselines, with
# `sync_interval: always` and with the default, each on a private loopback nats-server (the pinned
# binary in .tools/) that the benchmark starts and stops itself; PostgreSQL from DATABASE_URL or
# .run/env (a fresh database, dropped afterwards). Bounded: BENCH_EVENTS (20,000) events per
# throughput figure, BENCH_SECONDS (4) s at BENCH_RATE (1000) events/s, BENCH_CONCURRENCY (32).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
RUST_LOG="${RUST_LOG:-warn}" OTEL_SDK_DISABLED=true \
  cargo run --quiet --release --locked -p lockstep-stories --example bench-inbound
