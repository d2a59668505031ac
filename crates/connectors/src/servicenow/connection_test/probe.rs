//! The individual probes of the connection test. Each turns what the instance answered into a
//! [`Check`]; the write probes follow the no-residue rules described in the parent module.

use http::Method;
use lockstep_domain::ServiceNowTable;
use serde_json::Value;

use super::{Check, CheckId, Problem};
use crate::error::{ConnectorError, Result};
use crate::servicenow::choices::ChoiceSource;
use crate::servicenow::client::{ServiceNowClient, SnCall};
use crate::servicenow::record::SnRecord;

pub(super) struct Me {
    pub sys_id: String,
    pub user_name: String,
}

/// A record the update probe may write back unchanged.
pub(super) struct Sample {
    pub sys_id: String,
    pub short_description: String,
    pub mod_count: String,
}

impl ServiceNowClient {
    pub(super) async fn probe_reachable(&self) -> Check {
        let mut call = SnCall::new("probe_reachable", Method::GET, "api/now/table/incident")
            .query("sysparm_limit", "1")
            .query("sysparm_fields", "sys_id");
        call.anonymous = true;
        let id = CheckId::Reachable;
        let resp = match self.send_raw(&call).await {
            Ok((resp, _)) => resp,
            Err(e) => return Check::from_error(id, &e),
        };
        let status = resp.status.as_u16();
        let text = String::from_utf8_lossy(&resp.body).to_ascii_lowercase();
        let json: Option<Value> = serde_json::from_slice(&resp.body).ok();
        let envelope = json
            .as_ref()
            .is_some_and(|v| v.get("error").is_some() || v.get("result").is_some());
        let realm = resp
            .header_str("www-authenticate")
            .is_some_and(|h| h.to_ascii_lowercase().contains("service-now"));
        let server = resp
            .header_str("server")
            .is_some_and(|h| h.eq_ignore_ascii_case("servicenow"));
        if resp.status.is_redirection() {
            let to = resp.header_str("location").unwrap_or("another address");
            return Check::fail(
                id,
                Problem::WrongUrl,
                format!("the instance URL redirects to {to}"),
                REMEDY_URL,
            );
        }
        if text.contains("hibernat") {
            return Check::fail(
                id,
                Problem::InstanceUnavailable,
                "the instance is hibernating",
                REMEDY_HIBERNATING,
            );
        }
        if resp.status.is_server_error() {
            return Check::fail(
                id,
                Problem::InstanceUnavailable,
                format!("the instance answered HTTP {status}"),
                REMEDY_DOWN,
            );
        }
        if envelope || realm || server {
            return Check::pass(
                id,
                format!(
                    "ServiceNow's REST API answered (HTTP {status}) at {}",
                    self.instance()
                ),
            );
        }
        Check::fail(
            id,
            Problem::WrongUrl,
            format!(
                "HTTP {status} from {}, but not from ServiceNow's REST API",
                self.instance()
            ),
            REMEDY_URL,
        )
    }

    pub(super) async fn probe_whoami(&self) -> (Check, Option<Me>) {
        let id = CheckId::Authenticated;
        let call = SnCall::new("probe_whoami", Method::GET, "api/now/table/sys_user")
            .query("sysparm_query", "user_name=javascript:gs.getUserName()")
            .query("sysparm_fields", "sys_id,user_name")
            .query("sysparm_limit", "1");
        match self.call(&call).await {
            Ok(resp) => {
                let me = resp
                    .result_list()
                    .ok()
                    .and_then(|rows| rows.first())
                    .and_then(|row| {
                        let r = SnRecord::from_json(row).ok()?;
                        Some(Me {
                            sys_id: r.value("sys_id")?.to_owned(),
                            user_name: r.value("user_name")?.to_owned(),
                        })
                    });
                let detail = match &me {
                    Some(me) => {
                        format!("authenticated as {} ({:?})", me.user_name, self.auth_kind())
                    }
                    None => format!(
                        "authenticated ({:?}); the account cannot read its own user record",
                        self.auth_kind()
                    ),
                };
                (Check::pass(id, detail), me)
            }
            Err(ConnectorError::Permission { .. }) => (
                Check::pass(id, "authenticated; the account may not read sys_user"),
                None,
            ),
            Err(e) => (Check::from_error(id, &e), None),
        }
    }

    /// The account's active role names; `None` when they cannot be read.
    pub(super) async fn probe_roles(&self, user_sys_id: &str) -> Option<Vec<String>> {
        let call = SnCall::new(
            "probe_roles",
            Method::GET,
            "api/now/table/sys_user_has_role",
        )
        .query("sysparm_query", format!("user={user_sys_id}^state=active"))
        .query("sysparm_fields", "role")
        .query("sysparm_display_value", "true")
        .query("sysparm_exclude_reference_link", "true")
        .query("sysparm_limit", "500");
        let resp = self.call(&call).await.ok()?;
        let rows = resp.result_list().ok()?;
        if rows.is_empty() && resp.total_count().unwrap_or(0) > 0 {
            return None;
        }
        let roles = rows
            .iter()
            .filter_map(|row| row.get("role").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        Some(roles)
    }

    pub(super) async fn probe_read(
        &self,
        table: ServiceNowTable,
        id: CheckId,
    ) -> (Check, Option<Sample>) {
        let sample_of = |rows: &[Value]| {
            rows.first().and_then(|row| {
                let r = SnRecord::from_json(row).ok()?;
                Some(Sample {
                    sys_id: r.value("sys_id")?.to_owned(),
                    short_description: r
                        .field("short_description")
                        .map(|f| f.value.clone())
                        .unwrap_or_default(),
                    mod_count: r.value("sys_mod_count").unwrap_or("0").to_owned(),
                })
            })
        };
        let (rows, total) = match self
            .probe_list(
                table.as_str(),
                "ORDERBYDESCsys_updated_on",
                "sys_id,short_description,sys_mod_count",
            )
            .await
        {
            Ok(x) => x,
            Err(e) => return (Check::from_error(id, &e), None),
        };
        let name = table.as_str();
        if rows.is_empty() {
            return match total {
                Some(n) if n > 0 => (
                    Check::fail(
                        id,
                        Problem::InsufficientPermissions,
                        format!(
                            "{n} {name} records exist, but the account's ACLs hide every one of them"
                        ),
                        read_remedy(table),
                    ),
                    None,
                ),
                _ => (
                    Check::warn(
                        id,
                        format!(
                            "no {name} records are visible: the table is empty, or ACLs hide all rows (ServiceNow does not say which)"
                        ),
                        read_remedy(table),
                    ),
                    None,
                ),
            };
        }
        // Prefer writing back one of our own tickets in the update probe.
        let own = self
            .probe_list(
                name,
                "correlation_idSTARTSWITHlockstep:^ORDERBYDESCsys_updated_on",
                "sys_id,short_description,sys_mod_count",
            )
            .await;
        let sample = own
            .ok()
            .and_then(|(own_rows, _)| sample_of(&own_rows))
            .or_else(|| sample_of(&rows));
        let shown = total
            .map(|n| format!("{n} in total"))
            .unwrap_or_else(|| "count not sent".into());
        (
            Check::pass(id, format!("read {name} records ({shown})")),
            sample,
        )
    }

    async fn probe_list(
        &self,
        table: &str,
        query: &str,
        fields: &str,
    ) -> Result<(Vec<Value>, Option<u64>)> {
        let call = SnCall::new("probe_read", Method::GET, format!("api/now/table/{table}"))
            .query("sysparm_query", query)
            .query("sysparm_fields", fields)
            .query("sysparm_limit", "1");
        let resp = self.call(&call).await?;
        Ok((resp.result_list()?.clone(), resp.total_count()))
    }

    pub(super) async fn probe_choices(&self) -> Check {
        let id = CheckId::SysChoiceRead;
        match self.read_choices(ServiceNowTable::Incident).await {
            Ok(c) => {
                let counts: Vec<String> = c
                    .fields
                    .iter()
                    .map(|(k, v)| format!("{k} {}", v.len()))
                    .collect();
                match c.source {
                    ChoiceSource::SysChoice => Check::pass(
                        id,
                        format!(
                            "read incident choices from sys_choice: {}",
                            counts.join(", ")
                        ),
                    ),
                    ChoiceSource::TicketSample => Check::warn(
                        id,
                        format!(
                            "sys_choice values are not readable ({}); used the display values of recent incidents instead: {}",
                            c.fallback_reason.unwrap_or_default(),
                            counts.join(", ")
                        ),
                        "Lockstep can check mapping rules only against values already in use. For the complete lists, let the \
                         integration role read the sys_choice fields name, element, value, sequence, inactive and language",
                    ),
                }
            }
            Err(e) => Check::from_error(id, &e),
        }
    }

    pub(super) async fn probe_task_sla(&self) -> Check {
        let id = CheckId::TaskSlaRead;
        match self
            .probe_list(
                "task_sla",
                "ORDERBYDESCsys_created_on",
                "sys_id,planned_end_time",
            )
            .await
        {
            Ok((rows, _)) if !rows.is_empty() => Check::pass(id, "read task_sla"),
            Ok((_, Some(n))) if n > 0 => Check::fail(
                id,
                Problem::InsufficientPermissions,
                format!("{n} task_sla records exist, but the account's ACLs hide them"),
                REMEDY_SLA,
            ),
            Ok(_) => Check::warn(
                id,
                "no task_sla records are visible (no SLA attached yet, or hidden by ACLs)",
                REMEDY_SLA,
            ),
            Err(ConnectorError::Vendor { status: 400, .. }) => Check::fail(
                id,
                Problem::TableMissing,
                "the instance has no task_sla table",
                "Activate Service Level Management (com.snc.sla) to let Lockstep show SLA due dates",
            ),
            Err(e @ ConnectorError::Permission { .. }) => {
                let mut c = Check::from_error(id, &e);
                c.remedy = Some(REMEDY_SLA.into());
                c
            }
            Err(e) => Check::from_error(id, &e),
        }
    }
}

fn read_remedy(table: ServiceNowTable) -> String {
    let role = match table {
        ServiceNowTable::Incident => "sn_incident_read (or itil)",
        ServiceNowTable::ChangeRequest => "sn_change_read (or itil)",
    };
    format!(
        "Give the service user the role {role}, or a read ACL on {} for the integration role",
        table.as_str()
    )
}

pub(super) const REMEDY_URL: &str = "Enter the instance root URL such as https://<instance>.service-now.com/ (no /api/ \
or *.do paths, no login or SSO page), and check DNS, proxy and firewall rules";
const REMEDY_HIBERNATING: &str =
    "Wake the developer instance from developer.servicenow.com, then test again";
const REMEDY_DOWN: &str =
    "The instance or its load balancer is failing; check the instance status and test again later";
const REMEDY_SLA: &str = "Let the service user read task_sla (the itil role can, or add a read ACL on task_sla for the \
integration role); without it Lockstep shows no SLA due dates";
