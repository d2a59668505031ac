//! The deliveries the benchmark sends and applies: ticket `i`'s ServiceNow webhook body, signed
//! posts of it, and the applier's next change of every ticket for the PostgreSQL floor.

use std::sync::Arc;

use lockstep_crypto::webhook::{WebhookSecret, now_unix, sign};
use lockstep_domain::{IntegrationId, TenantId};
use lockstep_proto::v1;
use lockstep_sync_applier::decode::{Inbound, Part, decode};
use prost::Message as _;
use time::OffsetDateTime;
use time::macros::format_description;

pub fn sys_id(i: usize) -> String {
    format!("{:032x}", i + 1)
}

/// Ticket `i`'s delivery: resolved (state 6, mod count 3) at `t0`, as the webhook phases send it.
pub fn body(t0: OffsetDateTime, i: usize) -> Vec<u8> {
    body_of(t0, i, "6", 3)
}

fn body_of(at: OffsetDateTime, i: usize, state: &str, mod_count: u32) -> Vec<u8> {
    let at = at
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap();
    format!(
        r#"{{"event_id":"{s}-{mod_count}","event_type":"update","table":"incident","sys_id":"{s}","number":"INC{n:07}","state":"{state}","close_code":"Solution provided","correlation_id":"lockstep:bench","sys_updated_on":"{at}","sys_mod_count":"{mod_count}","sys_updated_by":"beth.anglin","fields":{{"priority":"2","assigned_to":"","short_description":"OpenSSL out of date on web-{i}"}}}}"#,
        s = sys_id(i),
        n = i + 1
    )
    .into_bytes()
}

/// Signed posts of ticket `i`'s delivery to `url`; each answers the status (0 when no answer).
pub fn poster(
    http: reqwest::Client,
    url: String,
    key: Arc<WebhookSecret>,
    t0: OffsetDateTime,
) -> impl Fn(usize) -> std::pin::Pin<Box<dyn std::future::Future<Output = u16> + Send>>
+ Clone
+ Send
+ 'static {
    let url = Arc::new(url);
    move |i: usize| {
        let (http, url, key) = (http.clone(), url.clone(), key.clone());
        Box::pin(async move {
            let b = body(t0, i);
            let id = format!("{}-3", sys_id(i));
            let ts = now_unix();
            let resp = http
                .post(url.as_str())
                .header("webhook-id", &id)
                .header("webhook-timestamp", ts.to_string())
                .header("webhook-signature", sign(&key, &id, ts, &b).unwrap())
                .body(b)
                .send()
                .await;
            resp.ok().map(|r| r.status().as_u16()).unwrap_or(0)
        })
    }
}

/// The applier's events for tickets `0..n` a minute after `t0`: in progress (state 2, mod count
/// 4), a status change for every finding the resolve phase sent to re_test.
pub fn later_events(
    tenant: TenantId,
    integration: IntegrationId,
    t0: OffsetDateTime,
    n: usize,
) -> anyhow::Result<Vec<Inbound>> {
    let subjects = lockstep_bus::Subjects::new("lockstep")?;
    let subject = subjects.webhook(tenant, integration);
    let vendors = lockstep_connectors::Registry::builtin();
    (0..n)
        .map(|i| {
            let event = v1::WebhookReceived {
                event_id: format!("floor:{i}"),
                tenant_id: tenant.to_string(),
                integration_id: integration.to_string(),
                vendor: "servicenow".into(),
                body: body_of(t0 + time::Duration::minutes(1), i, "2", 4),
                content_type: "application/json".into(),
                delivery_id: format!("{i}"),
                received_at: Some(lockstep_proto::to_timestamp(OffsetDateTime::now_utc())),
                traceparent: String::new(),
            };
            let parts = decode(&vendors, &subjects, &subject, None, &event.encode_to_vec())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            match <[Part; 1]>::try_from(parts) {
                Ok([Ok(inbound)]) => Ok(inbound),
                _ => anyhow::bail!("event {i} did not decode to one observation"),
            }
        })
        .collect()
}
