//! Scans far over gRPC's 4 MiB message limit import in chunks, with progress on stderr.

use crate::support::Env;

/// A Lockstep JSON scan of `n` findings, each with a description of `description_chars`.
fn scan(n: usize, description_chars: usize) -> Vec<u8> {
    let description = "d".repeat(description_chars);
    let items: Vec<_> = (0..n)
        .map(|i| {
            serde_json::json!({"key": format!("BIG-{i:05}"), "title": format!("finding {i}"),
                                    "severity": "medium", "description": description})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({"scanner": "nessus", "findings": items})).unwrap()
}

#[tokio::test]
async fn a_50_mb_scan_imports_in_chunks_with_progress() {
    let env = Env::start().await;
    let content = scan(20_000, 2_500);
    assert!(content.len() > 50_000_000, "{} bytes", content.len());
    let path = env.file("big.json", &content);
    let (pieces, mib) = (
        content.len().div_ceil(1 << 20),
        format!("{:.1} MiB", content.len() as f64 / 1_048_576.0),
    );
    drop(content);

    let out = env.cli.run(&["findings", "import", &path]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("imported 20000 findings: 20000 new, 0 updated"),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!("sending {mib} in {pieces} pieces")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("uploaded {mib} of {mib}")),
        "{stderr}"
    );
    assert!(
        stderr.matches("uploaded ").count() >= 10,
        "upload progress every tenth: {stderr}"
    );
    for chunk in 1..=20 {
        assert!(stderr.contains(&format!("chunk {chunk}/20: ")), "{stderr}");
    }
    assert!(
        stderr.contains("findings 19000–19999 written (1000 new, 0 updated"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("committed: the whole scan is imported\n"),
        "{stderr}"
    );

    // Imported again: every finding is updated, none duplicated.
    let again = env.cli.json(&["findings", "import", &path]).await;
    assert_eq!(
        (again["created"].as_i64(), again["updated"].as_i64()),
        (Some(0), Some(20_000))
    );
    assert_eq!(again["findings"].as_array().unwrap().len(), 20_000);
}

#[tokio::test]
async fn an_ndjson_scan_imports_one_finding_a_line_and_a_bad_line_is_named() {
    let env = Env::start().await;
    let lines: Vec<String> = (0..3)
        .map(|i| {
            serde_json::json!({"key": format!("ND-{i}"), "title": format!("finding {i}"),
                               "severity": "high"})
            .to_string()
        })
        .collect();
    let good = env.file("scan.ndjson", lines.join("\n").as_bytes());
    let out = env
        .cli
        .json(&[
            "findings",
            "import",
            &good,
            "--format",
            "ndjson",
            "--scanner",
            "trivy",
        ])
        .await;
    assert_eq!(
        (out["created"].as_i64(), out["updated"].as_i64()),
        (Some(3), Some(0))
    );

    let bad = env.file(
        "bad.ndjson",
        format!(
            "{}\n{{\"key\": \"ND-9\", \"title\": \"x\", \"severity\": \"urgent\"}}\n",
            lines[0]
        )
        .as_bytes(),
    );
    let refused = env
        .cli
        .run(&[
            "findings",
            "import",
            &bad,
            "--format",
            "ndjson",
            "--scanner",
            "trivy",
        ])
        .await;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.contains("line 2"), "the bad line is named: {stderr}");
}
