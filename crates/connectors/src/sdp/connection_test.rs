//! The connection test: reaches the portal and authenticates (a one-row request list), reads the
//! lookups, templates and UDFs, probes write permission without writing anything, and checks that
//! the default request template asks for nothing Lockstep cannot fill. Each failure names its
//! class and what the SDP admin should do.

use http::Method;
use serde_json::json;

use super::client::{SdpCall, SdpClient};
use super::errors::REMEDY_FORBIDDEN;
use crate::connector::{CheckReport, CheckStatus, ConnectionReport};
use crate::error::ConnectorError;

/// Fields every request Lockstep creates sets.
const FILLED: &[&str] = &["subject", "description", "priority"];
/// Fields a create sets only when the integration's mapping gives them (the connection test
/// does not see the mapping, so it can only warn about these).
const MAPPABLE: &[&str] = &["urgency", "impact"];

fn report(
    id: &'static str,
    title: &'static str,
    status: CheckStatus,
    detail: impl Into<String>,
) -> CheckReport {
    CheckReport {
        id,
        title,
        status,
        detail: detail.into(),
        problem: None,
        remedy: None,
    }
}

fn failed(id: &'static str, title: &'static str, e: &ConnectorError, cloud: bool) -> CheckReport {
    let (problem, remedy) = match e {
        ConnectorError::Auth { remedy, .. } => ("authentication_failed", remedy.clone()),
        ConnectorError::Permission { remedy, .. } => ("permission_denied", remedy.clone()),
        ConnectorError::NotFound { .. } | ConnectorError::InvalidConfig { .. } => (
            "wrong_url",
            if cloud {
                "Check the portal name in the URL: https://<domain>/app/<portal>/ as shown in the \
                 browser after signing in to ServiceDesk Plus Cloud"
                    .to_owned()
            } else {
                "Check the URL: the ServiceDesk Plus server root (https://<host>:<port>/), or \
                 https://<host>/app/<portal>/ on multi-portal builds"
                    .to_owned()
            },
        ),
        ConnectorError::DestinationRefused { .. } => (
            "destination_refused",
            "Name the server's network in vendor_http.allow_private_networks".to_owned(),
        ),
        ConnectorError::Transport { .. } | ConnectorError::Timeout { .. } => (
            "unreachable",
            "Check the host name, port and firewall between Lockstep and ServiceDesk Plus, and that \
             its TLS certificate is trusted"
                .to_owned(),
        ),
        ConnectorError::InvalidResponse { .. } => (
            "wrong_url",
            "The address answered something other than ServiceDesk Plus: check the URL".to_owned(),
        ),
        _ => ("vendor_error", "Try again; if it persists, check the ServiceDesk Plus server".to_owned()),
    };
    CheckReport {
        id,
        title,
        status: CheckStatus::Fail,
        detail: e.to_string(),
        problem: Some(problem),
        remedy: Some(remedy),
    }
}

fn skipped(id: &'static str, title: &'static str) -> CheckReport {
    report(
        id,
        title,
        CheckStatus::Skipped,
        "not run: an earlier check failed",
    )
}

impl SdpClient {
    pub async fn test_connection(&self) -> ConnectionReport {
        let cloud = self.inner.auth.is_cloud();
        let mut checks = Vec::new();
        let list = SdpCall::new("connection_test", Method::GET, "requests")
            .input(json!({"list_info": {"row_count": 1, "start_index": 1}}));
        match self.call(&list).await {
            Ok(_) => checks.push(report(
                "authentication",
                "Reach the portal and authenticate",
                CheckStatus::Pass,
                format!("{} answered a request list", self.portal()),
            )),
            Err(e) => {
                checks.push(failed(
                    "authentication",
                    "Reach the portal and authenticate",
                    &e,
                    cloud,
                ));
                checks.push(skipped("metadata", "Read lookups, templates and UDFs"));
                checks.push(skipped("write_permission", "May create and close requests"));
                checks.push(skipped(
                    "mandatory_fields",
                    "The request template asks for nothing Lockstep cannot fill",
                ));
                return self.finish(checks);
            }
        }
        let instance = match self.instance().await {
            Ok(i) => {
                let status = if i.missing.is_empty() {
                    CheckStatus::Pass
                } else {
                    CheckStatus::Warn
                };
                let detail = if i.missing.is_empty() {
                    format!(
                        "{} statuses, {} priorities, {} UDFs",
                        i.statuses.len(),
                        i.choices("priority").map_or(0, <[_]>::len),
                        i.udfs.len()
                    )
                } else {
                    format!(
                        "some lists could not be read, so mappings cannot be fully checked: {}",
                        i.missing.join("; ")
                    )
                };
                checks.push(report(
                    "metadata",
                    "Read lookups, templates and UDFs",
                    status,
                    detail,
                ));
                Some(i)
            }
            Err(e) => {
                checks.push(failed(
                    "metadata",
                    "Read lookups, templates and UDFs",
                    &e,
                    cloud,
                ));
                None
            }
        };
        checks.push(self.write_probe(cloud).await);
        checks.push(match instance {
            Some(i) => {
                let missing: Vec<String> = i
                    .mandatory
                    .iter()
                    .filter(|f| !FILLED.contains(&f.as_str()))
                    .map(|f| match i.udfs.get(f) {
                        Some(d) => format!("{f} ({d})"),
                        None => f.clone(),
                    })
                    .collect();
                if missing.iter().all(|f| MAPPABLE.contains(&f.as_str())) && !missing.is_empty() {
                    CheckReport {
                        remedy: Some(
                            "Give urgency and impact for every severity in the integration's \
                             mapping rules (request.severity.<severity> = {\"priority\", \
                             \"urgency\", \"impact\"}); the mapping check confirms the names"
                                .into(),
                        ),
                        problem: Some("mandatory_fields"),
                        ..report(
                            "mandatory_fields",
                            "The request template asks for nothing Lockstep cannot fill",
                            CheckStatus::Warn,
                            format!(
                                "the template {} makes {} mandatory; Lockstep sends them only \
                                 where the integration's mapping gives them",
                                i.default_template.as_deref().unwrap_or("(default)"),
                                missing.join(", ")
                            ),
                        )
                    }
                } else if missing.is_empty() {
                    report(
                        "mandatory_fields",
                        "The request template asks for nothing Lockstep cannot fill",
                        CheckStatus::Pass,
                        "subject, description and priority are all the template requires",
                    )
                } else {
                    CheckReport {
                        id: "mandatory_fields",
                        title: "The request template asks for nothing Lockstep cannot fill",
                        status: CheckStatus::Fail,
                        detail: format!(
                            "the template {} makes {} mandatory; Lockstep fills only subject, \
                             description, priority (and urgency and impact from the mapping), \
                             so every create would be refused",
                            i.default_template.as_deref().unwrap_or("(default)"),
                            missing.join(", ")
                        ),
                        problem: Some("mandatory_fields"),
                        remedy: Some(
                            "Make these fields optional or give them defaults in the request \
                             template (Admin → Templates & Forms → Request Template)"
                                .into(),
                        ),
                    }
                }
            }
            None => skipped(
                "mandatory_fields",
                "The request template asks for nothing Lockstep cannot fill",
            ),
        });
        self.finish(checks)
    }

    /// A write to a request that cannot exist (id 0) with an empty change: refused with 4002
    /// when the technician may not edit requests, 4007 (not found) when it may. Nothing is
    /// written either way. That SDP checks the permission before the id is UNCONFIRMED (the
    /// emulator does); a 4007 is therefore reported as a pass with that caveat.
    async fn write_probe(&self, cloud: bool) -> CheckReport {
        const ID: &str = "write_permission";
        const TITLE: &str = "May create and close requests";
        let call =
            SdpCall::new("write_probe", Method::PUT, "requests/0").input(json!({"request": {}}));
        match self.call(&call).await {
            Err(ConnectorError::NotFound { .. }) | Ok(_) => report(
                ID,
                TITLE,
                CheckStatus::Pass,
                "an edit of a request that does not exist was not refused for permission (nothing written)",
            ),
            Err(e @ ConnectorError::Permission { .. }) => CheckReport {
                remedy: Some(REMEDY_FORBIDDEN.into()),
                ..failed(ID, TITLE, &e, cloud)
            },
            Err(e) => CheckReport {
                status: CheckStatus::Warn,
                ..failed(ID, TITLE, &e, cloud)
            },
        }
    }

    fn finish(&self, checks: Vec<CheckReport>) -> ConnectionReport {
        ConnectionReport {
            instance: self.portal().to_string(),
            user_name: None,
            checks,
        }
    }
}
