//! The write probes of the connection test; see the parent module for why each proves what it
//! proves without leaving a record behind.

use http::Method;
use lockstep_domain::ServiceNowTable;
use serde_json::{Value, json};

use super::probe::Sample;
use super::{Check, CheckId, CheckStatus};
use crate::error::ConnectorError;
use crate::servicenow::client::{ServiceNowClient, SnCall};
use crate::servicenow::record::SnRecord;

/// Roles that grant create on the table in the base system.
const INCIDENT_CREATE_ROLES: &[&str] = &["admin", "itil", "sn_incident_write"];
const CHANGE_CREATE_ROLES: &[&str] = &["admin", "itil", "change_manager", "sn_change_write"];
/// A sys_id no record has.
const NO_SUCH_RECORD: &str = "0000000000000000000000000000f00d";

enum Outcome {
    Allowed(String),
    Denied(ConnectorError),
    Unknown(String),
    /// A test record could not be removed; the admin must delete it.
    Residue(String),
    Error(ConnectorError),
}

impl ServiceNowClient {
    pub(super) async fn probe_write(
        &self,
        table: ServiceNowTable,
        id: CheckId,
        sample: Option<&Sample>,
        roles: Option<&[String]>,
    ) -> Check {
        let update = self.probe_update(table, sample).await;
        let insert = match table {
            ServiceNowTable::Incident => self.probe_incident_insert().await,
            ServiceNowTable::ChangeRequest => role_evidence(roles, CHANGE_CREATE_ROLES, table),
        };
        let insert = match (insert, table, roles) {
            // Corroborate an inconclusive incident probe with the roles.
            (Outcome::Unknown(why), ServiceNowTable::Incident, Some(_)) => {
                match role_evidence(roles, INCIDENT_CREATE_ROLES, table) {
                    Outcome::Allowed(r) => Outcome::Allowed(format!("{why}; {r}")),
                    other => other,
                }
            }
            (other, _, _) => other,
        };
        let mut detail = Vec::new();
        let mut worst = CheckStatus::Pass;
        let mut failure: Option<Check> = None;
        let mut remedy = None;
        for (what, outcome) in [("update", update), ("create", insert)] {
            match outcome {
                Outcome::Allowed(why) => detail.push(format!("{what}: allowed ({why})")),
                Outcome::Unknown(why) => {
                    detail.push(format!("{what}: not verified ({why})"));
                    worst = worst.max_with(CheckStatus::Warn);
                    remedy.get_or_insert_with(|| write_remedy(table));
                }
                Outcome::Residue(why) => {
                    detail.push(format!("{what}: allowed, but {why}"));
                    worst = worst.max_with(CheckStatus::Warn);
                    remedy = Some(format!(
                        "Delete the test record named above. {}",
                        write_remedy(table)
                    ));
                }
                Outcome::Denied(e) | Outcome::Error(e) => {
                    detail.push(format!("{what}: {e}"));
                    failure.get_or_insert_with(|| Check::from_error(id, &e));
                }
            }
        }
        let detail = detail.join("; ");
        if let Some(mut f) = failure {
            f.detail = detail;
            return f;
        }
        match worst {
            CheckStatus::Pass => Check::pass(id, detail),
            _ => Check::warn(id, detail, remedy.unwrap_or_else(|| write_remedy(table))),
        }
    }

    async fn probe_update(&self, table: ServiceNowTable, sample: Option<&Sample>) -> Outcome {
        let name = table.as_str();
        let Some(sample) = sample else {
            let call = SnCall::new(
                "probe_update",
                Method::PATCH,
                format!("api/now/table/{name}/{NO_SUCH_RECORD}"),
            )
            .query("sysparm_fields", "sys_id")
            .body(json!({}))
            .idempotent(true);
            return match self.call(&call).await {
                Err(e @ ConnectorError::Permission { .. }) => Outcome::Denied(e),
                Err(ConnectorError::NotFound { .. }) | Ok(_) => Outcome::Unknown(format!(
                    "no {name} record is visible to write back unchanged, and an update of a non-existent record was not refused"
                )),
                Err(e) => Outcome::Error(e),
            };
        };
        let call = SnCall::new(
            "probe_update",
            Method::PATCH,
            format!("api/now/table/{name}/{}", sample.sys_id),
        )
        .query("sysparm_fields", "sys_id,sys_mod_count")
        .body(json!({ "short_description": sample.short_description }))
        .idempotent(true);
        match self.call(&call).await {
            Ok(resp) => {
                let after = resp
                    .result_object()
                    .ok()
                    .and_then(|r| r.get("sys_mod_count"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let mut why = format!(
                    "wrote {name} {}'s short description back unchanged",
                    sample.sys_id
                );
                if !after.is_empty() && after != sample.mod_count {
                    why.push_str(&format!(
                        "; the instance still counted an update ({} → {after})",
                        sample.mod_count
                    ));
                }
                Outcome::Allowed(why)
            }
            Err(e @ ConnectorError::Permission { .. }) => Outcome::Denied(e),
            Err(e) => Outcome::Error(e),
        }
    }

    async fn probe_incident_insert(&self) -> Outcome {
        let call = SnCall::new("probe_insert", Method::POST, "api/now/table/incident")
            .query("sysparm_fields", "sys_id,number")
            .body(json!({
                "short_description": "[LOCKSTEP] connection test - refused on purpose, safe to delete",
                "description": "Lockstep checks create permission with a record the data policy refuses. If you see this record, the policy 'Make close info mandatory when resolved or closed' is inactive.",
                "state": "6",
                "correlation_id": "lockstep:connection-test",
            }));
        match self.call(&call).await {
            Err(ConnectorError::DataPolicy { .. }) => Outcome::Allowed(
                "the create ACL passed and the data policy refused the deliberately incomplete test incident, so none was created".into(),
            ),
            Err(e @ ConnectorError::Permission { .. }) => Outcome::Denied(e),
            Err(e) => Outcome::Error(e),
            Ok(resp) => {
                let rec = resp.result_object().ok().and_then(|r| SnRecord::from_json(r).ok()).unwrap_or_default();
                let (sys_id, number) = (rec.value("sys_id").unwrap_or("").to_owned(), rec.value("number").unwrap_or("?").to_owned());
                self.remove_test_incident(&sys_id, &number).await
            }
        }
    }

    /// Deletes the test incident, or cancels it when the account may not delete.
    async fn remove_test_incident(&self, sys_id: &str, number: &str) -> Outcome {
        let path = format!("api/now/table/incident/{sys_id}");
        let delete = SnCall::new("probe_cleanup", Method::DELETE, path.clone());
        if self.call(&delete).await.is_ok() {
            return Outcome::Allowed(format!(
                "created test incident {number} and deleted it again"
            ));
        }
        let cancel = SnCall::new("probe_cleanup", Method::PATCH, path)
            .query("sysparm_fields", "sys_id")
            .body(json!({"state": "8", "work_notes": "Created by the Lockstep connection test; safe to delete."}));
        let cancelled = self.call(&cancel).await.is_ok();
        Outcome::Residue(format!(
            "the test incident {number} was created (no data policy stopped it) and could not be deleted; it was {}",
            if cancelled { "canceled" } else { "left as is" }
        ))
    }
}

trait MaxWith {
    fn max_with(self, other: Self) -> Self;
}

impl MaxWith for CheckStatus {
    fn max_with(self, other: Self) -> Self {
        if self == CheckStatus::Pass {
            other
        } else {
            self
        }
    }
}

fn role_evidence(roles: Option<&[String]>, grants: &[&str], table: ServiceNowTable) -> Outcome {
    let name = table.as_str();
    match roles {
        None => Outcome::Unknown(format!(
            "creating a {name} cannot be tested without leaving a record, and the account's roles are not readable"
        )),
        Some(roles) => match roles.iter().find(|r| grants.contains(&r.as_str())) {
            Some(role) => Outcome::Allowed(format!(
                "the account has the role {role}, which may create {name} records in the base system; not tested with a real record, to leave nothing behind"
            )),
            None => Outcome::Unknown(format!(
                "the account has none of the roles that may create {name} records in the base system ({}); a custom ACL may still allow it",
                grants.join(", ")
            )),
        },
    }
}

fn write_remedy(table: ServiceNowTable) -> String {
    let role = match table {
        ServiceNowTable::Incident => "sn_incident_write (or itil)",
        ServiceNowTable::ChangeRequest => "itil or change_manager",
    };
    format!(
        "Give the service user the role {role}, or create and write ACLs on {} for the integration role",
        table.as_str()
    )
}
