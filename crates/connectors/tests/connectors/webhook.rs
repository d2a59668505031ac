//! The emulator's signed business-rule webhooks: verified by the one verifier
//! (`lockstep_connectors::webhook`, ServiceNow's scheme: Standard Webhooks HMAC or token header),
//! then parsed by the same parser as the change feed.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use lockstep_connectors::servicenow::{ServiceNowSpec, StateChange};
use lockstep_connectors::webhook::{
    self, IntegrationSecret, Method, Presented, Rejection, WebhookEvent, WebhookSecrets,
};
use lockstep_connectors::{Result as ConnectorResult, VendorSpec};
use lockstep_crypto::{SecretBytes, WebhookSecret};
use lockstep_domain::{ServiceNowTable, Severity, TicketObservation};
use lockstep_itsm_sim::control::{Delivery, WebhookTargetSpec};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::support::{Env, new_ticket};

/// Nothing listens there: deliveries fail, but the emulator records what it sent.
const NOWHERE: &str = "http://127.0.0.1:9/lockstep/webhooks/servicenow";

fn headers_of(d: &Delivery) -> HeaderMap {
    d.headers
        .iter()
        .map(|(k, v)| {
            (
                HeaderName::try_from(k.as_str()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            )
        })
        .collect()
}

/// ServiceNow deliveries against the one verifier: these secrets (whsec text or tokens), nothing
/// unsigned accepted.
struct Verifier {
    secrets: WebhookSecrets,
}

impl Verifier {
    fn new(secrets: &[&str]) -> Self {
        let secrets = secrets
            .iter()
            .filter_map(|s| IntegrationSecret::from_opened(SecretBytes::new(s.as_bytes().to_vec())))
            .collect();
        Self {
            secrets: WebhookSecrets::new(secrets),
        }
    }

    /// How it was authenticated and the sender's delivery id.
    fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now_unix: i64,
    ) -> Result<(Method, Option<String>), Rejection> {
        let auth = ServiceNowSpec.webhook_auth();
        let presented = Presented {
            headers,
            query: None,
            body,
        };
        let method = webhook::authenticate(
            auth,
            &presented,
            &self.secrets,
            false,
            now_unix,
            Duration::from_secs(300),
        )?;
        Ok((method, auth.delivery_id(&presented)))
    }

    fn verify_and_parse(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: OffsetDateTime,
    ) -> ConnectorResult<(Method, Option<String>, WebhookEvent)> {
        let (method, id) = self.verify(headers, body, now.unix_timestamp()).unwrap();
        Ok((method, id, ServiceNowSpec.parse_webhook(body, now)?))
    }
}

/// What both channels must agree on.
fn meaning(o: &TicketObservation) -> (String, String, Option<String>, String, Option<String>) {
    (
        o.ticket.to_string(),
        o.vendor_state.clone(),
        o.resolution.clone(),
        o.version.to_string(),
        o.actor.clone(),
    )
}

#[tokio::test]
async fn a_signed_delivery_verifies_and_parses_like_a_poll() {
    let env = Env::start().await;
    let secret = WebhookSecret::generate().unwrap();
    let spec = WebhookTargetSpec {
        url: NOWHERE.into(),
        secret: Some(secret.to_whsec().expose().to_owned()),
        ..WebhookTargetSpec::default()
    };
    env.sim.control().add_webhook_target(&spec).await.unwrap();

    let client = env.integration();
    let ticket = new_ticket(ServiceNowTable::Incident, "W-1", Severity::High);
    let created = client.create_ticket(&ticket).await.unwrap();
    let resolve = StateChange {
        state: "6".into(),
        close_code: Some("Solution provided".into()),
        close_notes: Some("ok".into()),
        work_note: None,
    };
    client
        .update_state(&created.ticket, &resolve)
        .await
        .unwrap();
    let deliveries = env
        .sim
        .control()
        .wait_for_deliveries(2, Duration::from_secs(10))
        .await
        .unwrap();
    let update = deliveries
        .iter()
        .find(|d| d.body.contains("\"event_type\":\"update\""))
        .expect("update delivery");

    let verifier = Verifier::new(&[secret.to_whsec().expose()]);
    let now = OffsetDateTime::now_utc();
    let (how, webhook_id, event) = verifier
        .verify_and_parse(&headers_of(update), update.body.as_bytes(), now)
        .unwrap();
    assert_eq!(
        (how, webhook_id),
        (Method::Signature, Some(update.event_id.clone()))
    );
    assert_eq!(
        event.event_id,
        format!("{}-1", created.ticket.external_id())
    );
    assert_eq!(event.event_type.as_deref(), Some("update"));
    assert_eq!(
        event.correlation_id,
        Some(format!("lockstep:{}", ticket.finding_id))
    );

    // The poll of the same ticket means the same thing.
    let polled = client
        .changes_since(
            datetime!(2000-01-01 00:00 UTC),
            Duration::ZERO,
            &[ServiceNowTable::Incident],
        )
        .await
        .unwrap();
    let poll = polled
        .observations
        .iter()
        .find(|o| o.ticket == event.observation.ticket)
        .unwrap();
    assert_eq!(meaning(&event.observation), meaning(poll));
    assert_eq!(event.observation.vendor_state, "6");
    assert_eq!(
        event.observation.resolution.as_deref(),
        Some("Solution provided")
    );

    // Tampering, a stale timestamp and the wrong secret are refused before parsing.
    let tampered = update.body.replace("Solution provided", "Duplicate");
    let err = verifier
        .verify(
            &headers_of(update),
            tampered.as_bytes(),
            now.unix_timestamp(),
        )
        .unwrap_err();
    assert_eq!(err, Rejection::BadSignature);
    let stale = now + time::Duration::minutes(10);
    assert!(
        verifier
            .verify(
                &headers_of(update),
                update.body.as_bytes(),
                stale.unix_timestamp()
            )
            .is_err()
    );
    let other_secret = WebhookSecret::generate().unwrap();
    let other = Verifier::new(&[other_secret.to_whsec().expose()]);
    assert!(
        other
            .verify(
                &headers_of(update),
                update.body.as_bytes(),
                now.unix_timestamp()
            )
            .is_err()
    );
}

#[tokio::test]
async fn a_token_header_delivery_verifies() {
    let env = Env::start().await;
    let spec = WebhookTargetSpec {
        url: NOWHERE.into(),
        token: Some("tok-123".into()),
        ..WebhookTargetSpec::default()
    };
    env.sim.control().add_webhook_target(&spec).await.unwrap();
    let created = env
        .integration()
        .create_ticket(&new_ticket(
            ServiceNowTable::ChangeRequest,
            "W-2",
            Severity::Low,
        ))
        .await
        .unwrap();
    let deliveries = env
        .sim
        .control()
        .wait_for_deliveries(1, Duration::from_secs(10))
        .await
        .unwrap();
    let d = &deliveries[0];

    let verifier = Verifier::new(&["tok-123"]);
    let (how, _, event) = verifier
        .verify_and_parse(&headers_of(d), d.body.as_bytes(), OffsetDateTime::now_utc())
        .unwrap();
    assert_eq!(how, Method::Token);
    assert_eq!(event.event_type.as_deref(), Some("insert"));
    assert_eq!(event.observation.ticket, created.ticket);
    assert_eq!(event.observation.vendor_state, "-5");
    assert_eq!(event.observation.version, created.observation.version);

    let wrong = Verifier::new(&["tok-999"]);
    assert!(wrong.verify(&headers_of(d), d.body.as_bytes(), 0).is_err());
    let unsigned = Verifier::new(&[]);
    assert!(
        unsigned
            .verify(&headers_of(d), d.body.as_bytes(), 0)
            .is_err(),
        "nothing configured, nothing accepted"
    );

    // A redelivery carries the same event id, so the receiver can drop it.
    let again = env.sim.control().redeliver(d.id).await.unwrap();
    let all = env
        .sim
        .control()
        .wait_for_deliveries(2, Duration::from_secs(10))
        .await
        .unwrap();
    let redelivered = all.iter().find(|x| x.id == again).unwrap();
    let (_, _, second) = verifier
        .verify_and_parse(
            &headers_of(redelivered),
            redelivered.body.as_bytes(),
            OffsetDateTime::now_utc(),
        )
        .unwrap();
    assert_eq!(second.event_id, event.event_id);
}
