use lockstep_itsm_sim::control::RateLimitRule;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn no_rule_no_headers() {
    let sim = start().await;
    let r = get(&sim, "admin", "/api/now/table/incident").await;
    assert!(r.header("x-ratelimit-limit").is_none());
}

#[tokio::test]
async fn a_matching_rule_sends_headers_and_429s_past_the_limit() {
    let sim = start().await;
    let rules = sim
        .control()
        .set_rate_limits(&[RateLimitRule {
            name: "itil cap".into(),
            role: Some("itil".into()),
            limit: 2,
            ..Default::default()
        }])
        .await
        .expect("rules");
    let rule_id = rules[0].sys_id.clone();
    for _ in 0..2 {
        let ok = get(&sim, "beth.anglin", "/api/now/table/incident").await;
        assert_eq!(ok.status, StatusCode::OK);
        assert_eq!(ok.header("x-ratelimit-limit"), Some("2"));
        assert_eq!(ok.header("x-ratelimit-rule"), Some(rule_id.as_str()));
    }
    let denied = get(&sim, "beth.anglin", "/api/now/table/incident").await;
    assert_eq!(denied.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        denied.body,
        json!({"error": {"message": "Rate limit exceeded", "detail": "Rate limit of 2 requests per hour for Table API exceeded"}, "status": "failure"})
    );
    let retry: i64 = denied
        .header("retry-after")
        .expect("retry-after")
        .parse()
        .expect("seconds");
    let reset: i64 = denied
        .header("x-ratelimit-reset")
        .expect("reset")
        .parse()
        .expect("unix");
    assert!((1..=3600).contains(&retry));
    assert_eq!(reset % 3600, 0);
    // Other users are not affected; the window resets.
    let admin = get(&sim, "admin", "/api/now/table/incident").await;
    assert_eq!(admin.status, StatusCode::OK);
    assert!(admin.header("x-ratelimit-limit").is_none());
    sim.control().advance_clock(retry).await.expect("clock");
    assert_eq!(
        get(&sim, "beth.anglin", "/api/now/table/incident")
            .await
            .status,
        StatusCode::OK
    );
}
