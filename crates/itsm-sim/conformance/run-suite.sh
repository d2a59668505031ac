#!/usr/bin/env bash
# Runs one conformance suite of itsm-sim (a folder with requirements.txt and pytest tests) against the
# emulator over HTTPS:
#
#   conformance/run-suite.sh <suite folder> <venv name> <package that proves the venv is installed> [pytest args]
#
# Creates <workspace>/.venv/<venv name> when missing, builds and starts the itsm-sim binary with TLS on
# a free port, reads its URL from its first stdout line, runs pytest in the suite folder with the shared
# fixtures of sim_fixtures.py (ITSM_SIM_URL, ITSM_SIM_CA, the control API, a reset before every test),
# and stops the emulator again however pytest ends. Each suite's run.sh is a one-line call of this.
set -euo pipefail

suite="$(cd "$1" && pwd)"
venv_name=$2
marker_package=$3
shift 3

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
workspace="$(cd "$here/../../.." && pwd)"
venv="$workspace/.venv/$venv_name"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -m pip show --quiet "$marker_package" pytest >/dev/null 2>&1; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$suite/requirements.txt"
fi

(cd "$workspace" && cargo build --quiet -p lockstep-itsm-sim --bin itsm-sim)
bin="${CARGO_TARGET_DIR:-$workspace/target}/debug/itsm-sim"

tmp="$(mktemp -d)"
"$bin" --tls --listen 127.0.0.1:0 --ca-out "$tmp/ca.pem" >"$tmp/stdout" 2>"$tmp/stderr" &
sim_pid=$!
cleanup() {
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

url=""
for _ in $(seq 1 200); do
    url="$(head -n 1 "$tmp/stdout" 2>/dev/null | sed -n 's/^itsm-sim listening on //p')"
    [ -n "$url" ] && break
    if ! kill -0 "$sim_pid" 2>/dev/null; then break; fi
    sleep 0.05
done
if [ -z "$url" ]; then
    echo "itsm-sim did not start:" >&2
    cat "$tmp/stderr" >&2
    exit 1
fi

cd "$suite"
ITSM_SIM_URL="$url" ITSM_SIM_CA="$tmp/ca.pem" REQUESTS_CA_BUNDLE="$tmp/ca.pem" \
    PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider -p sim_fixtures "$@"
