//! `lockstep tokens`: an admin lists and revokes tokens; a revoked token is refused afterwards.
//! Also the connection-test heading when the instance cannot be reached.

use crate::support::Env;

#[tokio::test]
async fn a_revoked_token_is_refused_afterwards() {
    let env = Env::start().await;
    let tenant = env.cli.json(&["tokens", "list"]).await[0].clone();
    assert_eq!(tenant["role"], "admin");
    assert!(!tenant.to_string().contains("lst_"), "no secret is shown");

    // A second token, made through the database like the first.
    let tenant_id = env
        .db
        .store()
        .api_tokens()
        .find_by_hash(&lockstep_crypto::hash_token(
            &env.cli
                .env
                .iter()
                .find(|(k, _)| k == "LOCKSTEP_TOKEN")
                .unwrap()
                .1,
        ))
        .await
        .unwrap()
        .unwrap()
        .tenant_id
        .to_string();
    let ci = env
        .cli
        .ok(&[
            "admin",
            "create-token",
            "--tenant",
            &tenant_id,
            "--name",
            "ci-bot",
            "--role",
            "viewer",
        ])
        .await;
    let ci = env.cli.with_token(ci.trim());
    ci.ok(&["findings", "list"]).await;

    // A viewer may not revoke; an admin may, by name.
    let denied = ci.run(&["tokens", "revoke", "ci-bot"]).await;
    assert_eq!(denied.status.code(), Some(4));
    let revoked = env.cli.json(&["tokens", "revoke", "ci-bot"]).await;
    assert_eq!(revoked[0]["name"], "ci-bot");
    assert_ne!(revoked[0]["revoke_time"], "");

    let refused = ci.run(&["findings", "list"]).await;
    assert_eq!(refused.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("unknown or revoked"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let missing = env.cli.run(&["tokens", "revoke", "no-such-token"]).await;
    assert_eq!(missing.status.code(), Some(3));
    let listed = env.cli.ok(&["tokens", "list"]).await;
    assert_eq!(
        listed.lines().count(),
        3,
        "header, admin, revoked ci-bot: {listed}"
    );
}

#[tokio::test]
async fn the_connection_test_heading_shows_no_empty_user_when_unreachable() {
    let env = Env::start().await;
    // Nothing listens on port 9 of loopback (discard): the instance cannot be reached.
    let created = env
        .cli
        .json(&[
            "integrations",
            "create",
            "--name",
            "down",
            "--url",
            "http://127.0.0.1:9",
            "--username",
            "u",
            "--password",
            "p",
        ])
        .await;
    let id = created[0]["id"].as_str().unwrap().to_owned();
    let out = env.cli.run(&["integrations", "test", &id]).await;
    assert_eq!(out.status.code(), Some(5));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let heading = stdout.lines().next().unwrap();
    assert!(!heading.contains(" as :"), "{heading}");
    assert!(heading.ends_with(": PROBLEMS FOUND"), "{heading}");
}
