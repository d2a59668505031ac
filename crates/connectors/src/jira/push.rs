//! Outbound pushes: a finding change moves its issue to the status the outbound rule names,
//! through as many workflow transitions as the path needs ([`super::workflow`]), filling a
//! transition screen's required resolution. A transition answered 409 (another transition is
//! running on the issue, reference A6) is retried after a short wait. When no path exists the
//! note is left as a comment and the push fails with the reason, which the ticket writer records
//! on the finding's activity.

use std::time::Duration;

use lockstep_domain::{TicketObservation, TicketRef};
use serde_json::json;

use super::adf;
use super::client::{JCall, JiraClient};
use super::create::project_of;
use super::workflow::{
    Goal, StatusRef, Step, next_step, resolution_for, status_from_json, steps_from_json,
};
use crate::connector::OutboundChange;
use crate::error::{ConnectorError, Result};

/// The first wait after a 409; doubled per attempt.
const CONFLICT_WAIT: Duration = Duration::from_millis(100);

impl JiraClient {
    /// Moves `ticket` to `change.push.state`, sets its priority when asked, and leaves the note.
    pub async fn push_change(
        &self,
        ticket: &TicketRef,
        change: &OutboundChange,
    ) -> Result<TicketObservation> {
        let key = ticket.key().as_str();
        let project = project_of(ticket.target())?;
        let statuses = self.project_statuses(project).await?;
        let goal = Goal::new(change.push.state.as_str(), &statuses);
        let note = compose_note(change);
        let moved = if goal.known() {
            self.walk(key, &goal, change, note.as_deref()).await?
        } else {
            Walk::NoPath {
                at: self.current_status(key).await?,
                why: format!("project {project} has no status {:?}", goal.name),
            }
        };
        if let Some(priority) = &change.priority {
            let body = json!({"fields": {"priority": {"name": priority.as_str()}}});
            self.call(
                &JCall::new("set_priority", http::Method::PUT, format!("issue/{key}")).body(body),
            )
            .await?;
        }
        match moved {
            Walk::Reached { noted } => {
                if let (Some(text), false) = (note.as_deref(), noted) {
                    self.comment(key, text).await?;
                }
                self.read_issue(key).await
            }
            Walk::NoPath { at, why } => {
                let reason = format!(
                    "Lockstep could not move {key} to {:?}: no workflow transition path from {:?} \
                     ({why})",
                    goal.name, at.name
                );
                let text = match &note {
                    Some(n) => format!("{n}\n\n{reason}"),
                    None => reason.clone(),
                };
                self.comment(key, &text).await?;
                Err(ConnectorError::DataPolicy {
                    message: format!("{reason}; a comment was left on the issue instead"),
                    remedy: "Add a transition towards that status to the project's workflow (the \
                             integration account needs the Transition Issues permission), or \
                             change the integration's outbound rule to a status the workflow \
                             reaches"
                        .into(),
                })
            }
        }
    }

    async fn current_status(&self, key: &str) -> Result<StatusRef> {
        let resp = self
            .call(&JCall::get("get_issue_status", format!("issue/{key}")).query("fields", "status"))
            .await?;
        resp.body
            .pointer("/fields/status")
            .and_then(status_from_json)
            .ok_or_else(|| ConnectorError::invalid_response(format!("issue {key} has no status")))
    }

    /// Transitions step by step until the goal is reached or no step leads closer.
    async fn walk(
        &self,
        key: &str,
        goal: &Goal,
        change: &OutboundChange,
        note: Option<&str>,
    ) -> Result<Walk> {
        let mut current = self.current_status(key).await?;
        let mut visited = vec![current.id.clone()];
        for _ in 0..=self.config().max_hops {
            if goal.reached_by(&current) {
                return Ok(Walk::Reached { noted: false });
            }
            let steps = self.transitions(key).await?;
            let Some(step) = next_step(goal, &current, &steps, &visited) else {
                let why = if steps.is_empty() {
                    "no transition is available to the integration account".to_owned()
                } else {
                    let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
                    format!(
                        "the transitions offered lead away from it: {}",
                        names.join(", ")
                    )
                };
                return Ok(Walk::NoPath { at: current, why });
            };
            let last = goal.reached_by(&step.to);
            let resolution =
                resolution_for(step, change.push.close_code.as_ref().map(|c| c.as_str()));
            self.transition(key, step, resolution, note.filter(|_| last))
                .await?;
            if last {
                return Ok(Walk::Reached {
                    noted: note.is_some(),
                });
            }
            visited.push(step.to.id.clone());
            current = step.to.clone();
        }
        Ok(Walk::NoPath {
            at: current,
            why: format!(
                "more than {} transitions would be needed",
                self.config().max_hops
            ),
        })
    }

    async fn transitions(&self, key: &str) -> Result<Vec<Step>> {
        let resp = self
            .call(
                &JCall::get("list_transitions", format!("issue/{key}/transitions"))
                    .query("expand", "transitions.fields"),
            )
            .await?;
        Ok(steps_from_json(&resp.body))
    }

    /// Performs one transition (204), retrying a 409 a few times.
    async fn transition(
        &self,
        key: &str,
        step: &Step,
        resolution: Option<String>,
        note: Option<&str>,
    ) -> Result<()> {
        let mut body = json!({"transition": {"id": step.id}});
        if let Some(name) = resolution {
            body["fields"] = json!({"resolution": {"name": name}});
        }
        if let Some(text) = note {
            body["update"] = json!({"comment": [{"add": {"body": adf::doc(text)}}]});
        }
        let call = JCall::post("transition_issue", format!("issue/{key}/transitions"), body)
            .idempotent(false);
        let mut wait = CONFLICT_WAIT;
        let mut attempt = 1;
        loop {
            match self.call(&call).await {
                Err(ConnectorError::Vendor {
                    status: 409,
                    message,
                }) if attempt < self.config().conflict_attempts => {
                    tracing::info!(key, attempt, %message, "transition conflict (409); retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    attempt += 1;
                }
                other => return other.map(|_| ()),
            }
        }
    }
}

enum Walk {
    /// `noted`: the note went with the last transition.
    Reached {
        noted: bool,
    },
    NoPath {
        at: StatusRef,
        why: String,
    },
}

/// The note of a push: the rule's close notes, then the change's note.
fn compose_note(change: &OutboundChange) -> Option<String> {
    let parts: Vec<&str> = [change.push.close_notes.as_deref(), change.note.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}
