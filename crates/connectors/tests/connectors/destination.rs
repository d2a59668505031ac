//! The destination guard: loopback, private and metadata addresses are refused on every
//! connection unless the operator's allow-list names them, and a refusal sends nothing, so the
//! connection test cannot be used to scan the server's ports.

use std::net::SocketAddr;

use lockstep_connectors::http::AllowList;
use lockstep_connectors::servicenow::{
    CheckId, CheckStatus, CredentialsHandle, InstanceUrl, Problem, ServiceNowClient,
    ServiceNowConfig,
};
use lockstep_connectors::{ConnectorError, ErrorClass, HttpConfig, HttpExecutor, RetryPolicy};
use lockstep_domain::{FindingId, IntegrationId, ServiceNowTable};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use crate::support::{Env, basic, canned, http_response};

fn exec(allow: AllowList) -> HttpExecutor {
    HttpExecutor::new(HttpConfig {
        allow_private_networks: allow,
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        ..HttpConfig::default()
    })
    .expect("executor")
}

fn client_for(url: &str, exec: HttpExecutor) -> ServiceNowClient {
    let config = ServiceNowConfig::new(IntegrationId::new(), InstanceUrl::parse(url).unwrap());
    ServiceNowClient::new(exec, config, CredentialsHandle::new(basic("x")).unwrap())
}

async fn read(client: &ServiceNowClient) -> Result<(), ConnectorError> {
    client
        .find_by_correlation(ServiceNowTable::Incident, FindingId::new())
        .await
        .map(drop)
}

fn assert_refused(result: Result<(), ConnectorError>) {
    match result {
        Err(e @ ConnectorError::DestinationRefused { .. }) => {
            assert_eq!(e.class(), ErrorClass::InvalidArgument);
            assert!(e.to_string().contains("allow_private_networks"), "{e}");
        }
        other => panic!("expected a refused destination, got {other:?}"),
    }
}

/// A TCP listener on loopback that only reports who connected.
struct Counting {
    port: u16,
    peers: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<SocketAddr>>,
}

impl Counting {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let _ = tx.send(peer);
                drop(stream);
            }
        });
        Self {
            port,
            peers: tokio::sync::Mutex::new(rx),
        }
    }

    /// How many connections anyone else made so far. Connects once itself and reads the
    /// accepted peers up to its own: the kernel hands out connections in order, so every
    /// earlier one is seen by then (no sleeping).
    async fn others(&self) -> usize {
        let sentinel = TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let me = sentinel.local_addr().unwrap();
        let mut peers = self.peers.lock().await;
        let mut others = 0;
        while let Some(peer) = peers.recv().await {
            if peer == me {
                return others;
            }
            others += 1;
        }
        panic!("the listener stopped");
    }
}

#[tokio::test]
async fn the_loopback_emulator_is_refused_without_the_allow_list_and_sees_no_request() {
    let env = Env::with_http(|c| c.allow_private_networks = AllowList::default()).await;
    assert_refused(read(&env.integration()).await);
    let report = env.integration().test_connection().await;
    let reachable = report.check(CheckId::Reachable).unwrap();
    assert_eq!(
        reachable.problem,
        Some(Problem::DestinationRefused),
        "{report:#?}"
    );
    assert!(
        reachable
            .remedy
            .as_deref()
            .is_some_and(|r| r.contains("allow_private_networks")),
        "{reachable:#?}"
    );
    assert!(
        report.checks[1..]
            .iter()
            .all(|c| c.status == CheckStatus::Skipped),
        "{report:#?}"
    );
    let seen: Vec<_> = env
        .requests("/")
        .await
        .into_iter()
        .filter(|(_, path, _)| !path.starts_with("/_sim"))
        .collect();
    assert!(seen.is_empty(), "the emulator saw {seen:?}");
}

#[tokio::test]
async fn the_emulator_is_reached_when_the_allow_list_names_its_address() {
    let env = Env::with_http(|c| {
        c.allow_private_networks = AllowList::parse(["127.0.0.1/32"]).unwrap();
    })
    .await;
    read(&env.integration()).await.expect("allowed");
    assert_eq!(env.requests("/api/now/table/incident").await.len(), 1);
}

#[tokio::test]
async fn a_host_name_that_resolves_to_loopback_is_refused_unless_named() {
    let listener = Counting::start().await;
    let url = format!("http://localhost:{}/", listener.port);
    assert_refused(read(&client_for(&url, exec(AllowList::default()))).await);
    assert_eq!(listener.others().await, 0, "no connection was opened");

    let site = canned(vec![http_response(
        "200 OK",
        "application/json",
        &[],
        r#"{"result":[]}"#,
    )])
    .await;
    let port = Url::parse(&site.url).unwrap().port().unwrap();
    let by_name = exec(AllowList::parse(["localhost"]).unwrap());
    read(&client_for(&format!("http://localhost:{port}/"), by_name))
        .await
        .expect("the allow-list names the host");
    assert_eq!(site.seen.lock().len(), 1);
}

#[tokio::test]
async fn an_open_and_a_closed_port_get_the_same_answer_and_nothing_is_sent() {
    let open = Counting::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut reports = Vec::new();
    for port in [open.port, closed] {
        let url = format!("http://127.0.0.1:{port}/");
        let report = client_for(&url, exec(AllowList::default()))
            .test_connection()
            .await;
        let shown = format!("{:?}", report.checks).replace(&port.to_string(), "<port>");
        reports.push(shown);
    }
    assert_eq!(reports[0], reports[1], "a port scan learns nothing");
    assert!(reports[0].contains("DestinationRefused"), "{}", reports[0]);
    assert!(!reports[0].contains("HTTP "), "no status is reported");
    assert_eq!(open.others().await, 0);
}

#[tokio::test]
async fn check_destination_tells_early_what_every_connection_enforces() {
    let none = exec(AllowList::default());
    for refused in [
        "http://127.0.0.1:1/",
        "https://localhost/",
        "https://10.0.0.1/",
        "https://[::ffff:169.254.169.254]/",
        "https://169.254.169.254/",
        "https://[fd00:ec2::254]/",
    ] {
        let url = Url::parse(refused).unwrap();
        assert!(
            matches!(
                none.check_destination(&url).await,
                Err(ConnectorError::DestinationRefused { .. })
            ),
            "{refused}"
        );
    }
    for passes in ["https://203.0.113.10/", "https://no-such-host.invalid/"] {
        let url = Url::parse(passes).unwrap();
        assert_eq!(none.check_destination(&url).await, Ok(()), "{passes}");
    }
    let loopback = exec(AllowList::loopback());
    for allowed in [
        "http://127.0.0.1:1/",
        "https://localhost/",
        "http://[::1]:1/",
    ] {
        let url = Url::parse(allowed).unwrap();
        assert_eq!(loopback.check_destination(&url).await, Ok(()), "{allowed}");
    }
}
