//! The gRPC server with `[grpc.tls]`: a TLS client that trusts the certificate gets health
//! answers, a plain-text client gets nothing, and half a TLS configuration stops the start.

use std::time::Duration;

use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use super::*;

struct Files {
    dir: std::path::PathBuf,
    cert_pem: String,
}

fn certificate() -> Files {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("lockstep-grpc-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    Files {
        dir,
        cert_pem: cert.pem(),
    }
}

async fn health(channel: Channel) -> Result<i32, tonic::Status> {
    let mut client = HealthClient::new(channel);
    let answer = client
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await?;
    Ok(answer.into_inner().status)
}

#[tokio::test]
async fn tls_serves_clients_that_trust_the_certificate_and_only_them() {
    lockstep_platform::install_crypto_provider();
    let files = certificate();
    let mut config = GrpcConfig::on_port(0);
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.request_timeout = Duration::from_secs(5);
    config.tls = GrpcTlsConfig {
        cert_file: Some(files.dir.join("cert.pem")),
        key_file: Some(files.dir.join("key.pem")),
        client_ca_file: None,
    };
    let serving = Serving::from_config(&config).unwrap();
    let (listener, addr) = bind(config.listen).await.unwrap();
    let shutdown = Shutdown::new();
    let server = tokio::spawn(GrpcRoutes::new(false).unwrap().serve(
        listener,
        serving,
        shutdown.clone(),
    ));

    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&files.cert_pem))
        .domain_name("localhost");
    let secure = Channel::from_shared(format!("https://127.0.0.1:{}", addr.port()))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    assert_eq!(health(secure).await.unwrap(), 1, "SERVING over TLS");

    let plain = Channel::from_shared(format!("http://127.0.0.1:{}", addr.port()))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5));
    let refused = match plain.connect().await {
        Ok(channel) => health(channel).await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "a plain-text client is not served");

    shutdown.trigger();
    server.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&files.dir);
}

#[test]
fn half_a_tls_configuration_is_refused_naming_the_keys() {
    let mut config = GrpcConfig::on_port(0);
    config.tls.cert_file = Some("/etc/lockstep/grpc.pem".into());
    let err = Serving::from_config(&config).err().expect("refused");
    assert!(
        err.contains("cert_file") && err.contains("key_file"),
        "{err}"
    );

    config.tls.key_file = Some("/nonexistent/grpc.key".into());
    config.tls.cert_file = Some("/nonexistent/grpc.pem".into());
    let err = Serving::from_config(&config).err().expect("refused");
    assert!(
        err.contains("grpc.tls.cert_file") && err.contains("/nonexistent/grpc.pem"),
        "{err}"
    );
}
