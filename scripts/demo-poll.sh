#!/usr/bin/env bash
# Demo segment (called by scripts/demo.sh): a ServiceNow-side change whose webhook was dropped
# arrives through the poller (channel: poll).
#
# It runs the poller's end-to-end scenario against the real PostgreSQL and NATS of the demo and an
# in-process ServiceNow emulator that drops every webhook: a finding is ticketed, a person resolves
# the incident in ServiceNow, no webhook arrives, and within one poll cycle the resolved state is
# published on lockstep.observed.<tenant>.<integration> with a stable event id (the sync-applier
# applies it to the finding with channel "poll"). Then the same across services: the poller and
# sync-applier in-process together, the finding reaching re_test with one activity row, channel poll.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -f .run/env ]]; then set -a; . ./.run/env; set +a; fi
echo "== Poller safety net: webhook dropped, change arrives by poll =="
cargo test -q -p lockstep-poller --test poller \
  cycle::a_change_whose_webhook_was_dropped_arrives_within_one_cycle -- --exact --nocapture
echo "== Across services: poller -> JetStream -> sync-applier -> finding (channel: poll) =="
cargo test -q -p lockstep-stories --test stories \
  poll::a_resolve_whose_webhook_was_dropped_reaches_the_finding_by_poll_within_one_cycle \
  -- --exact --nocapture
echo "== Poll status and re-sync (SyncService) =="
cargo test -q -p lockstep-poller --test poller \
  sync_service::resync_polls_now_and_answers_how_many_tickets_changed -- --exact --nocapture
