//! The Jira emulator where the pycontribs client cannot reach: JQL watermarks in the searching
//! user's time zone, the removed `/search`, a simultaneous transition, rate limits and OAuth scopes.

use std::time::Duration;

use lockstep_itsm_sim::SimHandle;
use lockstep_itsm_sim::control::{JiraLimitKind, JiraRateLimit, jira_seed};
use reqwest::Method;
use serde_json::{Value, json};
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::helpers::*;

pub const LOCKSTEP: (&str, &str) = ("lockstep@example.com", "lockstep-token");
pub const PRIYA: (&str, &str) = ("priya@example.com", "priya-token");
pub const ADMIN: (&str, &str) = ("admin@example.com", "admin-token");

pub async fn jira(
    sim: &SimHandle,
    who: (&str, &str),
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Resp {
    let mut req = sim
        .http_client()
        .request(method, format!("{}/rest/api/3/{path}", sim.base_url()))
        .basic_auth(who.0, Some(who.1));
    if let Some(b) = body {
        req = req.json(&b);
    }
    into_resp(req.send().await.expect("request sent")).await
}

pub async fn create_sec(sim: &SimHandle, summary: &str) -> String {
    let r = jira(
        sim,
        LOCKSTEP,
        Method::POST,
        "issue",
        Some(json!({"fields": {
        "project": {"key": "SEC"}, "issuetype": {"name": "Bug"}, "summary": summary,
        "customfield_10050": "host-1"}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["key"].as_str().expect("key").to_string()
}

async fn keys(sim: &SimHandle, who: (&str, &str), jql: &str) -> Vec<String> {
    let r = jira(
        sim,
        who,
        Method::POST,
        "search/jql",
        Some(json!({"jql": jql, "fields": ["updated"]})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| i["key"].as_str().unwrap_or("").to_string())
        .collect()
}

fn minute_literal(t: OffsetDateTime, offset: UtcOffset) -> String {
    t.to_offset(offset)
        .format(format_description!("[year]-[month]-[day] [hour]:[minute]"))
        .expect("formats")
}

#[tokio::test]
async fn watermarks_are_read_in_the_api_users_zone() {
    let sim = start().await;
    let earlier = create_sec(&sim, "two hours earlier").await;
    sim.control().advance_clock(2 * 3600).await.expect("clock");
    let key = create_sec(&sim, "at the boundary").await;
    let updated = sim.control().jira_issue(&key).await.expect("issue").updated;
    let new_york = UtcOffset::from_hms(-5, 0, 0).expect("offset");
    let kolkata = UtcOffset::from_hms(5, 30, 0).expect("offset");
    let jql =
        |lit: &str| format!("project = SEC AND updated >= \"{lit}\" ORDER BY updated ASC, id ASC");

    // Rendered in each user's own zone, the minute watermark finds the issue for both.
    for (who, zone) in [(LOCKSTEP, new_york), (PRIYA, kolkata)] {
        assert_eq!(
            keys(&sim, who, &jql(&minute_literal(updated, zone))).await,
            vec![key.clone()]
        );
    }
    // The classic bug: a UTC wall-clock string read in UTC−5 lies five hours in the future.
    assert!(
        keys(
            &sim,
            LOCKSTEP,
            &jql(&minute_literal(updated, UtcOffset::UTC))
        )
        .await
        .is_empty()
    );
    // … and in UTC+5:30 five and a half hours in the past: older issues come back too.
    let priya = keys(&sim, PRIYA, &jql(&minute_literal(updated, UtcOffset::UTC))).await;
    assert_eq!(priya, vec![earlier, key.clone()]);

    // Unquoted numbers are epoch milliseconds, independent of the zone.
    let ms = updated.unix_timestamp() * 1000;
    for who in [LOCKSTEP, PRIYA] {
        let at = format!("project = SEC AND updated >= {ms}");
        assert_eq!(keys(&sim, who, &at).await, vec![key.clone()]);
        assert!(
            keys(&sim, who, &format!("project = SEC AND updated > {ms}"))
                .await
                .is_empty()
        );
    }
    // The user's representation carries the user's offset.
    let r = jira(
        &sim,
        PRIYA,
        Method::GET,
        &format!("issue/{key}?fields=updated"),
        None,
    )
    .await;
    assert!(
        r.body["fields"]["updated"]
            .as_str()
            .expect("updated")
            .ends_with("+0530")
    );
}

#[tokio::test]
async fn jql_rules_bounded_order_by_and_bad_dates() {
    let sim = start().await;
    let r = jira(
        &sim,
        LOCKSTEP,
        Method::GET,
        "search/jql?jql=order%20by%20key%20desc",
        None,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["errorMessages"][0],
        "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
    );
    let eight =
        "project = SEC ORDER BY updated, id, key, created, priority, status, project, summary";
    let r = jira(
        &sim,
        LOCKSTEP,
        Method::POST,
        "search/jql",
        Some(json!({"jql": eight})),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let seven = "project = SEC ORDER BY updated, id, key, created, priority, status, project";
    let r = jira(
        &sim,
        LOCKSTEP,
        Method::POST,
        "search/jql",
        Some(json!({"jql": seven})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = jira(
        &sim,
        LOCKSTEP,
        Method::POST,
        "search/jql",
        Some(json!({"jql": "updated >= \"04.12.2026\""})),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("Valid formats include"), "{}", r.text);
    let r = jira(
        &sim,
        LOCKSTEP,
        Method::POST,
        "search/jql",
        Some(json!({"jql": "project = SEC", "reconcileIssues": (0..51).collect::<Vec<_>>()})),
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn the_removed_search_answers_410_on_v2_and_v3() {
    let sim = start().await;
    for path in [
        "/rest/api/3/search?jql=project%3DSEC",
        "/rest/api/2/search?jql=project%3DSEC",
    ] {
        for method in [Method::GET, Method::POST] {
            let r = sim
                .http_client()
                .request(method, format!("{}{path}", sim.base_url()))
                .basic_auth(LOCKSTEP.0, Some(LOCKSTEP.1))
                .json(&json!({"jql": "project = SEC"}))
                .send()
                .await
                .expect("sent");
            let r = into_resp(r).await;
            assert_eq!(r.status, 410);
            assert_eq!(
                r.body["errorMessages"][0],
                "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
            );
        }
    }
}

#[tokio::test]
async fn a_transition_while_another_runs_is_409() {
    let sim = start().await;
    let key = create_sec(&sim, "busy").await;
    sim.control()
        .patch_jira_settings(json!({"transition_latency_ms": 30_000}))
        .await
        .expect("settings");
    let first = {
        let (client, url) = (
            sim.http_client(),
            format!("{}/rest/api/3/issue/{key}/transitions", sim.base_url()),
        );
        tokio::spawn(async move {
            client
                .post(url)
                .basic_auth(LOCKSTEP.0, Some(LOCKSTEP.1))
                .json(&json!({"transition": {"id": "11"}}))
                .send()
                .await
                .expect("sent")
                .status()
        })
    };
    // Wait until the first transition holds the issue, then race it.
    let id: u64 = sim.control().jira_issue(&key).await.expect("issue").id;
    let jira_state = sim.state().jira.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !jira_state.transition_in_progress(id) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "first transition never started"
        );
        tokio::task::yield_now().await;
    }
    let second = jira(
        &sim,
        PRIYA,
        Method::POST,
        &format!("issue/{key}/transitions"),
        Some(json!({"transition": {"id": "11"}})),
    )
    .await;
    assert_eq!(second.status, 409, "{}", second.text);
    first.abort();
    // An aborted request releases the issue; a held one (control API) gives 409 deterministically.
    sim.control()
        .patch_jira_settings(json!({"transition_latency_ms": 0}))
        .await
        .expect("settings");
    sim.control()
        .hold_jira_transition(&key)
        .await
        .expect("hold");
    let held = jira(
        &sim,
        PRIYA,
        Method::POST,
        &format!("issue/{key}/transitions"),
        Some(json!({"transition": {"id": "11"}})),
    )
    .await;
    assert_eq!(held.status, 409);
    sim.control()
        .release_jira_transition(&key)
        .await
        .expect("release");
    let ok = jira(
        &sim,
        PRIYA,
        Method::POST,
        &format!("issue/{key}/transitions"),
        Some(json!({"transition": {"id": "11"}})),
    )
    .await;
    assert_eq!(ok.status, 204, "{}", ok.text);
    assert_eq!(
        sim.control()
            .jira_issue(&key)
            .await
            .expect("issue")
            .status_id,
        "10002"
    );
}

#[tokio::test]
async fn rate_limits_answer_429_per_account() {
    let sim = start().await;
    sim.control()
        .set_jira_rate_limits(&[JiraRateLimit {
            kind: JiraLimitKind::Burst,
            account_id: Some(jira_seed::LOCKSTEP.into()),
            limit: 2,
            window_secs: 3600,
            retry_after_secs: Some(7),
        }])
        .await
        .expect("limits");
    let ok = jira(&sim, LOCKSTEP, Method::GET, "myself", None).await;
    assert_eq!(ok.header("x-ratelimit-remaining"), Some("1"));
    jira(&sim, LOCKSTEP, Method::GET, "myself", None).await;
    let limited = jira(&sim, LOCKSTEP, Method::GET, "myself", None).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("7"));
    assert_eq!(limited.header("ratelimit-reason"), Some("jira-burst-based"));
    assert!(
        limited
            .header("x-ratelimit-reset")
            .is_some_and(|r| r.ends_with('Z'))
    );
    // Another account is not delayed by this one's storm.
    assert_eq!(
        jira(&sim, PRIYA, Method::GET, "myself", None).await.status,
        200
    );
}

#[tokio::test]
async fn oauth_tokens_act_through_the_gateway_within_their_scopes() {
    let sim = start().await;
    let code = sim
        .control()
        .jira_oauth_code("lockstep-jira", jira_seed::LOCKSTEP, &["read:jira-work"])
        .await
        .expect("code");
    let http = sim.http_client();
    let token: Value = http.post(format!("{}/oauth/token", sim.base_url()))
        .json(&json!({"grant_type": "authorization_code", "client_id": "lockstep-jira",
                      "client_secret": "lockstep-jira-secret", "code": code, "redirect_uri": "https://x"}))
        .send().await.expect("sent").json().await.expect("json");
    assert!(
        token.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    let access = token["access_token"].as_str().expect("access token");
    let sites: Value = http
        .get(format!(
            "{}/oauth/token/accessible-resources",
            sim.base_url()
        ))
        .bearer_auth(access)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let cloud = sites[0]["id"].as_str().expect("cloud id");
    let api = format!("{}/ex/jira/{cloud}/rest/api/3", sim.base_url());
    let me = into_resp(
        http.get(format!("{api}/myself"))
            .bearer_auth(access)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(me.body["accountId"], jira_seed::LOCKSTEP);
    let write = into_resp(
        http.post(format!("{api}/issue"))
            .bearer_auth(access)
            .json(&json!({"fields": {}}))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(write.status, 401, "read-only token: {}", write.text);
    // A reused authorization code is refused.
    let again = http
        .post(format!("{}/oauth/token", sim.base_url()))
        .json(
            &json!({"grant_type": "authorization_code", "client_id": "lockstep-jira",
                      "client_secret": "lockstep-jira-secret", "code": code}),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status(), 403);
}

#[tokio::test]
async fn unauthenticated_calls_get_the_401_text() {
    let sim = start().await;
    let r = into_resp(
        sim.http_client()
            .get(format!("{}/rest/api/3/issue/SEC-1", sim.base_url()))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.text,
        "Client must be authenticated to access this resource."
    );
    assert!(r.header("www-authenticate").is_some());
    let info = into_resp(
        sim.http_client()
            .get(format!("{}/rest/api/2/serverInfo", sim.base_url()))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(info.body["deploymentType"], "Cloud");
}
