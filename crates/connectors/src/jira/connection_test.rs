//! The structured connection test of a Jira integration: one check per thing that can be wrong,
//! each failure with the class of problem and what the site's admin should do. It creates
//! nothing on the site.
//!
//! 1. `authentication`: `GET /myself` (bad token → `authentication_failed`; not Jira at that
//!    address → `wrong_url`). Shows the account and its time zone.
//! 2. `project`: the integration's default project exists and is visible (`project_not_found`).
//! 3. `permissions`: `GET /mypermissions` for Browse Projects, Create Issues, Transition Issues
//!    and Add Comments in that project (`missing_permission`).
//! 4. `issue_type`: the configured issue type can be created there (createmeta), and no required
//!    field is one Lockstep cannot fill (`issue_type_missing`, `required_field`).
//! 5. `priorities`: the default priority mapping against the project's priority scheme
//!    (`priority_scheme_mismatch`, a warning: the integration's own mapping is checked when saved).

use lockstep_domain::{BySeverity, Label, Severity};
use serde_json::Value;

use super::client::{JCall, JiraClient};
use crate::connector::{CheckReport, CheckStatus, ConnectionReport};
use crate::error::ConnectorError;

const PERMISSIONS: [(&str, &str); 4] = [
    ("BROWSE_PROJECTS", "Browse Projects"),
    ("CREATE_ISSUES", "Create Issues"),
    ("TRANSITION_ISSUES", "Transition Issues"),
    ("ADD_COMMENTS", "Add Comments"),
];

fn check(
    id: &'static str,
    title: &'static str,
    status: CheckStatus,
    detail: String,
) -> CheckReport {
    CheckReport {
        id,
        title,
        status,
        detail,
        problem: None,
        remedy: None,
    }
}

fn fail(
    id: &'static str,
    title: &'static str,
    detail: String,
    problem: &'static str,
    remedy: String,
) -> CheckReport {
    CheckReport {
        status: CheckStatus::Fail,
        problem: Some(problem),
        remedy: Some(remedy),
        ..check(id, title, CheckStatus::Fail, detail)
    }
}

fn auth_failure(e: &ConnectorError, site: &str) -> CheckReport {
    let title = "Authenticate";
    match e {
        ConnectorError::Auth {
            remedy, message, ..
        } => fail(
            "authentication",
            title,
            message.clone(),
            "authentication_failed",
            remedy.clone(),
        ),
        ConnectorError::Transport { .. }
        | ConnectorError::InvalidResponse { .. }
        | ConnectorError::NotFound { .. }
        | ConnectorError::InvalidConfig { .. }
        | ConnectorError::DestinationRefused { .. } => fail(
            "authentication",
            title,
            e.to_string(),
            "wrong_url",
            format!(
                "Check the site URL ({site}): it must be the Jira Cloud site itself, such as \
                 https://<site>.atlassian.net, reachable from Lockstep"
            ),
        ),
        other => fail(
            "authentication",
            title,
            other.to_string(),
            "vendor_error",
            "Try again later; if it persists, check Jira's status page".into(),
        ),
    }
}

impl JiraClient {
    /// Runs the checks in order; a failed check skips those that depend on it.
    pub async fn test_connection(&self) -> ConnectionReport {
        let site = self.site().to_string();
        let mut report = ConnectionReport {
            instance: site.clone(),
            user_name: None,
            checks: Vec::new(),
        };
        match self.call(&JCall::get("myself", "myself")).await {
            Ok(me) => {
                let name = me
                    .body
                    .get("displayName")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                let email = me
                    .body
                    .get("emailAddress")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let zone = me
                    .body
                    .get("timeZone")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown");
                report.user_name = Some(name.to_owned());
                report.checks.push(check(
                    "authentication",
                    "Authenticate",
                    CheckStatus::Pass,
                    format!("signed in as {name} {email} (time zone {zone})"),
                ));
            }
            Err(e) => {
                report.checks.push(auth_failure(&e, &site));
                return self.skip_rest(report);
            }
        }
        let Some(project) = self.config().default_project.clone() else {
            report.checks.push(check(
                "project",
                "Project",
                CheckStatus::Warn,
                "the integration names no default project; set one so project permissions, \
                 issue types and priorities can be checked"
                    .into(),
            ));
            return report;
        };
        report.checks.extend(self.project_checks(&project).await);
        report
    }

    fn skip_rest(&self, mut report: ConnectionReport) -> ConnectionReport {
        for (id, title) in [
            ("project", "Project"),
            ("permissions", "Permissions"),
            ("issue_type", "Issue type"),
            ("priorities", "Priorities"),
        ] {
            report.checks.push(check(
                id,
                title,
                CheckStatus::Skipped,
                "not run: an earlier check failed".into(),
            ));
        }
        report
    }

    async fn project_checks(&self, project: &str) -> Vec<CheckReport> {
        let mut out = Vec::new();
        if let Err(e) = self
            .call(&JCall::get("get_project", format!("project/{project}")))
            .await
        {
            out.push(fail(
                "project",
                "Project",
                e.to_string(),
                "project_not_found",
                format!(
                    "Check the project key {project}, and that the integration account has the \
                     Browse Projects permission in it (Jira answers 404 for projects it may not see)"
                ),
            ));
            return out;
        }
        out.push(check(
            "project",
            "Project",
            CheckStatus::Pass,
            format!("{project} is visible"),
        ));
        out.push(self.permissions_check(project).await);
        let meta = match self.create_meta(project, false).await {
            Ok(meta) => meta,
            Err(e) => {
                out.push(fail(
                    "issue_type",
                    "Issue type",
                    e.to_string(),
                    "issue_type_missing",
                    format!(
                        "Add the issue type {:?} to project {project}'s issue type scheme, or \
                         give the account the Create Issues permission",
                        self.config().issue_type
                    ),
                ));
                return out;
            }
        };
        out.push(match meta.unfillable().first() {
            Some(f) => fail(
                "issue_type",
                "Issue type",
                format!(
                    "{} requires {} ({}), which Lockstep does not fill",
                    project, f.name, f.id
                ),
                "required_field",
                "Make the field optional or give it a default value in the project's field \
                 configuration"
                    .into(),
            ),
            None => check(
                "issue_type",
                "Issue type",
                CheckStatus::Pass,
                format!(
                    "{} issues can be created in {project}",
                    meta.issue_type.name
                ),
            ),
        });
        out.push(priority_check(
            project,
            meta.field("priority")
                .map(|f| f.allowed.iter().map(|a| a.name.clone()).collect::<Vec<_>>()),
        ));
        out
    }

    async fn permissions_check(&self, project: &str) -> CheckReport {
        let keys: Vec<&str> = PERMISSIONS.iter().map(|(k, _)| *k).collect();
        let call = JCall::get("my_permissions", "mypermissions")
            .query("projectKey", project)
            .query("permissions", keys.join(","));
        let body = match self.call(&call).await {
            Ok(r) => r.body,
            Err(e) => {
                return check(
                    "permissions",
                    "Permissions",
                    CheckStatus::Warn,
                    format!("could not read the account's permissions ({e})"),
                );
            }
        };
        let missing: Vec<&str> = PERMISSIONS
            .iter()
            .filter(|(k, _)| {
                body.pointer(&format!("/permissions/{k}/havePermission"))
                    .and_then(Value::as_bool)
                    != Some(true)
            })
            .map(|(_, name)| *name)
            .collect();
        if missing.is_empty() {
            return check(
                "permissions",
                "Permissions",
                CheckStatus::Pass,
                "Browse Projects, Create Issues, Transition Issues, Add Comments".into(),
            );
        }
        fail(
            "permissions",
            "Permissions",
            format!("missing in {project}: {}", missing.join(", ")),
            "missing_permission",
            format!(
                "Grant the integration account {} in project {project}'s permission scheme \
                 (Project settings → Permissions)",
                missing.join(", ")
            ),
        )
    }
}

/// The default mapping's priority names against the project's allowed priorities.
fn priority_check(project: &str, allowed: Option<Vec<String>>) -> CheckReport {
    let Some(allowed) = allowed.filter(|a| !a.is_empty()) else {
        return check(
            "priorities",
            "Priorities",
            CheckStatus::Warn,
            format!("priority is not on {project}'s create screen; Jira's default applies"),
        );
    };
    let defaults = BySeverity::<Label>::jira_default();
    let missing: Vec<String> = Severity::ALL
        .iter()
        .map(|s| defaults.get(*s).as_str().to_owned())
        .filter(|p| !allowed.iter().any(|a| a.eq_ignore_ascii_case(p)))
        .collect();
    if missing.is_empty() {
        return check(
            "priorities",
            "Priorities",
            CheckStatus::Pass,
            allowed.join(", "),
        );
    }
    CheckReport {
        problem: Some("priority_scheme_mismatch"),
        remedy: Some(format!(
            "Map every severity to one of {project}'s priorities ({}) in the integration's \
             mapping rules, or add {} to the project's priority scheme",
            allowed.join(", "),
            missing.join(", ")
        )),
        ..check(
            "priorities",
            "Priorities",
            CheckStatus::Warn,
            format!(
                "the default mapping uses {} which {project} does not allow",
                missing.join(", ")
            ),
        )
    }
}
