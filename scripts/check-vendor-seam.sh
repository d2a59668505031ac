#!/usr/bin/env bash
# The vendor seam holds: no ServiceNow or ServiceDesk Plus type or wire name in a service crate or
# in service-kit.
# Vendor knowledge lives in crates/connectors/src/<vendor>/, crates/itsm-sim/src/<vendor>/ and
# (pure rules) crates/domain; the services reach it through lockstep_connectors::Connector.
# Fails listing every offending line. Tests and benches drive ServiceNow on purpose (the
# emulator), so only src/ is checked.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

crates=(ingest-webhook poller sync-applier ticket-writer api cli service-kit)
# Types, module paths and wire names that belong to crates/connectors/src/servicenow/.
pattern='ServiceNow(Client|Table|Credentials|Fields|Config|Spec)\b|connectors::servicenow|servicenow::|InstanceUrl|incident\.do|nav_to\.do|\.do\?|work_notes|sys_id|sys_updated_on|sys_mod_count|sys_choice|task_sla|sysparm_|parent_incident|x-sn-apikey|correlation_display|api/now/'

paths=()
for c in "${crates[@]}"; do paths+=("crates/$c/src"); done
# The same for crates/connectors/src/sdp/ (ServiceDesk Plus v3).
sdp_pattern='ServiceDeskPlusSpec|SdpClient|SdpConfig|SdpTokenAuth|PortalUrl|connectors::sdp|sdp::|input_data|authtoken|Zoho-oauthtoken|list_info|udf_fields|response_status|api/v3/|WorkOrder\.do|link_requests|closure_info'

if hits=$(grep -rnE "$pattern" "${paths[@]}"); then
  echo "ServiceNow knowledge outside its connector (move it to crates/connectors/src/servicenow/):" >&2
  echo "$hits" >&2
  exit 1
fi
if hits=$(grep -rnE "$sdp_pattern" "${paths[@]}"); then
  echo "ServiceDesk Plus knowledge outside its connector (move it to crates/connectors/src/sdp/):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "vendor seam: no ServiceNow or ServiceDesk Plus types or wire names in ${crates[*]}"
