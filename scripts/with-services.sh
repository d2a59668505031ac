#!/usr/bin/env bash
# Runs a command with PostgreSQL and NATS available (see services.sh), exporting DATABASE_URL and
# NATS_URL. Private instances it started are stopped afterwards whatever the command's outcome; ones
# that were already running (`make services-up`) are left running for whoever started them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
already_up=false
[ -f "$root/.run/env" ] && already_up=true
"$root/scripts/services.sh" up
if [ "$already_up" = false ]; then
  trap '"$root/scripts/services.sh" down' EXIT
fi
set -a
# shellcheck disable=SC1091
. "$root/.run/env"
set +a
"$@"
