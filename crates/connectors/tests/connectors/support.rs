//! Shared harness: an emulator per test, clients with chosen credentials, findings, and a tiny
//! canned HTTP server for answers the emulator does not give.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use lockstep_connectors::http::AllowList;
use lockstep_connectors::servicenow::{
    CredentialsHandle, InstanceUrl, NewTicket, ServiceNowClient, ServiceNowConfig,
    ServiceNowCredentials,
};
use lockstep_connectors::{HttpConfig, HttpExecutor, RetryPolicy};
use lockstep_crypto::SecretString;
use lockstep_domain::{
    BySeverity, Finding, FindingId, FindingStatus, IntegrationId, ScannerKey, ServiceNowFields,
    ServiceNowTable, Severity, TenantId,
};
use lockstep_itsm_sim::{SimConfig, SimHandle, SimServer};
use parking_lot::Mutex;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const INTEGRATION_USER: &str = "lockstep.integration";

pub struct Env {
    pub sim: SimHandle,
    pub exec: HttpExecutor,
}

impl Env {
    pub async fn start() -> Self {
        Self::with_http(|_| {}).await
    }

    /// Starts an HTTPS emulator and an executor trusting its CA, with fast retries, allowed to
    /// reach loopback addresses (where the emulator listens).
    pub async fn with_http(tune: impl FnOnce(&mut HttpConfig)) -> Self {
        let sim = SimServer::start(SimConfig {
            tls: true,
            ..SimConfig::default()
        })
        .await
        .expect("emulator starts");
        let mut config = HttpConfig {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            retry: RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(20),
                max_delay: Duration::from_millis(100),
                retry_after_cap: Duration::from_secs(3),
            },
            max_concurrency_per_integration: 4,
            trusted_roots_pem: vec![
                sim.ca_cert_pem()
                    .expect("TLS emulator has a CA")
                    .as_bytes()
                    .to_vec(),
            ],
            allow_private_networks: AllowList::loopback(),
            ..HttpConfig::default()
        };
        tune(&mut config);
        let exec = HttpExecutor::new(config).expect("executor builds");
        Self { sim, exec }
    }

    pub fn instance(&self) -> InstanceUrl {
        InstanceUrl::parse(self.sim.base_url()).expect("emulator URL is valid")
    }

    pub fn config(&self) -> ServiceNowConfig {
        ServiceNowConfig::new(IntegrationId::new(), self.instance())
    }

    pub fn client(&self, credentials: ServiceNowCredentials) -> ServiceNowClient {
        self.client_with(credentials, |_| {})
    }

    pub fn client_with(
        &self,
        credentials: ServiceNowCredentials,
        tune: impl FnOnce(&mut ServiceNowConfig),
    ) -> ServiceNowClient {
        let mut config = self.config();
        tune(&mut config);
        ServiceNowClient::new(
            self.exec.clone(),
            config,
            CredentialsHandle::new(credentials).expect("credentials valid"),
        )
    }

    /// The integration account (itil, Basic allowed).
    pub fn integration(&self) -> ServiceNowClient {
        self.client(basic(INTEGRATION_USER))
    }

    pub fn admin(&self) -> ServiceNowClient {
        self.client(basic("admin"))
    }

    /// Requests the emulator saw on `path_prefix` (method, path, status).
    pub async fn requests(&self, path_prefix: &str) -> Vec<(String, String, Option<u16>)> {
        let all = self.sim.control().requests().await.expect("request log");
        all.into_iter()
            .filter(|r| r.path.starts_with(path_prefix))
            .map(|r| (r.method, r.path, r.status))
            .collect()
    }

    pub async fn count(&self, table: &str, query: &str) -> usize {
        self.sim
            .control()
            .records(table, query)
            .await
            .expect("records")
            .len()
    }
}

/// Seeded users' passwords equal their user names.
pub fn basic(user: &str) -> ServiceNowCredentials {
    ServiceNowCredentials::Basic {
        username: user.into(),
        password: SecretString::new(user),
    }
}

pub fn finding(key: &str, title: &str, severity: Severity) -> Finding {
    let now = OffsetDateTime::now_utc();
    Finding {
        id: FindingId::new(),
        tenant_id: TenantId::new(),
        scanner_key: ScannerKey::parse(key).expect("key"),
        title: title.into(),
        description: "Upgrade the package.".into(),
        severity,
        status: FindingStatus::Open,
        asset: Some("web-01".into()),
        cve: None,
        cwe: None,
        scanner: "nessus".into(),
        created_at: now,
        updated_at: now,
    }
}

pub fn new_ticket(table: ServiceNowTable, key: &str, severity: Severity) -> NewTicket {
    let f = finding(key, &format!("Finding {key}"), severity);
    // The default mapping: critical → priority 1 … info → priority 5.
    let fields = BySeverity::<ServiceNowFields>::servicenow_default()
        .get(severity)
        .clone();
    NewTicket::for_finding(table, &f, &fields, None).expect("ticket")
}

pub fn str_of<'a>(record: &'a serde_json::Map<String, Value>, field: &str) -> &'a str {
    record.get(field).and_then(Value::as_str).unwrap_or("")
}

/// A canned HTTP/1.1 server: answers the n-th request with `responses[n]` (the last one repeats),
/// and records the request lines it saw.
pub struct Canned {
    pub url: String,
    pub seen: Arc<Mutex<Vec<String>>>,
}

pub async fn canned(responses: Vec<String>) -> Canned {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!(
        "http://127.0.0.1:{}/",
        listener.local_addr().expect("addr").port()
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut n = 0usize;
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 16384];
            let mut got = Vec::new();
            // Read until the end of the headers (requests here carry no bodies we need).
            while let Ok(k) = stream.read(&mut buf).await {
                if k == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..k]);
                if got.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let text = String::from_utf8_lossy(&got);
            log.lock()
                .push(text.lines().next().unwrap_or("").to_owned());
            let resp = responses[n.min(responses.len() - 1)].clone();
            n += 1;
            let _ = stream.write_all(resp.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    Canned { url, seen }
}

pub fn http_response(
    status: &str,
    content_type: &str,
    extra_headers: &[(&str, &str)],
    body: &str,
) -> String {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra_headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    format!("{head}\r\n{body}")
}

/// An executor for plain-HTTP canned servers (on loopback, which it is allowed to reach).
pub fn plain_exec() -> HttpExecutor {
    HttpExecutor::new(HttpConfig {
        allow_private_networks: AllowList::loopback(),
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        request_timeout: Duration::from_secs(3),
        ..HttpConfig::default()
    })
    .expect("executor")
}
