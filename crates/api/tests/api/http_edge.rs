//! The HTTP listener's edge: the time limit (504), load shedding (503 with Retry-After), the
//! header read timeout against slow clients, and TLS. The slow requests are real routes whose
//! upstream never answers: ticket-writer and the poller are pointed at a listener that takes
//! connections and says nothing.

use std::time::Duration;

use lockstep_platform::guarded::TlsFiles;
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::http_client::{Auth, Http};
use crate::support::Env;

/// A TCP listener that accepts and never answers: an upstream that hangs.
async fn silent_upstream() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

#[tokio::test]
async fn a_request_past_its_time_limit_is_answered_504_saying_what_to_do() {
    let (_silent, url) = silent_upstream().await;
    let env = Env::start_with(|c| {
        c.http.request_timeout = Duration::from_millis(300);
        c.upstream.poller = url.clone();
        c.upstream.ticket_writer = url;
    })
    .await;
    let http = Http::new(env.http);
    let a = http
        .get("/v1/sync/status", Auth::Bearer(&env.a.viewer))
        .await;
    assert_eq!(a.status, StatusCode::GATEWAY_TIMEOUT, "{}", a.text);
    assert_eq!(a.problem_code(), "DEADLINE_EXCEEDED");
    let detail = a.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("http.request_timeout"), "{detail}");
    assert!(detail.contains("before retrying"), "{detail}");
}

#[tokio::test]
async fn requests_past_the_concurrency_bound_are_shed_with_retry_after() {
    let (silent, url) = silent_upstream().await;
    let env = Env::start_with(|c| {
        c.http.max_concurrent_requests = 1;
        c.upstream.poller = url.clone();
        c.upstream.ticket_writer = url;
    })
    .await;
    let http = Http::new(env.http);
    let token = env.a.viewer.clone();
    let held = {
        let http = http.clone();
        tokio::spawn(async move { http.get("/v1/sync/status", Auth::Bearer(&token)).await })
    };
    // The first request is in its handler once its upstream call reaches the silent listener.
    let (_upstream_call, _) = silent.accept().await.unwrap();
    let a = http.get("/v1/findings", Auth::Bearer(&env.a.viewer)).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text);
    assert_eq!(a.problem_code(), "OVERLOADED");
    assert_eq!(a.headers["retry-after"], "1");
    assert_eq!(a.json()["retry_after_secs"], 1);
    held.abort();
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_head_is_disconnected() {
    let env = Env::start_with(|c| c.http.header_read_timeout = Duration::from_millis(300)).await;
    let mut slow = TcpStream::connect(env.http).await.unwrap();
    slow.write_all(b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // The server closes the connection; the bound only keeps a broken server from hanging the
    // test.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), slow.read_to_end(&mut rest))
        .await
        .expect("the server kept a connection without a complete head open")
        .ok();
    assert!(
        !String::from_utf8_lossy(&rest).contains("200 OK"),
        "{rest:?}"
    );
}

struct Certificate {
    dir: std::path::PathBuf,
    pem: String,
}

fn certificate() -> Certificate {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("lockstep-http-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    Certificate {
        dir,
        pem: cert.pem(),
    }
}

#[tokio::test]
async fn with_tls_the_api_speaks_https_only_and_its_session_cookie_is_secure() {
    let cert = certificate();
    let files = TlsFiles {
        cert_file: Some(cert.dir.join("cert.pem")),
        key_file: Some(cert.dir.join("key.pem")),
    };
    let env = Env::start_with(|c| c.http.tls = files).await;
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.pem.as_bytes()).unwrap())
        .resolve("localhost", env.http)
        .build()
        .unwrap();
    let base = format!("https://localhost:{}", env.http.port());
    let a = client
        .get(format!("{base}/v1/findings"))
        .bearer_auth(&env.a.viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), StatusCode::OK);
    // secure_cookies is off in the configuration; TLS turns it on.
    let a = client
        .post(format!("{base}/v1/session"))
        .json(&json!({"token": env.a.viewer}))
        .send()
        .await
        .unwrap();
    assert!(a.status().is_success(), "{}", a.status());
    let cookie = a.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/v1/openapi.json", env.http))
        .send()
        .await;
    assert!(
        plain.is_err() || !plain.as_ref().unwrap().status().is_success(),
        "{plain:?}"
    );
    std::fs::remove_dir_all(&cert.dir).ok();
}

#[tokio::test]
async fn a_bulk_route_gets_its_own_time_limit_and_a_body_that_stops_arriving_meets_it() {
    let env = Env::start_with(|c| {
        c.http.request_timeout = Duration::from_secs(600);
        c.http.bulk_request_timeout = Duration::from_millis(300);
    })
    .await;
    // The streamed import reads its body as it arrives; this one promises more than it sends.
    let mut client = TcpStream::connect(env.http).await.unwrap();
    let head = format!(
        "POST /v1/findings/import-stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/x-ndjson\r\nContent-Length: 100000\r\n\r\n{{\"key\":",
        env.a.analyst
    );
    client.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    // Read until the answer's body is in (or the server closes); the bound only keeps a broken
    // server from hanging the test.
    tokio::time::timeout(Duration::from_secs(60), async {
        while !String::from_utf8_lossy(&answer).contains("\"code\"") {
            let n = client.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("no answer to a request whose body stopped arriving");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 504"), "{answer}");
    assert!(answer.contains("http.bulk_request_timeout"), "{answer}");
}
