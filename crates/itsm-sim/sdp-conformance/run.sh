#!/usr/bin/env bash
# Runs the ServiceDesk Plus v3 conformance suite (plain `requests`: no SDP client exists) against itsm-sim over HTTPS (see ../conformance/run-suite.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../conformance/run-suite.sh" "$here" sdp requests "$@"
