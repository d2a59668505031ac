#!/usr/bin/env bash
# Runs a command with PostgreSQL and NATS available (see services.sh), exporting DATABASE_URL and
# NATS_URL, and stops the private instances afterwards whatever the command's outcome.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/services.sh" up
trap '"$root/scripts/services.sh" down' EXIT
set -a
# shellcheck disable=SC1091
. "$root/.run/env"
set +a
"$@"
