//! Mapping rules checked against the site: every severity's priority against the default
//! project's createmeta priorities, every outbound status against the project's statuses (a
//! status name, or a category such as "Done"), and outbound resolutions against the site's
//! resolutions. A typo is caught when the rules are saved rather than when a ticket is created.

use lockstep_domain::{MappingRules, Severity};
use serde_json::Value;

use super::client::{JCall, JiraClient};
use super::workflow::Goal;
use crate::connector::MappingCheck;
use crate::error::{ConnectorError, Result};

pub(crate) async fn check(client: &JiraClient, rules: &MappingRules) -> Result<MappingCheck> {
    let MappingRules::Jira { issue } = rules else {
        return Err(ConnectorError::config(
            "these mapping rules are not Jira rules",
        ));
    };
    let mut out = MappingCheck::default();
    let Some(project) = client.config().default_project.clone() else {
        out.warnings.push(
            "the integration names no default project, so priorities and statuses could not be \
             checked; set settings.default_table to a project key"
                .into(),
        );
        return Ok(out);
    };
    let meta = client.create_meta(&project, false).await?;
    if let Some(field) = meta.field("priority").filter(|f| !f.allowed.is_empty()) {
        let allowed: Vec<&str> = field.allowed.iter().map(|a| a.name.as_str()).collect();
        for severity in Severity::ALL {
            let name = issue.severity.get(*severity).as_str();
            if !field.allows(name) {
                out.problems.push(format!(
                    "priority {name:?} (severity {severity}) is not in project {project}'s \
                     priority scheme; allowed: {}",
                    allowed.join(", ")
                ));
            }
        }
    }
    let statuses = client.project_statuses(&project).await?;
    let resolutions = resolution_names(client).await?;
    for rule in issue.outbound.rules() {
        if !Goal::new(rule.state.as_str(), &statuses).known() {
            let names: Vec<&str> = statuses.iter().map(|(n, _)| n.as_str()).collect();
            out.problems.push(format!(
                "status {:?} (outbound rule for {}) is neither a status of project {project} \
                 ({}) nor a status category (To Do, In Progress, Done)",
                rule.state.as_str(),
                rule.status,
                names.join(", ")
            ));
        }
        if let Some(code) = &rule.close_code
            && !resolutions
                .iter()
                .any(|r| r.eq_ignore_ascii_case(code.as_str()))
        {
            out.problems.push(format!(
                "resolution {:?} (outbound rule for {}) is not a resolution of the site; valid: {}",
                code.as_str(),
                rule.status,
                resolutions.join(", ")
            ));
        }
    }
    Ok(out)
}

async fn resolution_names(client: &JiraClient) -> Result<Vec<String>> {
    let resp = client
        .call(&JCall::get("resolutions", "resolution"))
        .await?;
    Ok(resp
        .body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("name").and_then(Value::as_str))
        .map(str::to_owned)
        .collect())
}
