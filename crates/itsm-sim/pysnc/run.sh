#!/usr/bin/env bash
# Runs the pysnc conformance suite against itsm-sim over HTTPS (see ../conformance/run-suite.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../conformance/run-suite.sh" "$here" pysnc pysnc "$@"
