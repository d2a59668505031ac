#!/usr/bin/env bash
# The web workbench in a real browser (a step of scripts/test.sh): Debian's Chromium driven by the
# Playwright library (npm playwright-core, never a browser download) against `lockstep up`,
# PostgreSQL, NATS and itsm-sim, all started by the tests themselves (web/tests/harness.mjs).
# Installs what it needs on a fresh machine: the `chromium` package (apt-get) when /usr/bin/chromium
# is missing, and web/node_modules (npm ci). Screenshots of each page at 1280x800 land in
# .run/screenshots/ (git-ignored). Needs DATABASE_URL and NATS_URL (scripts/with-services.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

for var in DATABASE_URL NATS_URL; do
  if [ -z "${!var:-}" ]; then
    echo "$var is not set: run through make test (scripts/with-services.sh) or make services-up" >&2
    exit 1
  fi
done
for tool in node npm psql; do
  command -v "$tool" >/dev/null || { echo "$tool is needed for the browser tests" >&2; exit 1; }
done

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "installing Debian's chromium package (apt-get)" >&2
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
"$chromium" --version

# npm ci only when the lock file changed since the last install (what build.rs does too).
if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  (cd web && npm ci --no-audit --no-fund)
fi
(cd web && npm run --silent check)

cargo build --quiet -p lockstep-cli --bin lockstep -p lockstep-itsm-sim --bin itsm-sim
target="${CARGO_TARGET_DIR:-$root/target}/debug"
export LOCKSTEP_BIN="$target/lockstep" ITSM_SIM_BIN="$target/itsm-sim" CHROMIUM="$chromium"
export SCREENSHOT_DIR="${SCREENSHOT_DIR:-$root/.run/screenshots}"
mkdir -p "$SCREENSHOT_DIR"

cd web
node --test --test-concurrency=1 tests/workbench.test.mjs
echo "screenshots: $SCREENSHOT_DIR"
