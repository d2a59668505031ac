//! Where the test services are: the environment first, then the `.run/env` file that
//! `make test` / `scripts/services.sh` writes when it starts private instances.

use std::path::{Path, PathBuf};

/// The workspace root (this crate lives in `<root>/crates/testkit`).
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The value of `key`: a non-empty environment variable, else the `KEY=value` line of
/// `<root>/.run/env`.
pub fn setting(key: &str) -> Option<String> {
    if let Ok(value) = std::env::var(key)
        && !value.trim().is_empty()
    {
        return Some(value.trim().to_owned());
    }
    let file = std::fs::read_to_string(workspace_root().join(".run/env")).ok()?;
    parse_env_file(&file, key)
}

/// The PostgreSQL server URL tests create their databases on.
pub fn database_url() -> anyhow::Result<String> {
    setting("DATABASE_URL").ok_or_else(|| {
        anyhow::anyhow!(
            "no PostgreSQL for tests: DATABASE_URL is not set and {} has none; \
             set DATABASE_URL or run `make test`, which starts PostgreSQL",
            workspace_root().join(".run/env").display()
        )
    })
}

/// The NATS server URL. There is deliberately no default: the machine's NATS on 127.0.0.1:4222
/// is an old 2.9 with known JetStream data-loss bugs that the project must not test against.
pub fn nats_url() -> anyhow::Result<String> {
    setting("NATS_URL").ok_or_else(|| {
        anyhow::anyhow!(
            "no NATS for tests: NATS_URL is not set and {} has none; \
             set NATS_URL or run `make test`, which starts a private NATS JetStream \
             (127.0.0.1:4222 is never used: it is an old NATS 2.9)",
            workspace_root().join(".run/env").display()
        )
    })
}

fn parse_env_file(contents: &str, key: &str) -> Option<String> {
    contents.lines().rev().find_map(|line| {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (k, v) = line.split_once('=')?;
        if k.trim() != key {
            return None;
        }
        let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
        (!v.is_empty()).then(|| v.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_lines_are_shell_assignments() {
        let file = "# written by scripts/services.sh\nDATABASE_URL=postgres://a@b/c\n\
                    export NATS_URL=\"nats://127.0.0.1:4567\"\nEMPTY=\n";
        assert_eq!(
            parse_env_file(file, "DATABASE_URL").as_deref(),
            Some("postgres://a@b/c")
        );
        assert_eq!(
            parse_env_file(file, "NATS_URL").as_deref(),
            Some("nats://127.0.0.1:4567")
        );
        assert_eq!(parse_env_file(file, "EMPTY"), None);
        assert_eq!(parse_env_file(file, "MISSING"), None);
    }

    #[test]
    fn the_workspace_root_holds_the_migrations() {
        assert!(workspace_root().join("migrations").is_dir());
    }
}
