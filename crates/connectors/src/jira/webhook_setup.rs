//! Webhook auto-setup for Jira: the admin webhook of reference A7, registered over
//! `POST /rest/webhooks/1.0/webhook` with a secret (Jira then signs deliveries with
//! `X-Hub-Signature: sha256=…`) and a JQL filter scoped to the linked projects and Lockstep's
//! label, and removed with `DELETE /rest/webhooks/1.0/webhook/{id}`. Only Jira administrators
//! may manage admin webhooks (a 403 otherwise; with OAuth the `manage:jira-webhook` scope too):
//! the caller then shows [`manual_steps`].
//!
//! UNCONFIRMED (reference A7): the DELETE path, and that the POST answer carries the webhook's
//! `self` URL ending in its id (the emulator does both); an `id` field is read too when present.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::client::{JCall, JiraClient, envelope_message, error_from_response};
use super::issue::LOCKSTEP_LABEL;
use crate::error::{ConnectorError, Result};
use crate::http::VendorResponse;
use crate::webhook_setup::{RegisteredWebhook, WebhookRegistrar, WebhookRequest};

const PATH: &str = "rest/webhooks/1.0/webhook";
/// The events the one parser reads ([`super::webhook`]).
pub const EVENTS: [&str; 3] = [
    "jira:issue_created",
    "jira:issue_updated",
    "comment_created",
];
/// The admin webhook's JQL filter key (reference A7).
const FILTER_KEY: &str = "issue-related-events-section";

/// The webhook's JQL: Lockstep's issues in the linked projects (an unscoped admin webhook would
/// send every issue of the site).
pub fn scope_jql(request: &WebhookRequest<'_>) -> String {
    let label = format!("labels = \"{LOCKSTEP_LABEL}\"");
    if request.scope.is_empty() {
        return label;
    }
    let projects: Vec<String> = request
        .scope
        .iter()
        .map(|t| format!("\"{}\"", t.container()))
        .collect();
    format!("project in ({}) AND {label}", projects.join(", "))
}

/// What a Jira administrator does by hand: Settings → System → WebHooks.
pub fn manual_steps(request: &WebhookRequest<'_>) -> String {
    format!(
        "Ask a Jira administrator to create an admin webhook (Settings → System → WebHooks → \
         Create a WebHook):\n\
         1. URL: {url}\n\
         2. Events: Issue created, Issue updated, Comment created ({events}).\n\
         3. JQL filter: {jql}\n\
         4. Secret: {secret} (paste it into the webhook's Secret field; Jira signs each delivery \
         with it in X-Hub-Signature).\n\
         Leave \"Exclude body\" unticked.",
        url = request.callback_url,
        events = EVENTS.join(", "),
        jql = scope_jql(request),
        secret = request.secret,
    )
}

/// The webhook id in a registration answer: `id` when present, else the last segment of `self`.
fn webhook_id(body: &Value) -> Option<String> {
    if let Some(id) = body.get("id") {
        return id
            .as_u64()
            .map(|n| n.to_string())
            .or_else(|| id.as_str().map(str::to_owned));
    }
    let url = body.get("self")?.as_str()?;
    let last = url.trim_end_matches('/').rsplit('/').next()?;
    (!last.is_empty()).then(|| last.to_owned())
}

/// A refused webhook call; a 403 names the permission webhooks need, not project permissions.
fn webhook_error(resp: &VendorResponse, op: &str) -> ConnectorError {
    match resp.status {
        StatusCode::FORBIDDEN => ConnectorError::Permission {
            message: format!("{} ({op})", envelope_message(resp)),
            remedy: "Only Jira administrators may manage admin webhooks (with OAuth, also the \
                     manage:jira-webhook scope): ask one to create the webhook by hand, or make \
                     the integration account a Jira administrator"
                .into(),
        },
        _ => error_from_response(resp, op),
    }
}

#[async_trait::async_trait]
impl WebhookRegistrar for JiraClient {
    async fn register(&self, request: &WebhookRequest<'_>) -> Result<RegisteredWebhook> {
        let body = json!({
            "name": format!("Lockstep {}", self.config().integration_id),
            "url": request.callback_url.as_str(),
            "events": EVENTS,
            "filters": {FILTER_KEY: scope_jql(request)},
            "excludeBody": false,
            "secret": request.secret,
        });
        // Not idempotent: a lost answer retried would register a second webhook.
        let call = JCall::post("register webhook", PATH, body).idempotent(false);
        let resp = self.send_raw(&call).await?;
        if resp.status == StatusCode::UNAUTHORIZED {
            return Err(self.inner.auth.rejected(&envelope_message(&resp)));
        }
        if !resp.status.is_success() {
            return Err(webhook_error(&resp, call.op));
        }
        let body: Value = resp.json()?;
        let vendor_id = webhook_id(&body).ok_or_else(|| {
            ConnectorError::invalid_response(
                "Jira registered the webhook but its answer names no id; remove it in Settings → \
                 System → WebHooks if the integration is deleted",
            )
        })?;
        Ok(RegisteredWebhook { vendor_id })
    }

    async fn unregister(&self, vendor_id: &str) -> Result<()> {
        if vendor_id.is_empty() || !vendor_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConnectorError::config(format!(
                "{vendor_id:?} is not a Jira webhook id"
            )));
        }
        let call = JCall::new(
            "unregister webhook",
            Method::DELETE,
            format!("{PATH}/{vendor_id}"),
        );
        let resp = self.send_raw(&call).await?;
        match resp.status {
            s if s.is_success() || s == StatusCode::NOT_FOUND => Ok(()),
            _ => Err(webhook_error(&resp, call.op)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_domain::{TicketTarget, Vendor};

    #[test]
    fn the_jql_is_scoped_to_the_projects_and_the_label() {
        let url = url::Url::parse("https://lockstep.example/v1/webhooks/x").unwrap();
        let scope = [
            TicketTarget::parse(Vendor::Jira, "SEC").unwrap(),
            TicketTarget::parse(Vendor::Jira, "OPS").unwrap(),
        ];
        let req = WebhookRequest {
            callback_url: &url,
            secret: "s",
            scope: &scope,
        };
        assert_eq!(
            scope_jql(&req),
            "project in (\"SEC\", \"OPS\") AND labels = \"lockstep\""
        );
        let none = WebhookRequest { scope: &[], ..req };
        assert_eq!(scope_jql(&none), "labels = \"lockstep\"");
        assert!(manual_steps(&req).contains("https://lockstep.example/v1/webhooks/x"));
    }

    #[test]
    fn the_id_comes_from_id_or_the_self_url() {
        assert_eq!(webhook_id(&json!({"id": 7})).as_deref(), Some("7"));
        let body = json!({"self": "https://x.atlassian.net/rest/webhooks/1.0/webhook/12"});
        assert_eq!(webhook_id(&body).as_deref(), Some("12"));
        assert_eq!(webhook_id(&json!({})), None);
    }
}
