//! Admin webhooks (reference A7): registration over `/rest/webhooks/1.0/webhook[/{id}]` (site admins;
//! the GET/PUT/DELETE paths are unconfirmed in the reference), and the deliveries a committed change
//! causes: the v2 representation with `changelog.items`, `X-Atlassian-Webhook-Identifier` (stable
//! across retries), `X-Atlassian-Webhook-Flow: Primary`, `X-Atlassian-Webhook-Retry` on retries,
//! `X-Hub-Signature: sha256=<hex>` when a secret is set; retried on 408/409/425/429/5xx. Each
//! registration is one shared delivery target, so the drop/duplicate/reorder behaviour and the
//! delivery log of `/_sim/webhooks/…` apply to Jira as to ServiceNow.

use http::StatusCode;
use serde_json::{Value, json};

use super::auth::Caller;
use super::db::JiraDb;
use super::errors::{JResult, JiraError};
use super::jql::{self, eval::Ctx};
use super::model::{AdminWebhook, Comment, History};
use super::render::{self, FieldSel, IssueView};
use super::{JReq, JResp, Jira, Version};
use crate::webhooks::{OutboundEvent, RetryPolicy, Signing, WebhookTargetSpec};

pub const FILTER_KEY: &str = "issue-related-events-section";

pub enum Kind {
    Created,
    Updated {
        type_name: &'static str,
        history: Option<History>,
    },
    Commented(Comment),
    /// Sent while the issue still exists: the payload is the issue as it was.
    Deleted,
}

pub struct IssueEvent {
    pub issue_id: u64,
    pub actor: String,
    pub kind: Kind,
}

impl IssueEvent {
    pub fn created(issue_id: u64, actor: &str) -> Self {
        Self {
            issue_id,
            actor: actor.into(),
            kind: Kind::Created,
        }
    }
    pub fn updated(
        issue_id: u64,
        actor: &str,
        type_name: &'static str,
        history: Option<History>,
    ) -> Self {
        Self {
            issue_id,
            actor: actor.into(),
            kind: Kind::Updated { type_name, history },
        }
    }
    pub fn deleted(issue_id: u64, actor: &str) -> Self {
        Self {
            issue_id,
            actor: actor.into(),
            kind: Kind::Deleted,
        }
    }
    pub fn commented(issue_id: u64, actor: &str, c: Comment) -> Self {
        Self {
            issue_id,
            actor: actor.into(),
            kind: Kind::Commented(c),
        }
    }
}

fn hook_matches(db: &JiraDb, j: &Jira, hook: &AdminWebhook, issue_id: u64) -> bool {
    let Some(issue) = db.issues.get(&issue_id) else {
        return false;
    };
    let Some(text) = hook.jql.as_deref().filter(|t| !t.trim().is_empty()) else {
        return true;
    };
    let Ok(q) = jql::parse(text) else {
        return false;
    };
    let ctx = Ctx {
        db,
        account_id: super::seed::ADMIN,
        tz: time::UtcOffset::UTC,
        now: j.clock.now(),
    };
    q.filter.as_ref().is_none_or(|f| ctx.matches(f, issue))
}

/// Payloads for one committed change: `(webhookEvent, body)` pairs.
fn payloads(j: &Jira, db: &JiraDb, ev: &IssueEvent) -> Vec<(&'static str, Value)> {
    let Some(issue) = db.issues.get(&ev.issue_id) else {
        return Vec::new();
    };
    let all = FieldSel::parse(&[], true);
    let tz = render::user_offset(db, &ev.actor);
    let view = IssueView {
        version: Version::V2,
        fields: &all,
        tz,
        changelog: false,
    };
    let base = json!({
        "timestamp": j.clock.now().unix_timestamp() * 1000,
        "user": render::user(db, &j.base_url, Version::V2, &ev.actor),
        "issue": render::issue(db, &j.base_url, issue, &view),
    });
    let with = |event: &'static str, extra: Value| {
        let mut b = base.clone();
        b["webhookEvent"] = json!(event);
        if let (Some(b), Some(x)) = (b.as_object_mut(), extra.as_object()) {
            b.extend(x.clone());
        }
        (event, b)
    };
    match &ev.kind {
        // No changelog on create.
        Kind::Created => vec![with(
            "jira:issue_created",
            json!({"issue_event_type_name": "issue_created"}),
        )],
        Kind::Updated { type_name, history } => {
            let changelog = history.as_ref().map_or(Value::Null, |h| {
                json!({"id": h.id, "items": h.items.iter().map(render::change_item).collect::<Vec<_>>()})
            });
            vec![with(
                "jira:issue_updated",
                json!({"issue_event_type_name": type_name, "changelog": changelog}),
            )]
        }
        Kind::Deleted => vec![with(
            "jira:issue_deleted",
            json!({"issue_event_type_name": "issue_deleted"}),
        )],
        Kind::Commented(c) => {
            let comment = render::comment(db, &j.base_url, Version::V2, issue, c, tz);
            vec![
                with("comment_created", json!({"comment": comment})),
                with(
                    "jira:issue_updated",
                    json!({"issue_event_type_name": "issue_commented", "comment": comment}),
                ),
            ]
        }
    }
}

/// Hands one change's deliveries to the shared sender (called with the write lock held).
pub fn emit(j: &Jira, db: &JiraDb, ev: IssueEvent) {
    if db.webhooks.iter().all(|h| !h.enabled) {
        return;
    }
    for (event, body) in payloads(j, db, &ev) {
        let bytes = body.to_string().into_bytes();
        for hook in db
            .webhooks
            .iter()
            .filter(|h| h.enabled && h.events.iter().any(|e| e == event))
        {
            if !hook_matches(db, j, hook, ev.issue_id) {
                continue;
            }
            let seq = j.next_event();
            let identifier = seq.to_string();
            j.webhooks.emit(OutboundEvent {
                vendor: "jira".into(),
                topic: topic(hook.id),
                event_id: identifier.clone(),
                body: if hook.exclude_body {
                    Vec::new()
                } else {
                    bytes.clone()
                },
                headers: vec![
                    ("X-Atlassian-Webhook-Identifier".into(), identifier),
                    ("X-Atlassian-Webhook-Flow".into(), "Primary".into()),
                ],
            });
        }
    }
}

pub fn topic(id: u64) -> String {
    format!("jira-webhook-{id}")
}

fn render_hook(j: &Jira, db: &JiraDb, h: &AdminWebhook) -> Value {
    json!({
        "self": format!("{}/rest/webhooks/1.0/webhook/{}", j.base_url, h.id),
        "name": h.name, "url": h.url, "events": h.events,
        "filters": {FILTER_KEY: h.jql.clone().unwrap_or_default()},
        "excludeBody": h.exclude_body, "enabled": h.enabled,
        "lastUpdatedUser": db.users.iter().find(|u| u.site_admin).map(|u| u.account_id.clone()),
    })
}

fn target_spec(j: &Jira, h: &AdminWebhook) -> WebhookTargetSpec {
    let s = j.settings();
    WebhookTargetSpec {
        url: h.url.clone(),
        secret: h.secret.clone(),
        vendor: Some("jira".into()),
        topics: vec![topic(h.id)],
        signing: Signing::HubSha256,
        retry: Some(RetryPolicy {
            max_retries: s.webhook_max_retries,
            backoff_ms: s.webhook_retry_backoff_ms,
            statuses: vec![408, 409, 425, 429],
            server_errors: true,
            header: Some("X-Atlassian-Webhook-Retry".into()),
        }),
        ..WebhookTargetSpec::default()
    }
}

fn read_hook(body: &Value, old: Option<&AdminWebhook>) -> JResult<AdminWebhook> {
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(String::from);
    let url = s("url")
        .or_else(|| old.map(|o| o.url.clone()))
        .unwrap_or_default();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(JiraError::field(
            StatusCode::BAD_REQUEST,
            "url",
            "The URL must be an absolute http(s) URL.",
        ));
    }
    let events: Vec<String> = match body.get("events").and_then(Value::as_array) {
        Some(a) => a
            .iter()
            .filter_map(|e| e.as_str().map(String::from))
            .collect(),
        None => old.map(|o| o.events.clone()).unwrap_or_default(),
    };
    let jql = body
        .pointer(&format!("/filters/{FILTER_KEY}"))
        .and_then(Value::as_str)
        .map(String::from)
        .or_else(|| old.and_then(|o| o.jql.clone()));
    if let Some(q) = jql.as_deref().filter(|q| !q.trim().is_empty()) {
        jql::parse(q).map_err(|e| {
            JiraError::field(
                StatusCode::BAD_REQUEST,
                "filters",
                format!("Invalid JQL: {e}"),
            )
        })?;
    }
    Ok(AdminWebhook {
        id: old.map_or(0, |o| o.id),
        name: s("name")
            .or_else(|| old.map(|o| o.name.clone()))
            .unwrap_or_default(),
        url,
        events,
        jql,
        // A PUT without a secret keeps the old one.
        secret: s("secret").or_else(|| old.and_then(|o| o.secret.clone())),
        enabled: body
            .get("enabled")
            .and_then(Value::as_bool)
            .or(old.map(|o| o.enabled))
            .unwrap_or(true),
        exclude_body: body
            .get("excludeBody")
            .and_then(Value::as_bool)
            .or(old.map(|o| o.exclude_body))
            .unwrap_or(false),
        target_id: old.map(|o| o.target_id.clone()).unwrap_or_default(),
    })
}

/// `/rest/webhooks/1.0/webhook[/{id}]`.
pub fn handle(j: &Jira, caller: &Caller, req: &JReq) -> JResult<JResp> {
    caller.require_scope("manage:jira-webhook")?;
    let mut db = j.db.write();
    if !db.user(&caller.account_id).is_some_and(|u| u.site_admin) {
        return Err(JiraError::forbidden(
            "You are not authorized to manage webhooks: Jira administrators only.",
        ));
    }
    let id: Option<u64> = match req.segs.as_slice() {
        [] => None,
        [id] => Some(
            id.parse()
                .map_err(|_| JiraError::not_found("Webhook not found."))?,
        ),
        _ => return Err(JiraError::not_found("Webhook not found.")),
    };
    let pos = id.map(|id| {
        db.webhooks
            .iter()
            .position(|h| h.id == id)
            .ok_or_else(|| JiraError::not_found("Webhook not found."))
    });
    let m = &req.method;
    match (pos, m.as_str()) {
        (None, "GET") => Ok(JResp::ok(Value::Array(
            db.webhooks.iter().map(|h| render_hook(j, &db, h)).collect(),
        ))),
        (None, "POST") => {
            let mut h = read_hook(&req.json()?, None)?;
            h.id = db.next_webhook_id;
            db.next_webhook_id += 1;
            h.target_id = j.webhooks.add_target(target_spec(j, &h)).id;
            db.webhooks.push(h.clone());
            Ok(JResp::with(StatusCode::CREATED, render_hook(j, &db, &h)))
        }
        (Some(p), "GET") => {
            let p = p?;
            Ok(JResp::ok(render_hook(j, &db, &db.webhooks[p])))
        }
        (Some(p), "PUT") => {
            let p = p?;
            let mut h = read_hook(&req.json()?, Some(&db.webhooks[p]))?;
            j.webhooks.remove_target(&h.target_id);
            h.target_id = j.webhooks.add_target(target_spec(j, &h)).id;
            db.webhooks[p] = h.clone();
            Ok(JResp::ok(render_hook(j, &db, &h)))
        }
        (Some(p), "DELETE") => {
            let h = db.webhooks.remove(p?);
            j.webhooks.remove_target(&h.target_id);
            Ok(JResp::empty(StatusCode::NO_CONTENT))
        }
        _ => Err(JiraError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed.",
        )),
    }
}
