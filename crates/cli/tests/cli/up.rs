//! `lockstep up` as a process: it logs like the separate binaries (JSON lines on stdout,
//! `RUST_LOG` honoured), its services reach a NATS server that requires credentials, and a closed
//! stdout ends it quietly.

use std::process::Stdio;
use std::time::Duration;

use lockstep_testkit::{NatsServer, TestDb, TestNats};
use tokio::io::{AsyncBufReadExt as _, BufReader};

/// Reads stdout lines until `wanted` matches one; panics with what was read after `limit`.
async fn read_until(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    seen: &mut Vec<String>,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.push(line.clone());
            if let Ok(json) = serde_json::from_str::<serde_json::Value>(&line)
                && wanted(&json)
            {
                return Some(json);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(json)) => json,
        _ => panic!("no such log line; stdout so far:\n{}", seen.join("\n")),
    }
}

/// `lockstep up --only sync-applier` against `db` and the NATS server at `nats_url`.
fn up_applier(db: &TestDb, nats_url: &str, prefix: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_lockstep"));
    command
        .args(["up", "--only", "sync-applier"])
        .env("LOCKSTEP_DATABASE__URL", db.url())
        .env("LOCKSTEP_NATS__URL", nats_url)
        .env("LOCKSTEP_NATS__SUBJECT_PREFIX", prefix)
        .env("LOCKSTEP_UP__SYNC_APPLIER__ADMIN", "127.0.0.1:0")
        .env("LOCKSTEP_APPLIER__WORKERS", "1")
        .env_remove("LOCKSTEP_TELEMETRY__FORMAT")
        .env_remove("LOCKSTEP_CONFIG")
        .env_remove("LOCKSTEP_NATS__CREDENTIALS_FILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Waits for the applier's "ready" line, then stops the process with SIGTERM and checks that it
/// drained and exited cleanly.
async fn ready_then_sigterm(mut child: tokio::process::Child, also: Option<&str>) {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let ready = read_until(&mut lines, &mut seen, |j| {
        j["message"] == "sync-applier ready"
    })
    .await;
    assert_eq!(ready["level"], "INFO", "{ready}");
    if let Some(level) = also {
        read_until(&mut lines, &mut seen, |j| j["level"] == level).await;
    }
    let pid = child.id().unwrap().to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    read_until(&mut lines, &mut seen, |j| {
        j["message"] == "sync-applier stopped"
    })
    .await;
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("lockstep up stops on SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn up_writes_json_log_lines_honouring_rust_log() {
    let db = TestDb::new().await;
    let nats = TestNats::new().await;
    let child = up_applier(&db, nats.url(), nats.prefix())
        .env("RUST_LOG", "debug")
        .spawn()
        .unwrap();
    ready_then_sigterm(child, Some("DEBUG")).await;
}

#[tokio::test]
async fn a_server_that_requires_an_account_is_reached_with_the_credentials_file_only() {
    let db = TestDb::new().await;
    let (server, auth) = NatsServer::start_requiring_credentials().await;
    let creds = std::env::temp_dir().join(format!(
        "lockstep-cli-{}-{}.creds",
        std::process::id(),
        server.port
    ));
    std::fs::write(&creds, auth.creds_file()).unwrap();

    let without = up_applier(&db, &server.url(), "creds")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert_eq!(without.status.code(), Some(6), "{stderr}");
    assert!(
        stderr.contains("refused the connection's credentials")
            && stderr.contains("nats.credentials_file"),
        "{stderr}"
    );

    let child = up_applier(&db, &server.url(), "creds")
        .env("LOCKSTEP_NATS__CREDENTIALS_FILE", &creds)
        .spawn()
        .unwrap();
    ready_then_sigterm(child, None).await;
    let _ = std::fs::remove_file(&creds);
}

#[tokio::test]
async fn a_closed_pipe_ends_up_quietly() {
    let db = TestDb::new().await;
    let nats = TestNats::new().await;
    // The reader is gone before `up` prints its first line, as with `lockstep up | head -0`.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = up_applier(&db, nats.url(), nats.prefix())
        .stdout(Stdio::from(writer))
        .spawn()
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("lockstep up ends when its stdout is closed")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
