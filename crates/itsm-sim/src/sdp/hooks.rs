//! Webhooks as an SDP admin configures them (reference B6): there is no public API to register one,
//! so they come in through `/_sim/sdp/webhooks`. Each fires on request create and/or update with a
//! payload template of the admin's choosing (`${…}` variables; SDP's own variable syntax is
//! UNCONFIRMED and differs by build), carries a static header token or a token in the URL, and is
//! never signed: SDP documents no HMAC. Method POST only (SDP also offers GET/PUT/PATCH/DELETE).
//! Retries are UNCONFIRMED, so none. Each webhook is one shared delivery target, so the
//! drop/duplicate/reorder behaviour and the delivery log of `/_sim/webhooks/…` apply.

use serde_json::{Value, json};

use super::Sdp;
use super::db::Portal;
use super::model::SdpWebhook;
use super::render;
use crate::webhooks::{OutboundEvent, Signing, WebhookTargetSpec};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Create,
    Update,
}

impl Event {
    pub fn name(self) -> &'static str {
        match self {
            Event::Create => "request_create",
            Event::Update => "request_update",
        }
    }
}

/// The variables a template may use.
pub const VARIABLES: &[&str] = &[
    "${event}",
    "${portal}",
    "${request.id}",
    "${request.display_id}",
    "${request.subject}",
    "${request.status.name}",
    "${request.priority.name}",
    "${request.last_updated_time}",
];

pub const DEFAULT_TEMPLATE: &str = r#"{"event":"${event}","portal":"${portal}","id":"${request.id}","display_id":"${request.display_id}","status":"${request.status.name}","last_updated_time":"${request.last_updated_time}"}"#;

/// A JSON string's inside, escaped (the template is JSON and values sit between quotes).
fn escaped(s: &str) -> String {
    let quoted = Value::String(s.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

pub fn render_payload(template: &str, event: Event, portal: &str, full: &Value) -> String {
    let text = |p: &str| {
        full.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let pairs = [
        ("${event}", event.name().to_string()),
        ("${portal}", portal.to_string()),
        ("${request.id}", text("/id")),
        ("${request.display_id}", text("/display_id")),
        ("${request.subject}", text("/subject")),
        ("${request.status.name}", text("/status/name")),
        ("${request.priority.name}", text("/priority/name")),
        (
            "${request.last_updated_time}",
            text("/last_updated_time/value"),
        ),
    ];
    let mut out = template.to_string();
    for (k, v) in pairs {
        out = out.replace(k, &escaped(&v));
    }
    out
}

pub fn topic(id: u64) -> String {
    format!("sdp-webhook-{id}")
}

/// Fires the portal's webhooks for a committed change (called with the write lock held).
pub fn emit(sdp: &Sdp, p: &Portal, request_id: &str, event: Event) {
    let hooks: Vec<SdpWebhook> = sdp.hooks_snapshot();
    let Some(r) = p.request(request_id) else {
        return;
    };
    let full = render::request(p, r);
    for h in hooks.iter().filter(|h| {
        h.portal == p.name && (h.events.is_empty() || h.events.iter().any(|e| e == event.name()))
    }) {
        let template = h.payload_template.as_deref().unwrap_or(DEFAULT_TEMPLATE);
        let body = render_payload(template, event, &p.name, &full);
        sdp.webhooks.emit(OutboundEvent {
            vendor: "sdp".into(),
            topic: topic(h.id),
            event_id: sdp.next_event().to_string(),
            body: body.into_bytes(),
            headers: Vec::new(),
        });
    }
}

/// The shared delivery target of a webhook: a static header token when configured, never a
/// signature (`HubSha256` without a secret sends no signature header).
pub fn target_spec(h: &SdpWebhook) -> WebhookTargetSpec {
    WebhookTargetSpec {
        url: h.url.clone(),
        secret: None,
        token: h.header_value.clone(),
        token_header: h.header_name.clone(),
        vendor: Some("sdp".into()),
        topics: vec![topic(h.id)],
        signing: Signing::HubSha256,
        retry: None,
    }
}

pub fn describe(h: &SdpWebhook) -> Value {
    json!({"id": h.id, "portal": h.portal, "url": h.url, "events": h.events,
           "payload_template": h.payload_template.as_deref().unwrap_or(DEFAULT_TEMPLATE),
           "header_name": h.header_name, "target_id": h.target_id})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_values_are_json_escaped() {
        let full = json!({"id": "7", "subject": "a \"quoted\" subject", "status": {"name": "Open"},
                          "last_updated_time": {"value": "123"}});
        let out = render_payload(
            r#"{"s":"${request.subject}","e":"${event}"}"#,
            Event::Update,
            "p",
            &full,
        );
        let v: Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(v["s"], "a \"quoted\" subject");
        assert_eq!(v["e"], "request_update");
    }
}
