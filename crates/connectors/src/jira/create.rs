//! Issues created for findings (reference A2): the request body built from a
//! [`TicketCreate`] and the project's createmeta, the single create, the link of the "link"
//! mode, and the lookup by correlation label that repairs a create whose answer was lost.

use http::Method;
use lockstep_domain::{DraftPriority, FindingId, TicketMode, TicketObservation, TicketTarget};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::adf;
use super::client::{JCall, JiraClient};
use super::issue::{LOCKSTEP_LABEL, OBSERVED_FIELDS, correlation_label, observation_from_issue};
use super::meta::CreateMeta;
use crate::connector::{CreatedTicket, TicketCreate};
use crate::error::{ConnectorError, Result};

pub(crate) fn project_of(target: &TicketTarget) -> Result<&str> {
    match target {
        TicketTarget::Jira(project) => Ok(project.as_str()),
        other => Err(ConnectorError::config(format!(
            "{other} is not a Jira project"
        ))),
    }
}

/// A Jira label: no spaces (Jira refuses them), at most 255 characters.
fn label(raw: &str) -> Option<String> {
    let l: String = raw
        .trim()
        .chars()
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .take(255)
        .collect();
    (!l.is_empty()).then_some(l)
}

/// The `fields` of a create request, checked against the project's createmeta first: a priority
/// outside the project's scheme, or a required field Lockstep cannot fill, is refused here with
/// what to change, before any issue exists.
pub fn create_fields(create: &TicketCreate, meta: &CreateMeta) -> Result<Value> {
    let draft = &create.draft;
    let project = &meta.project;
    if let Some(missing) = meta.unfillable().first() {
        return Err(ConnectorError::DataPolicy {
            message: format!(
                "project {project} requires the field {} ({}) on {} issues, which Lockstep does \
                 not fill",
                missing.name, missing.id, meta.issue_type.name
            ),
            remedy: "Make the field optional or give it a default value in the project's field \
                     configuration, or use another project"
                .into(),
        });
    }
    let description = format!(
        "{}\n\n{} ({})",
        draft.description.trim_end(),
        create.reference_label,
        draft.correlation_id
    );
    let mut labels = vec![
        LOCKSTEP_LABEL.to_owned(),
        correlation_label(create.finding_id),
    ];
    labels.extend(create.labels.iter().filter_map(|l| label(l)));
    labels.dedup();
    let mut fields = json!({
        "project": {"key": project},
        "issuetype": {"id": meta.issue_type.id},
        "summary": draft.summary.value,
        "description": adf::doc(&description),
        "labels": labels,
    });
    if let DraftPriority::Named(priority) = &draft.priority {
        let name = priority.value.as_str();
        match meta.field("priority") {
            Some(f) if !f.allowed.is_empty() && !f.allows(name) => {
                let allowed: Vec<&str> = f.allowed.iter().map(|a| a.name.as_str()).collect();
                return Err(ConnectorError::DataPolicy {
                    message: format!(
                        "priority {name:?} is not in project {project}'s priority scheme \
                         (allowed: {})",
                        allowed.join(", ")
                    ),
                    remedy: "Change the integration's priority mapping to one of the allowed \
                             names, or add the priority to the project's priority scheme"
                        .into(),
                });
            }
            Some(_) => fields["priority"] = json!({"name": name}),
            // Not on the create screen: Jira would refuse it, so the project default applies.
            None => tracing::debug!(project, "priority is not on the create screen; not sent"),
        }
    }
    if let Some(assignee) = &draft.assignee {
        fields["assignee"] = json!({"accountId": assignee.value.as_str()});
    }
    if let Some(reporter) = create.reporter.as_deref().filter(|r| !r.trim().is_empty()) {
        fields["reporter"] = json!({"accountId": reporter.trim()});
    }
    if let TicketMode::Subtask { parent } = &create.mode {
        fields["parent"] = json!({"key": parent.as_str()});
    }
    Ok(json!({ "fields": fields }))
}

/// Errors on which Jira may have created the issue although we did not hear it.
pub(crate) fn answer_may_be_lost(e: &ConnectorError) -> bool {
    match e {
        ConnectorError::Timeout { .. } | ConnectorError::Transport { .. } => true,
        ConnectorError::Vendor { status, .. } => *status >= 500,
        _ => false,
    }
}

impl JiraClient {
    /// The request body of `create` (createmeta read from the cache).
    pub(crate) async fn create_body(&self, create: &TicketCreate) -> Result<Value> {
        let project = project_of(&create.draft.target)?;
        let subtask = matches!(create.mode, TicketMode::Subtask { .. });
        let meta = self.create_meta(project, subtask).await?;
        create_fields(create, &meta)
    }

    /// Creates one issue. A create whose answer is lost is looked up by its correlation label
    /// before the error is returned, so the caller never makes a second issue.
    pub async fn create_issue(&self, create: &TicketCreate) -> Result<CreatedTicket> {
        let body = self.create_body(create).await?;
        let posted = self
            .call(&JCall::post("create_issue", "issue", body).idempotent(false))
            .await;
        let id = match posted {
            Ok(resp) => super::issue::id_at(&resp.body, "/id").ok_or_else(|| {
                ConnectorError::invalid_response("the create answer has no issue id")
            })?,
            Err(e) if answer_may_be_lost(&e) => {
                return match self
                    .find_by_correlation(&create.draft.target, create.finding_id)
                    .await
                {
                    Ok(Some(obs)) => {
                        tracing::warn!(error = %e, ticket = %obs.ticket, "create answer lost; found the issue by its correlation label");
                        Ok(self.created(obs, true))
                    }
                    _ => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        let observation = self.read_issue(&id).await?;
        if let TicketMode::Link { related } = &create.mode {
            self.link(observation.ticket.key().as_str(), related.as_str())
                .await;
        }
        Ok(self.created(observation, false))
    }

    /// Links `key` to `related` with the configured link type (201, empty body). A refused link
    /// leaves a comment naming the related issue instead, so the relation is never lost.
    pub(crate) async fn link(&self, key: &str, related: &str) {
        let body = json!({"type": {"name": self.config().link_type},
                          "inwardIssue": {"key": key}, "outwardIssue": {"key": related}});
        if let Err(e) = self
            .call(&JCall::post("link_issue", "issueLink", body).idempotent(true))
            .await
        {
            tracing::warn!(key, related, error = %e, "Jira refused the issue link; leaving a comment instead");
            let note = format!("Related issue: {related} (Lockstep could not link it: {e})");
            if let Err(e) = self.comment(key, &note).await {
                tracing::warn!(key, error = %e, "the comment naming the related issue failed too");
            }
        }
    }

    /// Adds a comment (ADF body).
    pub(crate) async fn comment(&self, key: &str, text: &str) -> Result<()> {
        self.call(
            &JCall::post(
                "add_comment",
                format!("issue/{key}/comment"),
                json!({"body": adf::doc(text)}),
            )
            .idempotent(false),
        )
        .await
        .map(|_| ())
    }

    /// The issue as an observation (`GET /issue/{id}` with the observed fields).
    pub async fn read_issue(&self, id_or_key: &str) -> Result<TicketObservation> {
        let resp = self
            .call(
                &JCall::new("get_issue", Method::GET, format!("issue/{id_or_key}"))
                    .query("fields", OBSERVED_FIELDS.join(",")),
            )
            .await?;
        observation_from_issue(&resp.body, None, None, OffsetDateTime::now_utc())
    }

    pub(crate) fn created(&self, observation: TicketObservation, recovered: bool) -> CreatedTicket {
        CreatedTicket {
            url: self.site().browse(observation.ticket.key().as_str()),
            ticket: observation.ticket.clone(),
            observation,
            recovered,
        }
    }

    /// The issue of `finding` in `target`, found by its correlation label; the oldest when a
    /// person copied the label onto another issue. Search is eventually consistent (reference
    /// A5): an issue created a moment ago may not be found yet, which is why a lost create answer
    /// is looked up only after the create call has ended.
    pub async fn find_by_correlation(
        &self,
        target: &TicketTarget,
        finding: FindingId,
    ) -> Result<Option<TicketObservation>> {
        let project = project_of(target)?;
        let jql = format!(
            "project = \"{project}\" AND labels = \"{}\" ORDER BY created ASC, id ASC",
            correlation_label(finding)
        );
        let found = self.search(&jql, 1, None, &[]).await?;
        found
            .issues
            .first()
            .map(|i| observation_from_issue(i, None, None, OffsetDateTime::now_utc()))
            .transpose()
    }
}

#[cfg(test)]
mod tests;
