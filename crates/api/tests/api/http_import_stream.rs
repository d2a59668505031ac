//! `POST /v1/findings/import-stream`: an NDJSON body larger than the unary route's 8 MiB cap is
//! streamed into `ImportFindingsStream`'s code and written in one transaction; a bad line in the
//! middle writes nothing and is named; the refusals are the gRPC ones.

use lockstep_proto::v1 as pb;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::http_client::{Answer, Auth, Http};
use crate::support::{Env, req};

/// `n` findings, one a line, each with a 2,000-character description; `bad` (0-based) gets an
/// unknown severity.
fn ndjson(prefix: &str, n: usize, bad: Option<usize>) -> Vec<u8> {
    let description = "d".repeat(2_000);
    let mut out = Vec::new();
    for i in 0..n {
        let severity = if Some(i) == bad { "urgent" } else { "high" };
        let line = json!({"key": format!("{prefix}-{i:05}"), "title": format!("Finding {i}"),
                          "severity": severity, "description": description});
        out.extend_from_slice(line.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

async fn post(env: &Env, token: &str, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
    let resp = reqwest::Client::new()
        .post(format!("http://{}{path}", env.http))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    Answer {
        status: resp.status(),
        headers: resp.headers().clone(),
        text: resp.text().await.unwrap(),
    }
}

async fn stored(env: &Env) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM findings WHERE tenant_id = $1")
        .bind(env.a.id.as_uuid())
        .fetch_one(env.db.pool())
        .await
        .unwrap()
}

const ROUTE: &str = "/v1/findings/import-stream?scanner=nessus";
const NDJSON: &str = "application/x-ndjson";

#[tokio::test]
async fn a_scan_over_the_body_cap_streams_in_one_transaction() {
    let env = Env::start().await;
    let body = ndjson("big", 10_000, None);
    assert!(body.len() > 20_000_000, "{} bytes", body.len());
    // The unary route keeps its cap.
    let doc = json!({"format": "json", "content": String::from_utf8(body.clone()).unwrap()});
    let a = post(
        &env,
        &env.a.analyst,
        "/v1/findings/import",
        "application/json",
        doc.to_string().into_bytes(),
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);

    let a = post(&env, &env.a.analyst, ROUTE, NDJSON, body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        a.json(),
        json!({"created": 10_000, "updated": 0, "findings": 10_000, "chunks": 10})
    );
    assert_eq!(stored(&env).await, 10_000);
    // Re-importing updates, never duplicates.
    let again = post(
        &env,
        &env.a.analyst,
        ROUTE,
        NDJSON,
        ndjson("big", 1_500, None),
    )
    .await;
    assert_eq!(again.json()["updated"], 1_500, "{}", again.text);
    assert_eq!(stored(&env).await, 10_000);
}

#[tokio::test]
async fn a_bad_line_in_the_middle_writes_nothing_and_is_named() {
    let env = Env::start().await;
    let a = post(
        &env,
        &env.a.analyst,
        ROUTE,
        NDJSON,
        ndjson("bad", 10_000, Some(5_000)),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    assert_eq!(a.problem_code(), "INVALID_ARGUMENT");
    let detail = a.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("nothing was imported"), "{detail}");
    assert!(detail.contains("line 5001: severity"), "{detail}");
    assert_eq!(stored(&env).await, 0);

    // The same lines over gRPC's ImportFindingsStream: the same refusal, word for word.
    let small = ndjson("bad", 3, Some(1));
    let a = post(&env, &env.a.analyst, ROUTE, NDJSON, small.clone()).await;
    let piece = pb::ImportFindingsPiece {
        format: pb::ImportFormat::Ndjson as i32,
        scanner: "nessus".into(),
        content: small,
    };
    let err = env
        .findings()
        .import_findings_stream(req(&env.a.analyst, tokio_stream::iter([piece])))
        .await
        .unwrap_err();
    assert_eq!(a.json()["detail"], Value::from(err.message()), "{}", a.text);
    assert!(
        err.message().contains("line 2: severity"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn the_refusals_are_the_grpc_ones() {
    let env = Env::start().await;
    let body = ndjson("r", 2, None);
    let a = post(&env, &env.a.viewer, ROUTE, NDJSON, body.clone()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    a.problem_code();
    let a = post(
        &env,
        &env.a.analyst,
        ROUTE,
        "application/json",
        body.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", a.text);
    assert_eq!(a.problem_code(), "UNSUPPORTED_MEDIA_TYPE");
    let a = post(&env, &env.a.analyst, ROUTE, NDJSON, Vec::new()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    let a = Http::new(env.http).post(ROUTE, Auth::None, json!({})).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text);
    // Tenant b imports into tenant b only.
    let a = post(&env, &env.b.analyst, ROUTE, NDJSON, body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(stored(&env).await, 0);
}
