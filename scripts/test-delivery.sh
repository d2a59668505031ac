#!/usr/bin/env bash
# Delivery checks, run by scripts/test.sh: the Helm chart rendered, linted and schema-validated by
# the real Helm engine (helm-python-sdk) for every profile, every manifest validated against the
# Kubernetes schemas we claim, yamllint, hadolint on the Dockerfile, drift between the chart and
# the Rust code; then the ServiceNow app (servicenow/run-tests.sh). No cluster and no container
# engine are needed (none exists here). The Python tools are installed once into
# .tools/delivery-venv from deploy/helm/tests/requirements.txt (reinstalled when it changes).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/delivery-venv"
requirements="$root/deploy/helm/tests/requirements.txt"
stamp="$venv/.requirements"

if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$stamp"; then
  echo "installing the delivery test tools into .tools/delivery-venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi

(cd "$root" && "$venv/bin/python" -m pytest -q -p no:cacheprovider deploy/helm/tests servicenow/test "$@")

if [ -x "$root/servicenow/run-tests.sh" ]; then
  "$root/servicenow/run-tests.sh"
fi
