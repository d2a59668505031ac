//! The `lockstep` binary end to end: admin bootstrap through the database, then the gRPC commands
//! against an in-process api, ticket-writer and poller and the ServiceNow emulator, with the
//! documented exit codes.

mod import;
mod support;
mod terminal;
mod tls;
mod tokens;
mod trace;
mod up;

use lockstep_bus::Bus;
use lockstep_itsm_sim::{SimConfig, SimServer};
use lockstep_platform::Shutdown;
use lockstep_testkit::{TestDb, TestNats};

use crate::support::{Cli, MASTER_KEYS};

#[tokio::test]
async fn bootstrap_import_escalate_and_exit_codes() {
    lockstep_platform::install_crypto_provider();
    let db = TestDb::new().await;
    let nats = TestNats::new().await;
    let sim = SimServer::start(SimConfig {
        tls: true,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let ca = std::env::temp_dir().join(format!("lockstep-cli-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, sim.ca_cert_pem().unwrap()).unwrap();
    let service_env: Vec<(String, String)> = [
        ("LOCKSTEP_DATABASE__URL", db.url().to_owned()),
        ("LOCKSTEP_GRPC__LISTEN", "127.0.0.1:0".to_owned()),
        ("LOCKSTEP_ADMIN__LISTEN", "127.0.0.1:0".to_owned()),
        (
            "LOCKSTEP_VENDOR_HTTP__CA_FILES",
            format!("[\"{}\"]", ca.display()),
        ),
    ]
    .map(|(k, v)| (k.to_owned(), v))
    .into_iter()
    // The emulator listens on loopback, which only an explicit allow-list reaches.
    .chain([lockstep_testkit::loopback_vendor_allow_list()])
    .collect();
    let bus = Bus::from_client(nats.client().clone(), nats.prefix()).unwrap();
    let keyring =
        std::sync::Arc::new(lockstep_crypto::Keyring::from_list(MASTER_KEYS, "test").unwrap());
    let shutdown = Shutdown::new();
    let shutdown_poller = shutdown.clone();
    let mut api_config: lockstep_api::Config = lockstep_platform::config::load_with_env(
        lockstep_api::config::DEFAULTS,
        None,
        service_env.clone(),
    )
    .unwrap();
    // The api's HTTP JSON API too on a free port (its default is 8081).
    api_config.http.listen = "127.0.0.1:0".parse().unwrap();
    let api = lockstep_api::App::build(
        api_config,
        lockstep_api::Deps {
            store: db.store().clone(),
            bus: bus.clone(),
            keyring: keyring.clone(),
        },
    )
    .await
    .unwrap();
    let writer_config: lockstep_ticket_writer::Config = lockstep_platform::config::load_with_env(
        lockstep_ticket_writer::config::DEFAULTS,
        None,
        service_env.clone(),
    )
    .unwrap();
    let mut poller_config: lockstep_poller::Config = lockstep_platform::config::load_with_env(
        lockstep_poller::config::DEFAULTS,
        None,
        service_env,
    )
    .unwrap();
    // Only the re-sync below reads the vendor.
    poller_config.poller.tick = std::time::Duration::from_secs(3600);
    let poller = lockstep_poller::App::build(
        poller_config.clone(),
        lockstep_poller::Deps {
            store: db.store().clone(),
            bus: bus.clone(),
            keyring: keyring.clone(),
            http: poller_config.vendor_http.executor().unwrap(),
        },
    )
    .await
    .unwrap();
    let writer = lockstep_ticket_writer::App::build(
        writer_config,
        lockstep_ticket_writer::Deps {
            store: db.store().clone(),
            bus,
            keyring,
        },
    )
    .await
    .unwrap();
    let (api_addr, writer_addr) = (api.local_addr(), writer.local_addr());
    let poller_addr = poller.grpc_addr();
    tokio::spawn(api.run(shutdown.clone()));
    tokio::spawn(writer.run(shutdown.clone()));
    tokio::spawn(async move { poller.run(shutdown_poller).await.unwrap() });

    let mut cli = Cli {
        env: vec![
            ("LOCKSTEP_DATABASE__URL".into(), db.url().to_owned()),
            ("LOCKSTEP_API_URL".into(), format!("http://{api_addr}")),
            (
                "LOCKSTEP_WRITER_URL".into(),
                format!("http://{writer_addr}"),
            ),
            (
                "LOCKSTEP_POLLER_URL".into(),
                format!("http://{poller_addr}"),
            ),
        ],
    };
    // No token yet: exit code 4.
    let out = cli.run(&["findings", "list"]).await;
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let boot = cli
        .json(&["admin", "bootstrap", "--tenant-name", "acme"])
        .await;
    let token = boot["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("lst_"));
    cli.env.push(("LOCKSTEP_TOKEN".into(), token));

    let scan = std::env::temp_dir().join(format!("lockstep-cli-scan-{}.json", std::process::id()));
    std::fs::write(
        &scan,
        r#"{"scanner": "nessus", "findings": [
        {"key": "K-1", "title": "OpenSSL", "severity": "critical"},
        {"key": "K-2", "title": "TLS 1.0", "severity": "low"}]}"#,
    )
    .unwrap();
    let imported = cli
        .json(&["findings", "import", scan.to_str().unwrap()])
        .await;
    assert_eq!(imported["created"], 2);

    let created = cli
        .json(&[
            "integrations",
            "create",
            "--name",
            "sn",
            "--url",
            sim.base_url(),
            "--username",
            "lockstep.integration",
            "--password",
            "lockstep.integration",
            "--poll-interval",
            "45",
        ])
        .await;
    let integration = created[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(created[0]["credentials_set"], true);
    assert_eq!(created[0]["settings"]["poll_interval_secs"], 45);
    assert!(
        !created.to_string().contains("\"password\""),
        "credentials are never shown"
    );
    cli.ok(&["integrations", "test", &integration]).await;

    // A server-generated webhook secret is shown once, beside the integration.
    let rotated = cli
        .json(&[
            "integrations",
            "webhook-secret",
            "rotate",
            &integration,
            "--generate",
        ])
        .await;
    let generated = rotated["webhook_secret"].as_str().unwrap();
    assert!(generated.len() >= 32, "{rotated}");
    assert_eq!(rotated["integration"]["id"], integration.as_str());
    assert_eq!(rotated["integration"]["webhook_secret_set"], true);
    let both = cli
        .run(&[
            "integrations",
            "webhook-secret",
            "rotate",
            &integration,
            "--generate",
            "--secret",
            "typed-secret-0123456789",
        ])
        .await;
    assert_eq!(
        both.status.code(),
        Some(2),
        "a secret or --generate, not both"
    );

    let preview = cli
        .json(&[
            "tickets",
            "preview",
            "--integration",
            &integration,
            "--status",
            "open",
        ])
        .await;
    assert_eq!(preview.as_array().unwrap().len(), 2);
    let bulk = cli
        .json(&[
            "tickets",
            "bulk",
            "--integration",
            &integration,
            "--status",
            "open",
        ])
        .await;
    assert!(
        bulk.as_array()
            .unwrap()
            .iter()
            .all(|r| r["outcome"] == "created"),
        "{bulk}"
    );
    let listed = cli.json(&["findings", "list", "--all"]).await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["tickets"][0]["key"].as_str().unwrap().starts_with("INC")),
        "{listed}"
    );
    let table = cli.ok(&["findings", "list"]).await;
    assert!(table.contains("INC00100"), "{table}");

    // One row re-synced: nothing changed in the emulator, so the ticket is current.
    let rows = cli.json(&["tickets", "list"]).await;
    let link = rows[0]["link_id"].as_str().unwrap().to_owned();
    let resync = cli.json(&["tickets", "resync", &link]).await;
    assert_eq!(resync["outcome"], "current", "{resync}");
    assert_eq!(resync["ticket"], rows[0]["ticket_key"], "{resync}");
    assert_eq!(resync["vendor_state"], "1", "{resync}");
    let table = cli.ok(&["tickets", "resync", &link]).await;
    assert!(table.contains("current"), "{table}");
    assert_eq!(
        cli.run(&["tickets", "resync", &uuid_like()])
            .await
            .status
            .code(),
        Some(3),
        "an unknown link is NOT_FOUND"
    );

    // Exit codes by class.
    let missing = uuid_like();
    assert_eq!(
        cli.run(&["findings", "get", &missing]).await.status.code(),
        Some(3)
    );
    assert_eq!(
        cli.run(&["findings", "get", "not-an-id"])
            .await
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        cli.run(&["findings", "set-status", &missing, "bogus"])
            .await
            .status
            .code(),
        Some(2)
    );
    shutdown.trigger();
}

fn uuid_like() -> String {
    "01a20000-0000-7000-8000-000000000000".to_owned()
}
