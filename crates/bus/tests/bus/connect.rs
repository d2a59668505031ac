//! `Bus::connect_with` against a private nats-server that requires an account: connects with
//! `nats.credentials_file`, refuses without it, and never prints a password from the URL.

use lockstep_bus::{Bus, BusError};
use lockstep_platform::config::{NatsConfig, NatsUrl};
use lockstep_testkit::NatsServer;

#[tokio::test]
async fn credentials_file_admits_and_its_absence_is_named() {
    let (server, auth) = NatsServer::start_requiring_credentials().await;
    let creds = std::env::temp_dir().join(format!("lockstep-bus-{}.creds", server.port));
    std::fs::write(&creds, auth.creds_file()).unwrap();
    let mut config = NatsConfig {
        url: NatsUrl::new(server.url()),
        subject_prefix: "authtest".to_owned(),
        ..NatsConfig::default()
    };

    let err = Bus::connect_with(&config).await.err().expect("refused");
    assert!(matches!(err, BusError::Unauthorized { .. }), "{err}");
    assert!(err.to_string().contains("nats.credentials_file"), "{err}");
    assert!(
        !err.is_transient(),
        "bad credentials do not heal by retrying"
    );

    config.credentials_file = Some(creds.clone());
    let bus = Bus::connect_with(&config).await.unwrap();
    bus.ensure_stream(&lockstep_bus::StreamSettings::default())
        .await
        .expect("the account has JetStream");
    let _ = std::fs::remove_file(&creds);
}

#[tokio::test]
async fn a_password_in_the_url_is_masked_in_errors() {
    let (server, _auth) = NatsServer::start_requiring_credentials().await;
    let config = NatsConfig {
        url: NatsUrl::new(format!("nats://svc:hunter2@127.0.0.1:{}", server.port)),
        ..NatsConfig::default()
    };
    let err = Bus::connect_with(&config).await.err().expect("refused");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("svc:***@127.0.0.1"), "{shown}");
}

#[tokio::test]
async fn a_missing_credentials_file_names_the_key() {
    let config = NatsConfig {
        credentials_file: Some("/nonexistent/lockstep.creds".into()),
        ..NatsConfig::default()
    };
    let err = Bus::connect_with(&config).await.err().expect("refused");
    let msg = err.to_string();
    assert!(
        msg.contains("nats.credentials_file") && msg.contains("/nonexistent/lockstep.creds"),
        "{msg}"
    );
}

#[tokio::test]
async fn tls_reaches_a_server_whose_ca_is_named_in_nats_tls_ca_file() {
    lockstep_platform::install_crypto_provider();
    let (server, ca) = NatsServer::start_with_tls().await;
    let mut config = NatsConfig {
        url: NatsUrl::new(server.url()),
        subject_prefix: "tlstest".to_owned(),
        ..NatsConfig::default()
    };
    config.tls.required = true;

    let err = Bus::connect_with(&config)
        .await
        .err()
        .expect("a certificate no root trusts is refused");
    assert!(matches!(err, BusError::Connect { .. }), "{err}");

    config.tls.ca_file = Some(ca);
    let bus = Bus::connect_with(&config).await.unwrap();
    bus.ensure_stream(&lockstep_bus::StreamSettings::default())
        .await
        .expect("JetStream over TLS");
}
