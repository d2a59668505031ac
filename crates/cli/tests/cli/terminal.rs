//! What reaches the operator's terminal: control characters in scan data are escaped in tables
//! and kept exactly in JSON, and a closed pipe ends the command quietly.

use std::process::Stdio;

use crate::support::Env;

const HOSTILE_TITLE: &str = "Open\u{1b}[2J\u{1b}]0;owned\u{7}SSL\rfake\nline\u{9b}\u{7f}";

#[tokio::test]
async fn control_characters_in_scan_data_are_escaped_in_tables_only() {
    let env = Env::start().await;
    let doc = serde_json::json!([{"key": "ESC-1", "title": HOSTILE_TITLE, "severity": "high",
                                  "asset": "host\u{7}"}]);
    let scan = env.file("hostile.json", doc.to_string().as_bytes());
    env.cli
        .ok(&["findings", "import", &scan, "--scanner", "nessus"])
        .await;

    let table = env.cli.ok(&["findings", "list"]).await;
    let id = table
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let shown = env.cli.ok(&["findings", "get", &id]).await;
    for out in [&table, &shown] {
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "no control character but the line ends reaches the terminal: {out:?}"
        );
        assert_eq!(
            out.lines().count(),
            2,
            "the title's LF does not start a line: {out:?}"
        );
        assert!(
            out.contains("Open\\x1b[2J\\x1b]0;owned\\x07SSL\\rfake\\nline\\x9b\\x7f"),
            "{out}"
        );
    }

    let json = env.cli.json(&["findings", "get", &id]).await;
    assert_eq!(json["title"], HOSTILE_TITLE, "JSON keeps the text exactly");
}

#[tokio::test]
async fn a_closed_pipe_ends_the_command_quietly() {
    let env = Env::start().await;
    let items: Vec<_> = (0..300)
        .map(|i| serde_json::json!({"key": format!("P-{i}"), "title": format!("finding {i}"), "severity": "low"}))
        .collect();
    let scan = env.file(
        "many.json",
        serde_json::Value::Array(items).to_string().as_bytes(),
    );
    env.cli
        .ok(&["findings", "import", &scan, "--scanner", "nessus"])
        .await;

    for output in ["table", "json"] {
        // The reader is gone before the command writes anything, as with `| head -0`.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = env
            .cli
            .command(&["findings", "list", "--all", "-o", output])
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{output}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.is_empty(), "quietly: {stderr}");
    }
}
