//! The JSON API and gRPC return the same results for the same calls, service by service: the
//! HTTP answer equals the gRPC answer written as the route's JSON. Runs the api with a
//! ticket-writer and a poller beside it (the ticket and re-sync routes' upstreams) against the
//! ServiceNow emulator.

use lockstep_api::http as j;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::sync_service_client::SyncServiceClient;
use lockstep_proto::v1::ticket_service_client::TicketServiceClient;
use lockstep_proto::v1::workbench_service_client::WorkbenchServiceClient;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};

use crate::http_client::{Auth, Http};
use crate::support::{Env, req};

fn v<T: Serialize>(x: T) -> Value {
    serde_json::to_value(x).unwrap()
}

/// IntegrationService and MappingService (and the new GetFieldMetadata).
async fn integrations(env: &Env, http: &Http) -> String {
    let admin = &env.a.admin;
    let created = http
        .ok_post(
            "/v1/integrations",
            admin,
            json!({"name": "sn", "base_url": env.sim.base_url(),
                   "credentials": {"basic": {"username": "lockstep.integration",
                                             "password": "lockstep.integration"}},
                   "settings": {"default_table": "incident"}}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let get = pb::GetIntegrationRequest { id: id.clone() };
    let grpc = env.integrations().get_integration(req(admin, get)).await;
    let grpc = grpc.unwrap().into_inner();
    assert_eq!(created, v(j::Integration::from(grpc.clone())));
    assert_eq!(
        http.ok(&format!("/v1/integrations/{id}"), admin).await,
        created
    );
    let list = env
        .integrations()
        .list_integrations(req(admin, pb::ListIntegrationsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let page = http.ok("/v1/integrations", &env.a.viewer).await;
    assert_eq!(
        page["integrations"],
        v(list
            .integrations
            .into_iter()
            .map(j::Integration::from)
            .collect::<Vec<_>>())
    );

    // The connection test: each check with its remedy, the same both ways.
    let test = http
        .ok_post(&format!("/v1/integrations/{id}/test"), admin, json!({}))
        .await;
    let grpc = env
        .integrations()
        .test_connection(req(admin, pb::TestConnectionRequest { id: id.clone() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(test, v(j::ConnectionTest::from(grpc)));
    assert_eq!(test["ok"], true, "{test}");

    // A settings patch changes only what it names; pause and resume.
    let patched = http
        .send(
            Method::PATCH,
            &format!("/v1/integrations/{id}"),
            Auth::Bearer(admin),
            Some(json!({"settings": {"auto_close_on_resolve": true}})),
        )
        .await
        .json();
    assert_eq!(patched["settings"]["auto_close_on_resolve"], true);
    assert_eq!(patched["settings"]["default_table"], "incident");
    let paused = http
        .ok_post(&format!("/v1/integrations/{id}/pause"), admin, json!({}))
        .await;
    assert_eq!(paused["active"], false);
    let resumed = http
        .ok_post(&format!("/v1/integrations/{id}/resume"), admin, json!({}))
        .await;
    assert_eq!(resumed["active"], true);

    let mapping = http
        .ok(&format!("/v1/integrations/{id}/mapping"), admin)
        .await;
    let grpc = env
        .mapping()
        .get_mapping_rules(req(
            admin,
            pb::GetMappingRulesRequest {
                integration_id: id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mapping, v(j::MappingRules::from(grpc)));

    // The integration user reads choice labels only; an admin's credentials read the lists.
    let rotated = http
        .ok_post(
            &format!("/v1/integrations/{id}/credentials"),
            admin,
            json!({"credentials": {"basic": {"username": "admin", "password": "admin"}}}),
        )
        .await;
    assert_ne!(
        rotated["credentials_fingerprint"],
        created["credentials_fingerprint"]
    );
    let fields = http
        .ok(
            &format!("/v1/integrations/{id}/fields?container=incident"),
            &env.a.viewer,
        )
        .await;
    let grpc = env
        .integrations()
        .get_field_metadata(req(
            &env.a.viewer,
            pb::GetFieldMetadataRequest {
                integration_id: id.clone(),
                container: "incident".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fields, v(j::FieldMetadata::from(grpc)));
    let urgency = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "urgency")
        .unwrap_or_else(|| panic!("no urgency field: {fields}"));
    assert!(
        !urgency["choices"].as_array().unwrap().is_empty(),
        "{urgency}"
    );
    id
}

/// PresetService.
async fn presets(env: &Env, http: &Http) {
    let analyst = &env.a.analyst;
    let created = http
        .ok_post(
            "/v1/presets",
            analyst,
            json!({"name": "web", "fields": {"assignment_group": "Security"}}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let grpc = env
        .presets()
        .get_preset(req(analyst, pb::GetPresetRequest { id: id.clone() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created, v(j::Preset::from(grpc)));
    let list = env
        .presets()
        .list_presets(req(analyst, pb::ListPresetsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let page = http.ok("/v1/presets", analyst).await;
    assert_eq!(
        page["presets"],
        v(list
            .presets
            .into_iter()
            .map(j::Preset::from)
            .collect::<Vec<_>>())
    );
}

/// FindingService: import, list, get, activity, status change.
async fn findings(env: &Env, http: &Http) -> Vec<String> {
    let analyst = &env.a.analyst;
    let items: Vec<Value> = (0..6)
        .map(|i| {
            json!({"key": format!("web-{i}"), "title": format!("Finding {i}"),
                        "severity": if i % 2 == 0 { "critical" } else { "high" }})
        })
        .collect();
    let doc = json!({"scanner": "nessus", "findings": items});
    let imported = http
        .ok_post(
            "/v1/findings/import",
            analyst,
            json!({"format": "json", "content": doc.to_string()}),
        )
        .await;
    assert_eq!(imported["created"], 6);
    // In key order (web-0 … web-5), so the critical ones are ids 0, 2 and 4.
    let mut keyed: Vec<(String, String)> = imported["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let key = f["scanner_key"].as_str().unwrap().to_owned();
            (key, f["id"].as_str().unwrap().to_owned())
        })
        .collect();
    keyed.sort();
    let ids: Vec<String> = keyed.into_iter().map(|(_, id)| id).collect();
    let list = env
        .findings()
        .list_findings(req(
            analyst,
            pb::ListFindingsRequest {
                page_size: 4,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let page = http.ok("/v1/findings?page_size=4", analyst).await;
    assert_eq!(
        page["findings"],
        v(list
            .findings
            .into_iter()
            .map(j::Finding::from)
            .collect::<Vec<_>>())
    );
    assert_eq!(page["next_cursor"], list.next_page_token.as_str());
    let next = http
        .ok(
            &format!("/v1/findings?page_size=4&cursor={}", list.next_page_token),
            analyst,
        )
        .await;
    assert_eq!(next["findings"].as_array().unwrap().len(), 2);

    let changed = http
        .ok_post(
            &format!("/v1/findings/{}/status", ids[0]),
            analyst,
            json!({"status": "in_progress", "note": "looking"}),
        )
        .await;
    assert_eq!(changed["status"], "in_progress");
    let grpc = env
        .findings()
        .get_finding(req(analyst, pb::GetFindingRequest { id: ids[0].clone() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        http.ok(&format!("/v1/findings/{}", ids[0]), analyst).await,
        v(j::Finding::from(grpc))
    );
    let grpc = env
        .findings()
        .list_finding_activity(req(
            analyst,
            pb::ListFindingActivityRequest {
                finding_id: ids[0].clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let activity = http
        .ok(&format!("/v1/findings/{}/activity", ids[0]), analyst)
        .await;
    assert_eq!(
        activity["entries"],
        v(grpc
            .entries
            .into_iter()
            .map(j::ActivityEntry::from)
            .collect::<Vec<_>>())
    );
    assert!(
        activity["entries"][0]["message"]
            .as_str()
            .unwrap()
            .contains("looking")
    );
    ids
}

/// TicketService (ticket-writer, over gRPC from the api): preview, check, bulk and single create.
async fn tickets(env: &Env, http: &Http, integration: &str, ids: &[String]) {
    let analyst = &env.a.analyst;
    let (writer, _) = env.upstream.unwrap();
    let mut grpc = TicketServiceClient::connect(format!("http://{writer}"))
        .await
        .unwrap();
    let spec = json!({"integration_id": integration, "table": "incident"});
    let pb_spec = pb::TicketSpec {
        integration_id: integration.to_owned(),
        table: "incident".into(),
        ..Default::default()
    };
    let preview = http
        .ok_post(
            "/v1/tickets/preview",
            analyst,
            json!({"spec": spec, "finding_ids": ids.get(..2)}),
        )
        .await;
    let expected = grpc
        .preview_tickets(req(
            analyst,
            pb::PreviewTicketsRequest {
                spec: Some(pb_spec.clone()),
                finding_ids: ids[..2].to_vec(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(preview, v(j::Previews::from(expected)));
    assert!(
        !preview["previews"][0]["fields"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let bulk = http
        .ok_post(
            "/v1/tickets/bulk",
            analyst,
            json!({"request_id": uuid::Uuid::new_v4().to_string(), "finding_ids": ids.get(..3), "spec": spec}),
        )
        .await;
    assert_eq!(
        (bulk["created"].as_i64(), bulk["failed"].as_i64()),
        (Some(3), Some(0)),
        "{bulk}"
    );
    let one = http
        .ok_post(
            "/v1/tickets",
            analyst,
            json!({"request_id": uuid::Uuid::new_v4().to_string(), "finding_id": ids[3], "spec": spec}),
        )
        .await;
    assert_eq!(one["outcome"], "created", "{one}");
    assert!(one["link"]["url"].as_str().unwrap().starts_with("https://"));

    let check = http
        .ok_post(
            "/v1/tickets/check",
            analyst,
            json!({"finding_ids": ids, "integration_id": integration}),
        )
        .await;
    let expected = grpc
        .check_ticket_links(req(
            analyst,
            pb::CheckTicketLinksRequest {
                finding_ids: ids.to_vec(),
                integration_id: integration.to_owned(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(check, v(j::CheckLinks::from(expected)));
    let linked = check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["linked"] == true)
        .count();
    assert_eq!(linked, 4);
}

/// WorkbenchService: the list and the CSV export of the same filter.
async fn workbench(env: &Env, http: &Http, integration: &str) -> String {
    let viewer = &env.a.viewer;
    let now = time::OffsetDateTime::now_utc();
    let rows = |page: pb::ListLinkedTicketsResponse| -> Value {
        let mut rows = v(page
            .rows
            .into_iter()
            .map(|r| j::LinkedTicket::from_pb(r, now))
            .collect::<Vec<_>>());
        for row in rows.as_array_mut().unwrap() {
            row["overdue_secs"] = json!(0);
        }
        rows
    };
    let client = WorkbenchServiceClient::new(env.channel.clone());
    let filter = pb::WorkbenchFilter {
        severities: vec!["critical".into()],
        vendors: vec!["servicenow".into()],
        integration_ids: vec![integration.to_owned()],
        ..Default::default()
    };
    let path = format!(
        "/v1/tickets?severity=critical&vendor=servicenow&integration={integration}&page_size=200"
    );
    let grpc_rows = async || {
        let request = pb::ListLinkedTicketsRequest {
            filter: Some(filter.clone()),
            page_size: 200,
            page_token: String::new(),
        };
        let page = client
            .clone()
            .list_linked_tickets(req(viewer, request))
            .await;
        rows(page.unwrap().into_inner())
    };
    // The poller may apply a poll to these rows at any moment (its first tick races the test);
    // compare against a gRPC read that equals the one taken after the HTTP read, i.e. rows that
    // did not change around it.
    let mut page = Value::Null;
    let mut compared = false;
    for _ in 0..20 {
        let before = grpc_rows().await;
        page = http.ok(&path, viewer).await;
        for row in page["rows"].as_array_mut().unwrap() {
            row["overdue_secs"] = json!(0);
        }
        if before == grpc_rows().await {
            assert_eq!(page["rows"], before);
            compared = true;
            break;
        }
    }
    assert!(compared, "the rows never held still around an HTTP read");
    assert_eq!(page["rows"].as_array().unwrap().len(), 2, "{page}");
    assert!(
        page["rows"][0]["finding_link"]
            .as_str()
            .unwrap()
            .starts_with("/findings/")
    );
    assert!(
        page["rows"][0]["deep_link"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );

    let all = http.ok("/v1/tickets", viewer).await;
    assert_eq!(all["rows"].as_array().unwrap().len(), 4);
    let csv = http
        .get("/v1/tickets.csv?severity=critical", Auth::Bearer(viewer))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines.len(), 3, "{}", csv.text);
    assert!(lines[0].starts_with("link_id,finding_id,finding_title"));
    all["rows"][0]["link_id"].as_str().unwrap().to_owned()
}

/// SyncService (poller, over gRPC from the api): re-sync a row (ResyncTicket), re-sync all with its cooldown,
/// poll status.
async fn sync(env: &Env, http: &Http, integration: &str, link: &str) {
    let analyst = &env.a.analyst;
    let (_, poller) = env.upstream.unwrap();
    let mut grpc = SyncServiceClient::connect(format!("http://{poller}"))
        .await
        .unwrap();
    let one = http
        .ok_post(&format!("/v1/tickets/{link}/resync"), analyst, json!({}))
        .await;
    let expected = grpc
        .resync_ticket(req(
            analyst,
            pb::ResyncTicketRequest {
                link_id: link.to_owned(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    // Nothing changed in the emulator: both answers are "current", field for field.
    assert_eq!(one, v(j::TicketResync::from(expected)));
    assert_eq!(one["outcome"], "current", "{one}");
    assert_eq!(one["integration_id"], integration);
    let missing = http
        .post(
            &format!("/v1/tickets/{}/resync", uuid::Uuid::new_v4()),
            Auth::Bearer(analyst),
            json!({}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
    let a = http
        .post(
            &format!("/v1/tickets/{link}/resync"),
            Auth::Bearer(&env.a.viewer),
            json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    let all = http
        .ok_post(
            "/v1/resync-all",
            analyst,
            json!({"integration_ids": [integration]}),
        )
        .await;
    assert_eq!(all["results"][0]["ok"], true, "{all}");
    let again = http
        .post(
            "/v1/resync-all",
            Auth::Bearer(analyst),
            json!({"integration_ids": [integration]}),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        again.text
    );
    assert_eq!(again.problem_code(), "RESOURCE_EXHAUSTED");
    let secs = again.json()["retry_after_secs"].as_u64().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    assert_eq!(again.headers["retry-after"], secs.to_string().as_str());

    let status = http
        .ok(
            &format!("/v1/sync/status?integration={integration}"),
            analyst,
        )
        .await;
    let expected = grpc
        .get_poll_status(req(
            analyst,
            pb::GetPollStatusRequest {
                integration_ids: vec![integration.to_owned()],
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status, v(j::PollStatuses::from(expected)));
    assert!(
        status["statuses"][0]["last_success_at"].is_string(),
        "{status}"
    );
}

#[tokio::test]
async fn every_service_answers_the_same_over_json_and_grpc() {
    let env = Env::start_stack().await;
    let http = Http::new(env.http);
    let integration = integrations(&env, &http).await;
    presets(&env, &http).await;
    let ids = findings(&env, &http).await;
    tickets(&env, &http, &integration, &ids).await;
    let link = workbench(&env, &http, &integration).await;
    sync(&env, &http, &integration, &link).await;
}
