//! ServiceDesk Plus through the real services (issue 17): requests created by ticket-writer, a
//! technician resolving one in SDP reaches the finding by webhook and, with webhooks lost, by
//! poll; a closed finding closes its request with the closure code; a crash between create and
//! write-back leaves one request; mandatory template fields fail before any create; an expired
//! Cloud token is renewed once; an error inside an HTTP 200 is an error; webhooks without the
//! token are refused and publish nothing; a webhook's payload only names the request, which the
//! poller re-reads, so a payload that lies about the status is not applied as it says.

mod world;

use lockstep_domain::{FindingStatus, SyncChannel, TicketTarget, Vendor};
use lockstep_itsm_sim::control::{DeliveryBehaviour, DeliveryOutcome};
use lockstep_proto::v1 as pb;
use lockstep_store::PageRequest;

use world::{SdpWorld, Setup, TOKEN, WAIT};

async fn resolve_in_sdp(w: &SdpWorld, request: &str) {
    w.act(
        "PUT",
        &format!("requests/{request}"),
        Some(serde_json::json!({"request": {"status": {"name": "Resolved"}}})),
    )
    .await
    .unwrap();
}

async fn channels(w: &SdpWorld, finding: lockstep_domain::FindingId) -> Vec<SyncChannel> {
    let feed = w
        .store()
        .activity()
        .list_for_finding(w.tenant, finding, PageRequest::first(10))
        .await
        .unwrap();
    feed.items.iter().map(|a| a.channel).collect()
}

#[tokio::test]
async fn a_request_resolved_in_sdp_sends_its_finding_to_re_test_by_webhook() {
    let w = SdpWorld::start(Setup::default()).await.unwrap();
    w.configure_webhook(&w.webhook_url, Some(TOKEN))
        .await
        .unwrap();
    let (finding, request) = w.ticketed("SDP-1").await.unwrap();
    resolve_in_sdp(&w, &request).await;
    w.wait_for(finding, FindingStatus::ReTest).await.unwrap();
    let channels = channels(&w, finding).await;
    assert_eq!(channels[0], SyncChannel::Webhook, "{channels:?}");
    assert!(!channels.contains(&SyncChannel::Poll), "{channels:?}");
    let link = w.link(finding).await.unwrap().unwrap();
    assert_eq!(link.last_sync_channel, Some(SyncChannel::Webhook));
    assert_eq!(link.vendor_snapshot.unwrap().state, "Resolved");
    // The payload only named the request: what was applied is the poller's re-read of it.
    let rereads = w
        .sim
        .control()
        .requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(&format!("/requests/{request}")))
        .count();
    assert!(rereads >= 1, "the request was re-read");
    w.stop().await;
}

#[tokio::test]
async fn a_delivery_whose_payload_lies_about_the_status_is_not_applied_as_it_says() {
    let w = SdpWorld::start(Setup::default()).await.unwrap();
    let (finding, request) = w.ticketed("SDP-10").await.unwrap();
    let before = w.status(finding).await.unwrap();
    // A real change in SDP that leaves the status Open (no webhook is configured for it).
    w.act(
        "PUT",
        &format!("requests/{request}"),
        Some(serde_json::json!({"request": {"priority": {"name": "Low"}}})),
    )
    .await
    .unwrap();
    // A delivery with the right token whose payload claims the request was resolved.
    let lie = serde_json::json!({"event": "request_update", "request": {
        "id": request, "display_id": request, "status": "Resolved",
        "last_updated_time": (time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 60_000).to_string()}});
    let answer = reqwest::Client::new()
        .post(&w.webhook_url)
        .header("X-Lockstep-Token", TOKEN)
        .json(&lie)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    // The re-read (priority Low, status Open) is what reaches the link, by the webhook channel.
    let deadline = tokio::time::Instant::now() + WAIT;
    let link = loop {
        let link = w.link(finding).await.unwrap().unwrap();
        if link.last_sync_channel == Some(SyncChannel::Webhook) {
            break link;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no re-read applied: {link:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let snapshot = link.vendor_snapshot.unwrap();
    assert_eq!(snapshot.state, "Open", "{snapshot:?}");
    assert_eq!(w.status(finding).await.unwrap(), before);
    assert_ne!(before, FindingStatus::ReTest);
    w.stop().await;
}

#[tokio::test]
async fn with_webhooks_lost_the_poller_brings_the_resolve() {
    let w = SdpWorld::start(Setup {
        poller: true,
        ..Setup::default()
    })
    .await
    .unwrap();
    let dropping = DeliveryBehaviour {
        drop_rate: 1.0,
        ..Default::default()
    };
    w.sim
        .control()
        .set_delivery_behaviour(&dropping)
        .await
        .unwrap();
    w.configure_webhook(&w.webhook_url, Some(TOKEN))
        .await
        .unwrap();
    let (finding, request) = w.ticketed("SDP-2").await.unwrap();
    resolve_in_sdp(&w, &request).await;
    w.wait_for(finding, FindingStatus::ReTest).await.unwrap();
    let channels = channels(&w, finding).await;
    assert_eq!(channels[0], SyncChannel::Poll, "{channels:?}");
    assert!(!channels.contains(&SyncChannel::Webhook), "{channels:?}");
    let deliveries = w.sim.control().deliveries().await.unwrap();
    assert!(
        deliveries
            .iter()
            .all(|d| d.outcome != DeliveryOutcome::Delivered),
        "{deliveries:?}"
    );
    w.stop().await;
}

#[tokio::test]
async fn a_finding_closed_on_our_side_closes_its_request_with_the_closure_code() {
    let w = SdpWorld::start(Setup::default()).await.unwrap();
    let (finding, request) = w.ticketed("SDP-3").await.unwrap();
    w.set_status(finding, "closed").await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    let closed = loop {
        let r = w
            .act("GET", &format!("requests/{request}"), None)
            .await
            .unwrap();
        if r["request"]["status"]["name"] == "Closed" {
            break r["request"].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "not closed: {r}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(closed["closure_info"]["closure_code"]["name"], "Success");
    let comments = closed["closure_info"]["closure_comments"].as_str().unwrap();
    assert!(comments.contains("SDP-3"), "{comments}");
    w.stop().await;
}

#[tokio::test]
async fn a_writer_that_died_between_create_and_write_back_leaves_one_request() {
    let w = SdpWorld::start(Setup::default()).await.unwrap();
    let finding = w.finding("SDP-4").await.unwrap();
    // What a writer killed with -9 leaves behind: its pending link, and the request SDP created
    // for it, carrying the finding's correlation id (the answer never came back).
    let target = TicketTarget::parse(Vendor::ManageEngine, "request").unwrap();
    let pending = w
        .store()
        .links()
        .insert_pending(w.tenant, finding, w.integration, &target);
    pending.await.unwrap();
    let orphan = w
        .act(
            "POST",
            "requests",
            Some(serde_json::json!({"request": {
                "subject": "[LOCKSTEP] SDP-4 - OpenSSL out of date (SDP-4)",
                "description": format!("CVE-2026-0001 on web-01<br><br>Lockstep SDP-4 — correlation id: lockstep:{finding}"),
                "priority": {"name": "High"}}})),
        )
        .await
        .unwrap();
    let orphan_id = orphan["request"]["id"].as_str().unwrap().to_owned();
    // The retry goes to a live writer: it meets the pending link, looks the correlation id up
    // and writes the existing request back instead of creating a second one.
    let result = w.create_ticket(finding).await.unwrap();
    let link = result.link.clone().expect("linked");
    assert_eq!(link.external_id, orphan_id, "{result:?}");
    assert_eq!(w.requests().await.unwrap().len(), 1, "one request in SDP");
    let stored = w.link(finding).await.unwrap().unwrap();
    assert_eq!(stored.external_id.unwrap().as_str(), orphan_id);
    w.stop().await;
}

#[tokio::test]
async fn mandatory_template_fields_the_mapping_does_not_fill_are_a_clear_error_before_any_create() {
    let w = SdpWorld::start(Setup::default()).await.unwrap();
    w.sim
        .control()
        .set_sdp_template_mandatory("itdesk", "Default Request", &["impact", "udf_long_302"])
        .await
        .unwrap();
    let finding = w.finding("SDP-5").await.unwrap();
    let message = match w.create_ticket(finding).await {
        Ok(r) => {
            assert_eq!(r.outcome(), pb::TicketOutcome::Failed, "{r:?}");
            r.error_message
        }
        Err(status) => {
            assert_eq!(status.code(), tonic::Code::FailedPrecondition, "{status:?}");
            status.message().to_owned()
        }
    };
    assert!(
        message.contains("impact") && message.contains("udf_long_302 (CVSS x10)"),
        "{message}"
    );
    let posts = w
        .sim
        .control()
        .requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v3/requests")
        .count();
    assert_eq!(posts, 0, "nothing was sent to create");
    assert!(w.requests().await.unwrap().is_empty());
    w.stop().await;
}

#[tokio::test]
async fn an_expired_cloud_token_is_renewed_once_and_the_call_succeeds() {
    let w = SdpWorld::start(Setup {
        cloud: true,
        ..Setup::default()
    })
    .await
    .unwrap();
    let (_, first) = w.ticketed("SDP-6").await.unwrap();
    assert_eq!(first.len(), 18, "a Cloud id: {first}");
    let tokens = || async {
        let log = w.sim.control().requests().await.unwrap();
        log.into_iter()
            .filter(|r| r.path == "/oauth/v2/token")
            .count()
    };
    let before = tokens().await;
    w.sim.control().advance_clock(3700).await.unwrap();
    let (_, second) = w.ticketed("SDP-7").await.unwrap();
    assert_ne!(first, second);
    assert_eq!(tokens().await, before + 1, "renewed exactly once");
    let refused = w
        .sim
        .control()
        .requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.path.starts_with("/app/secops/api/v3/") && r.status == Some(401))
        .count();
    assert_eq!(refused, 1);
    w.stop().await;
}

#[tokio::test]
async fn an_error_inside_an_http_200_is_an_error_and_the_retry_creates_one_request() {
    let w = SdpWorld::start(Setup::default()).await.unwrap();
    let finding = w.finding("SDP-8").await.unwrap();
    w.sim.control().sdp_errors_in_200(1, 4004).await.unwrap();
    let failed = match w.create_ticket(finding).await {
        Ok(r) => r.outcome() == pb::TicketOutcome::Failed,
        Err(_) => true,
    };
    assert!(
        failed,
        "a failed response_status inside a 200 must not count as created"
    );
    assert!(
        w.link(finding)
            .await
            .unwrap()
            .is_none_or(|l| l.external_id.is_none())
    );
    // The writer keeps the pending link of an ambiguous failure; once it is stale the retry looks
    // the correlation id up (nothing), then creates.
    let deadline = tokio::time::Instant::now() + WAIT;
    let created = loop {
        match w.create_ticket(finding).await {
            Err(s) if s.code() == tonic::Code::Aborted => {
                assert!(tokio::time::Instant::now() < deadline, "{s:?}");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            other => break other.unwrap(),
        }
    };
    assert_eq!(created.outcome(), pb::TicketOutcome::Created, "{created:?}");
    assert_eq!(w.requests().await.unwrap().len(), 1);
    w.stop().await;
}

#[tokio::test]
async fn a_webhook_without_the_token_or_with_a_wrong_one_is_refused_and_publishes_nothing() {
    let w = SdpWorld::start(Setup::default()).await.unwrap();
    let (finding, request) = w.ticketed("SDP-9").await.unwrap();
    let published = w.stream_messages().await.unwrap();
    w.configure_webhook(&w.webhook_url, None).await.unwrap();
    w.configure_webhook(&w.webhook_url, Some("not-the-token"))
        .await
        .unwrap();
    w.configure_webhook(&format!("{}?token=guessed", w.webhook_url), None)
        .await
        .unwrap();
    resolve_in_sdp(&w, &request).await;
    let deliveries = w.sim.control().wait_for_deliveries(3, WAIT).await.unwrap();
    assert!(
        deliveries.iter().all(|d| d.status == Some(401)),
        "{deliveries:?}"
    );
    assert_eq!(
        w.stream_messages().await.unwrap(),
        published,
        "nothing was published"
    );
    assert_eq!(w.status(finding).await.unwrap(), FindingStatus::Open);
    w.stop().await;
}
