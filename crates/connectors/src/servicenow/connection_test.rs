//! The connection test an admin runs when saving an integration: a list of checks, each passed,
//! failed (with the problem class and a remedy a ServiceNow admin can act on) or only partly
//! verified. It must leave nothing behind on the instance.
//!
//! How write permission is checked without creating junk (the `write` submodule does it):
//! - **update**: a PATCH that writes a record's own `short_description` back unchanged. ServiceNow
//!   checks the write ACL (403 `ACL Exception Update Failed` when denied) and then, as nothing
//!   changed, saves nothing: no new `sys_mod_count`, no audit entry. With no readable record, a
//!   PATCH of a non-existent sys_id still tells a table- or API-level denial (403) from "allowed
//!   or unknown" (404).
//! - **insert into incident**: a POST of a deliberately incomplete incident, Resolved without a
//!   resolution code. The create ACL is evaluated first (403 `ACL Exception Insert Failed` when
//!   denied); an allowed insert is then aborted by the base data policy "Make close info mandatory
//!   when resolved or closed" (403 `Data Policy Exception`), so no record is written. Should an
//!   instance lack that policy, the record is created; the test then deletes it, or, when the
//!   account may not delete, cancels it and names it in the check so an admin can remove it.
//! - **insert into change_request**: no base rule aborts an insert there, so the only proof would
//!   be a real record. Instead the account's roles (`sys_user_has_role`) are compared with the
//!   roles that grant create on `change_request` in the base system (itil, change_manager,
//!   sn_change_write, admin); the check says that this is evidence, not proof.

mod probe;
mod write;

use lockstep_domain::ServiceNowTable;

use super::client::ServiceNowClient;
use crate::error::{AuthFailure, ConnectorError};

/// The troubleshooting classes an admin sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    AuthenticationFailed,
    InsufficientPermissions,
    WrongUrl,
    TokenExpiredOrRevoked,
    /// The API key is refused and never worked: the API Key and HMAC Authentication plugin, the
    /// inbound authentication profile or the access policy is missing, or the key is wrong.
    ApiKeyPluginMissing,
    /// The table does not exist on the instance (plugin not active).
    TableMissing,
    /// Hibernating, down, overloaded or throttling.
    InstanceUnavailable,
    /// The URL leads to a loopback, private, link-local or other internal address that the
    /// operator has not allowed; nothing was sent to it.
    DestinationRefused,
}

impl Problem {
    /// The stable troubleshooting class in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthenticationFailed => "authentication_failed",
            Self::InsufficientPermissions => "insufficient_permissions",
            Self::WrongUrl => "wrong_url",
            Self::TokenExpiredOrRevoked => "token_expired_or_revoked",
            Self::ApiKeyPluginMissing => "api_key_plugin_missing",
            Self::TableMissing => "table_missing",
            Self::InstanceUnavailable => "instance_unavailable",
            Self::DestinationRefused => "destination_refused",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckId {
    Reachable,
    Authenticated,
    IncidentRead,
    IncidentWrite,
    ChangeRequestRead,
    ChangeRequestWrite,
    SysChoiceRead,
    TaskSlaRead,
}

impl CheckId {
    /// The stable id in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reachable => "reachable",
            Self::Authenticated => "authenticated",
            Self::IncidentRead => "incident_read",
            Self::IncidentWrite => "incident_write",
            Self::ChangeRequestRead => "change_request_read",
            Self::ChangeRequestWrite => "change_request_write",
            Self::SysChoiceRead => "sys_choice_read",
            Self::TaskSlaRead => "task_sla_read",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Reachable => "Instance reachable",
            Self::Authenticated => "Credentials accepted",
            Self::IncidentRead => "Can read incidents",
            Self::IncidentWrite => "Can create and update incidents",
            Self::ChangeRequestRead => "Can read change requests",
            Self::ChangeRequestWrite => "Can create and update change requests",
            Self::SysChoiceRead => "Can read choice lists (sys_choice)",
            Self::TaskSlaRead => "Can read SLAs (task_sla)",
        }
    }
}

pub use crate::connector::CheckStatus;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub id: CheckId,
    pub status: CheckStatus,
    /// What was done and seen.
    pub detail: String,
    pub problem: Option<Problem>,
    /// What the ServiceNow admin should do.
    pub remedy: Option<String>,
}

impl Check {
    pub(crate) fn pass(id: CheckId, detail: impl Into<String>) -> Self {
        Self {
            id,
            status: CheckStatus::Pass,
            detail: detail.into(),
            problem: None,
            remedy: None,
        }
    }

    pub(crate) fn warn(id: CheckId, detail: impl Into<String>, remedy: impl Into<String>) -> Self {
        Self {
            id,
            status: CheckStatus::Warn,
            detail: detail.into(),
            problem: None,
            remedy: Some(remedy.into()),
        }
    }

    pub(crate) fn fail(
        id: CheckId,
        problem: Problem,
        detail: impl Into<String>,
        remedy: impl Into<String>,
    ) -> Self {
        Self {
            id,
            status: CheckStatus::Fail,
            detail: detail.into(),
            problem: Some(problem),
            remedy: Some(remedy.into()),
        }
    }

    pub(crate) fn from_error(id: CheckId, e: &ConnectorError) -> Self {
        let (problem, remedy) = classify(e);
        Self::fail(id, problem, e.to_string(), remedy)
    }

    pub fn title(&self) -> &'static str {
        self.id.title()
    }
}

/// The result of a connection test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionReport {
    pub instance: String,
    /// The user name the instance sees, when it could be read.
    pub user_name: Option<String>,
    pub checks: Vec<Check>,
}

impl ConnectionReport {
    /// True when nothing failed (warnings allowed).
    pub fn ok(&self) -> bool {
        self.checks
            .iter()
            .all(|c| matches!(c.status, CheckStatus::Pass | CheckStatus::Warn))
    }

    pub fn check(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The problem classes found, first occurrence order.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for p in self.checks.iter().filter_map(|c| c.problem) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }
}

impl From<&ConnectionReport> for crate::connector::ConnectionReport {
    fn from(report: &ConnectionReport) -> Self {
        Self {
            instance: report.instance.clone(),
            user_name: report.user_name.clone(),
            checks: report
                .checks
                .iter()
                .map(|c| crate::connector::CheckReport {
                    id: c.id.as_str(),
                    title: c.title(),
                    status: c.status,
                    detail: c.detail.clone(),
                    problem: c.problem.map(Problem::as_str),
                    remedy: c.remedy.clone(),
                })
                .collect(),
        }
    }
}

/// The problem class and remedy of an error met during the test.
pub fn classify(e: &ConnectorError) -> (Problem, String) {
    match e {
        ConnectorError::Auth { reason, remedy, .. } => {
            let problem = match reason {
                AuthFailure::BadCredentials | AuthFailure::OAuthRejected => Problem::AuthenticationFailed,
                AuthFailure::TokenExpiredOrRevoked => Problem::TokenExpiredOrRevoked,
                AuthFailure::ApiKeyRejected => Problem::ApiKeyPluginMissing,
            };
            (problem, remedy.clone())
        }
        ConnectorError::Permission { remedy, .. } => (Problem::InsufficientPermissions, remedy.clone()),
        ConnectorError::DataPolicy { remedy, .. } => (Problem::InsufficientPermissions, remedy.clone()),
        ConnectorError::Vendor { status: 400, message } if message.contains("Invalid table") => (
            Problem::TableMissing,
            "The table does not exist on this instance: activate the plugin that provides it, or check that the \
             URL points at the right instance"
                .into(),
        ),
        ConnectorError::DestinationRefused { .. } => (
            Problem::DestinationRefused,
            "Use the instance's public address. If the instance really is on an internal network, \
             ask the Lockstep operator to add its host name or network to \
             vendor_http.allow_private_networks"
                .into(),
        ),
        ConnectorError::InvalidConfig { .. } | ConnectorError::InvalidResponse { .. } | ConnectorError::Transport { .. } => (
            Problem::WrongUrl,
            "Check the instance URL: it must be the instance root such as https://<instance>.service-now.com/, \
             without /api/ or *.do paths. Check DNS, proxy and firewall rules, and that the instance's TLS \
             certificate is trusted"
                .into(),
        ),
        ConnectorError::NotFound { .. } => (
            Problem::WrongUrl,
            "The instance answered 404 for the REST API: check the instance URL and that the REST API is not \
             blocked by an API access policy"
                .into(),
        ),
        _ => (
            Problem::InstanceUnavailable,
            "The instance is hibernating, down, overloaded or throttling this account: wake or check the instance, \
             review its rate-limit rules (System Web Services > REST API Rate Limits), and test again later"
                .into(),
        ),
    }
}

impl ServiceNowClient {
    /// Runs every check. Later checks are skipped when the instance is unreachable or refuses
    /// the credentials. Nothing is left behind on the instance (see the module docs).
    pub async fn test_connection(&self) -> ConnectionReport {
        let mut report = ConnectionReport {
            instance: self.instance().to_string(),
            user_name: None,
            checks: Vec::new(),
        };
        let all = [
            CheckId::Reachable,
            CheckId::Authenticated,
            CheckId::IncidentRead,
            CheckId::IncidentWrite,
            CheckId::ChangeRequestRead,
            CheckId::ChangeRequestWrite,
            CheckId::SysChoiceRead,
            CheckId::TaskSlaRead,
        ];
        let skip_rest = |report: &mut ConnectionReport, reason: &str| {
            for id in all.iter().skip(report.checks.len()) {
                report.checks.push(Check {
                    id: *id,
                    status: CheckStatus::Skipped,
                    detail: format!("not run: {reason}"),
                    problem: None,
                    remedy: None,
                });
            }
        };

        let reachable = self.probe_reachable().await;
        let ok = reachable.status == CheckStatus::Pass;
        report.checks.push(reachable);
        if !ok {
            skip_rest(&mut report, "the instance is not reachable");
            return report;
        }

        let (auth, me) = self.probe_whoami().await;
        let ok = auth.status == CheckStatus::Pass;
        report.checks.push(auth);
        if !ok {
            skip_rest(&mut report, "the credentials were not accepted");
            return report;
        }
        report.user_name = me.as_ref().map(|m| m.user_name.clone());
        let roles = match &me {
            Some(me) => self.probe_roles(&me.sys_id).await,
            None => None,
        };

        for (table, read_id, write_id) in [
            (
                ServiceNowTable::Incident,
                CheckId::IncidentRead,
                CheckId::IncidentWrite,
            ),
            (
                ServiceNowTable::ChangeRequest,
                CheckId::ChangeRequestRead,
                CheckId::ChangeRequestWrite,
            ),
        ] {
            let (read, sample) = self.probe_read(table, read_id).await;
            report.checks.push(read);
            report.checks.push(
                self.probe_write(table, write_id, sample.as_ref(), roles.as_deref())
                    .await,
            );
        }
        report.checks.push(self.probe_choices().await);
        report.checks.push(self.probe_task_sla().await);
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_the_troubleshooting_classes() {
        let auth = |reason| ConnectorError::Auth {
            reason,
            message: "m".into(),
            remedy: "r".into(),
        };
        assert_eq!(
            classify(&auth(AuthFailure::BadCredentials)).0,
            Problem::AuthenticationFailed
        );
        assert_eq!(
            classify(&auth(AuthFailure::OAuthRejected)).0,
            Problem::AuthenticationFailed
        );
        assert_eq!(
            classify(&auth(AuthFailure::TokenExpiredOrRevoked)).0,
            Problem::TokenExpiredOrRevoked
        );
        assert_eq!(
            classify(&auth(AuthFailure::ApiKeyRejected)).0,
            Problem::ApiKeyPluginMissing
        );
        let perm = ConnectorError::Permission {
            message: "m".into(),
            remedy: "grant itil".into(),
        };
        assert_eq!(
            classify(&perm),
            (Problem::InsufficientPermissions, "grant itil".into())
        );
        let table = ConnectorError::Vendor {
            status: 400,
            message: "Invalid table task_sla".into(),
        };
        assert_eq!(classify(&table).0, Problem::TableMissing);
        assert_eq!(
            classify(&ConnectorError::Transport {
                message: "dns".into()
            })
            .0,
            Problem::WrongUrl
        );
        assert_eq!(
            classify(&ConnectorError::Timeout {
                message: "t".into()
            })
            .0,
            Problem::InstanceUnavailable
        );
    }

    #[test]
    fn a_report_is_ok_unless_something_failed() {
        let mut report = ConnectionReport {
            instance: "https://x/".into(),
            user_name: None,
            checks: vec![
                Check::pass(CheckId::Reachable, "ok"),
                Check::warn(CheckId::SysChoiceRead, "partial", "grant"),
            ],
        };
        assert!(report.ok());
        report.checks.push(Check::fail(
            CheckId::TaskSlaRead,
            Problem::InsufficientPermissions,
            "403",
            "grant",
        ));
        assert!(!report.ok());
        assert_eq!(report.problems(), vec![Problem::InsufficientPermissions]);
        assert_eq!(
            report.check(CheckId::TaskSlaRead).unwrap().title(),
            "Can read SLAs (task_sla)"
        );
    }
}
