use lockstep_itsm_sim::SimConfig;
use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn https_with_the_generated_certificate() {
    let sim = start_with(SimConfig {
        tls: true,
        ..SimConfig::default()
    })
    .await;
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    let pem = sim.ca_cert_pem().expect("pem").to_string();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(sim.control().ca_pem().await.expect("served"), pem);
    assert_eq!(
        get(&sim, "admin", "/api/now/table/incident").await.status,
        StatusCode::OK
    );
    // localhost is in the certificate too.
    let local = sim.base_url().replace("127.0.0.1", "localhost");
    let r = sim
        .http_client()
        .get(format!("{local}/api/now/table/incident"))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::OK);
    let untrusting = reqwest::Client::builder()
        .tls_certs_only([])
        .build()
        .expect("client");
    assert!(
        untrusting
            .get(format!("{}/_sim/health", sim.base_url()))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn plain_http_and_shutdown() {
    let sim = start().await;
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    assert!(sim.ca_cert_pem().is_none());
    let url = format!("{}/_sim/health", sim.base_url());
    assert_eq!(
        reqwest::get(&url).await.expect("up").status(),
        StatusCode::OK
    );
    sim.shutdown().await;
    assert!(reqwest::Client::new().get(&url).send().await.is_err());
}
