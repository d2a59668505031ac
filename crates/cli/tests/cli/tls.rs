//! The CLI against an api serving TLS (`[grpc.tls]`): it connects with `--ca-file`
//! (`LOCKSTEP_CA_FILE`), and without it says what to pass instead of failing obscurely.

use crate::support::Env;

/// A self-signed certificate for `localhost` and its key, written to a fresh folder.
fn certificate() -> (std::path::PathBuf, std::path::PathBuf) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("lockstep-cli-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

#[tokio::test]
async fn the_cli_reaches_a_tls_api_with_the_ca_file_and_says_what_is_missing_without_it() {
    let (cert, key) = certificate();
    let env = Env::start_with(
        &[
            ("LOCKSTEP_GRPC__TLS__CERT_FILE", cert.display().to_string()),
            ("LOCKSTEP_GRPC__TLS__KEY_FILE", key.display().to_string()),
        ],
        "https",
        &[("LOCKSTEP_CA_FILE", cert.display().to_string())],
    )
    .await;

    let tokens = env.cli.json(&["tokens", "list"]).await;
    assert_eq!(tokens[0]["role"], "admin", "an authenticated call over TLS");

    let without_ca = env
        .cli
        .command(&["tokens", "list"])
        .env_remove("LOCKSTEP_CA_FILE")
        .output()
        .await
        .unwrap();
    assert!(!without_ca.status.success());
    let stderr = String::from_utf8_lossy(&without_ca.stderr);
    assert!(
        stderr.contains("--ca-file") && stderr.contains("LOCKSTEP_CA_FILE"),
        "{stderr}"
    );

    // Trusting another CA is refused by the TLS handshake, and the reason reaches the user.
    let (other_ca, _) = certificate();
    let wrong_ca = env
        .cli
        .command(&["tokens", "list"])
        .env("LOCKSTEP_CA_FILE", &other_ca)
        .output()
        .await
        .unwrap();
    assert_eq!(wrong_ca.status.code(), Some(6));
    let stderr = String::from_utf8_lossy(&wrong_ca.stderr);
    assert!(stderr.contains("cannot reach the api"), "{stderr}");
}
