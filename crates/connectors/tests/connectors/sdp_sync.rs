//! ServiceDesk Plus both ways: the outbound push (`_close` with a closure code, resolution and
//! status, notes, no second note on a redelivery), the change feed (watermark with overlap,
//! `start_index` paging, deduplication), and the webhook (token in a header or the URL, never a
//! signature; the emulator's payload parsed by the feed's parser).

use std::time::Duration;

use http::{HeaderMap, HeaderValue};
use lockstep_connectors::sdp::{SdpConfig, ServiceDeskPlusSpec};
use lockstep_connectors::webhook::{
    IntegrationSecret, Method, Presented, Rejection, TOKEN_HEADER, WebhookSecrets, authenticate,
};
use lockstep_connectors::{Connector, OutboundChange, VendorSpec};
use lockstep_crypto::SecretBytes;
use lockstep_domain::{Label, OutboundPush, Severity};
use lockstep_itsm_sim::sdp::model::SdpWebhook;
use time::OffsetDateTime;

use crate::sdp::{LOCKSTEP_KEY, default_create, onprem, request};
use crate::support::Env;

fn change(state: &str, code: Option<&str>, notes: &str, note: Option<&str>) -> OutboundChange {
    OutboundChange {
        push: OutboundPush {
            state: Label::parse(state).unwrap(),
            close_code: code.map(|c| Label::parse(c).unwrap()),
            close_notes: Some(notes.into()),
        },
        note: note.map(str::to_owned),
        priority: None,
    }
}

async fn notes(env: &Env, id: &str) -> usize {
    let r = env
        .sim
        .control()
        .sdp_act(&lockstep_itsm_sim::sdp::control::SdpAct {
            portal: "itdesk".into(),
            email_id: "admin@itdesk.example.com".into(),
            method: "GET".into(),
            path: format!("requests/{id}/notes"),
            input_data: None,
        })
        .await
        .unwrap();
    r.body.unwrap()["notes"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_closed_finding_closes_its_request_with_the_closure_code_once() {
    let env = Env::start().await;
    let client = onprem(&env, LOCKSTEP_KEY);
    let created = Connector::create(&client, &default_create("NES-20", Severity::High))
        .await
        .unwrap();
    let id = created.ticket.external_id().as_str().to_owned();
    let close = change(
        "Closed",
        Some("Success"),
        "Fixed: the rescan is clean.",
        Some("Closed by Lockstep"),
    );
    let obs = client.push(&created.ticket, &close).await.unwrap();
    assert_eq!(obs.vendor_state, "Closed");
    assert_eq!(obs.vendor_state_category.as_deref(), Some("completed"));
    assert_eq!(obs.resolution.as_deref(), Some("Success"));
    let stored = request(&env, &id).await;
    assert_eq!(stored["closure_info"]["closure_code"]["name"], "Success");
    assert_eq!(
        stored["closure_info"]["closure_comments"],
        "Fixed: the rescan is clean."
    );
    assert_eq!(notes(&env, &id).await, 1);
    // A redelivered push finds the request closed: nothing is sent, no second note.
    let again = client.push(&created.ticket, &close).await.unwrap();
    assert_eq!(again.version, obs.version);
    assert_eq!(notes(&env, &id).await, 1);
}

#[tokio::test]
async fn a_resolved_status_gets_its_resolution_and_unknown_statuses_are_refused() {
    let env = Env::start().await;
    let client = onprem(&env, LOCKSTEP_KEY);
    let created = Connector::create(&client, &default_create("NES-21", Severity::Low))
        .await
        .unwrap();
    let obs = client
        .push(
            &created.ticket,
            &change("Resolved", None, "Patched on web-01.", None),
        )
        .await
        .unwrap();
    assert_eq!(obs.vendor_state, "Resolved");
    let stored = request(&env, created.ticket.external_id().as_str()).await;
    assert_eq!(stored["resolution"]["content"], "Patched on web-01.");
    let err = client
        .push(&created.ticket, &change("Done", None, "x", None))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a status"), "{err}");
}

#[tokio::test]
async fn the_feed_follows_changes_since_the_watermark_across_pages() {
    let env = Env::start().await;
    let mut config_client = onprem(&env, LOCKSTEP_KEY);
    let mut made = Vec::new();
    for i in 0..5 {
        let c = default_create(&format!("F-{i}"), Severity::Medium);
        made.push(Connector::create(&config_client, &c).await.unwrap());
    }
    let watermark =
        made.last().unwrap().observation.version.updated_at() + time::Duration::milliseconds(1);
    // Nothing changed since the last create.
    let none = config_client
        .changes_since(watermark, Duration::ZERO)
        .await
        .unwrap();
    assert!(none.observations.is_empty() && none.complete, "{none:?}");
    assert_eq!(none.pages, 1);
    // Three change in SDP; pages of two rows.
    for m in &made[..3] {
        env.sim
            .control()
            .sdp_set_status(
                "itdesk",
                "ravi@itdesk.example.com",
                m.ticket.external_id().as_str(),
                "On Hold",
            )
            .await
            .unwrap();
    }
    config_client = {
        let portal = config_client.portal().clone();
        lockstep_connectors::sdp::SdpClient::new(
            env.exec.clone(),
            SdpConfig {
                page_size: 2,
                ..SdpConfig::new(lockstep_domain::IntegrationId::new(), portal)
            },
            lockstep_connectors::sdp::auth::Auth::Key(lockstep_crypto::SecretString::new(
                LOCKSTEP_KEY,
            )),
        )
    };
    let batch = config_client
        .changes_since(watermark, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(batch.observations.len(), 3, "{batch:?}");
    assert!(
        batch
            .observations
            .iter()
            .all(|o| o.vendor_state == "On Hold")
    );
    assert_eq!(batch.pages, 2);
    assert!(batch.complete);
    assert_eq!(
        batch.next_watermark,
        batch.observations[2].version.updated_at()
    );
    // The overlap reads them again; the applier's version check makes that harmless.
    let overlap = config_client
        .changes_since(batch.next_watermark, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(overlap.observations.len(), 5);
}

fn secrets(token: &str) -> WebhookSecrets {
    WebhookSecrets::new(vec![
        IntegrationSecret::from_opened(SecretBytes::new(token.as_bytes().to_vec())).unwrap(),
    ])
}

#[test]
fn webhooks_carry_a_static_token_in_a_header_or_the_url_and_never_a_signature() {
    let auth = ServiceDeskPlusSpec.webhook_auth();
    let s = secrets("s3cret-token");
    let check = |headers: &HeaderMap, query: Option<&str>, allow_unsigned: bool| {
        let d = Presented {
            headers,
            query,
            body: b"{}",
        };
        authenticate(auth, &d, &s, allow_unsigned, 0, Duration::from_secs(300))
    };
    let mut good = HeaderMap::new();
    good.insert(TOKEN_HEADER, HeaderValue::from_static("s3cret-token"));
    assert_eq!(check(&good, None, false), Ok(Method::Token));
    assert_eq!(
        check(&HeaderMap::new(), Some("a=1&token=s3cret-token"), false),
        Ok(Method::Token)
    );
    let mut bad = HeaderMap::new();
    bad.insert(TOKEN_HEADER, HeaderValue::from_static("guess"));
    assert_eq!(check(&bad, None, true), Err(Rejection::BadToken));
    assert_eq!(
        check(&HeaderMap::new(), Some("token=guess"), false),
        Err(Rejection::BadToken)
    );
    assert_eq!(
        check(&HeaderMap::new(), None, false),
        Err(Rejection::MissingCredentials)
    );
    // A signature header means nothing to SDP's scheme: without a token it is unsigned.
    let mut signed = HeaderMap::new();
    signed.insert("webhook-signature", HeaderValue::from_static("v1,abc"));
    assert_eq!(
        check(&signed, None, false),
        Err(Rejection::MissingCredentials)
    );
}

#[tokio::test]
async fn the_emulators_webhook_payload_parses_like_the_feed() {
    let env = Env::start().await;
    let client = onprem(&env, LOCKSTEP_KEY);
    env.sim
        .control()
        .add_sdp_webhook(&SdpWebhook {
            id: 0,
            portal: "itdesk".into(),
            url: "http://127.0.0.1:9/hook?token=t".into(),
            events: vec!["request_update".into()],
            payload_template: None,
            header_name: Some("X-Lockstep-Token".into()),
            header_value: Some("t".into()),
            target_id: String::new(),
        })
        .await
        .unwrap();
    let created = Connector::create(&client, &default_create("W-1", Severity::High))
        .await
        .unwrap();
    let id = created.ticket.external_id().as_str().to_owned();
    env.sim
        .control()
        .sdp_set_status("itdesk", "ravi@itdesk.example.com", &id, "Resolved")
        .await
        .unwrap();
    let deliveries = env
        .sim
        .control()
        .wait_for_deliveries(1, Duration::from_secs(10))
        .await
        .unwrap();
    let body = deliveries[0].body.as_bytes();
    let event = ServiceDeskPlusSpec
        .parse_webhook(body, OffsetDateTime::now_utc())
        .unwrap();
    // The payload is a notice: the request is re-read for its state.
    assert!(ServiceDeskPlusSpec.webhook_payload_is_notice());
    let read = Connector::read_ticket(&client, &event.observation.ticket)
        .await
        .unwrap();
    assert_eq!(read.vendor_state, "Resolved");
    assert_eq!(read.version, event.observation.version);
    assert_eq!(event.observation.ticket, read.ticket);
    assert_eq!(event.observation.vendor_state, "Resolved");
    assert_eq!(event.observation.version, read.version);
    assert!(
        !deliveries[0]
            .headers
            .keys()
            .any(|h| h.to_ascii_lowercase().contains("signature")),
        "{:?}",
        deliveries[0].headers
    );
}
