//! An in-process api on port 0 over a fresh database and NATS prefix, and the `lockstep` binary
//! pointed at it with a bootstrapped admin token.

use std::process::Output;

use lockstep_bus::Bus;
use lockstep_platform::Shutdown;
use lockstep_testkit::{TestDb, TestNats};

pub const MASTER_KEYS: &str = "test:CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=";

pub struct Cli {
    pub env: Vec<(String, String)>,
}

impl Cli {
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_lockstep"));
        command.args(args).envs(self.env.iter().cloned());
        command
    }

    pub async fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().await.unwrap()
    }

    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub async fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&all).await).unwrap()
    }

    /// The same CLI with another token.
    pub fn with_token(&self, token: &str) -> Cli {
        let mut env: Vec<_> = self
            .env
            .iter()
            .filter(|(k, _)| k != "LOCKSTEP_TOKEN")
            .cloned()
            .collect();
        env.push(("LOCKSTEP_TOKEN".into(), token.to_owned()));
        Cli { env }
    }
}

/// A running api and a CLI holding an admin token of tenant "acme".
pub struct Env {
    pub db: TestDb,
    pub _nats: TestNats,
    pub shutdown: Shutdown,
    pub cli: Cli,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

impl Env {
    pub async fn start() -> Self {
        Self::start_with(&[], "http", &[]).await
    }

    /// [`Env::start`] with more api configuration (`LOCKSTEP_*` pairs), the CLI reaching the api by
    /// `scheme` with `cli_env` added.
    pub async fn start_with(
        api_env: &[(&str, String)],
        scheme: &str,
        cli_env: &[(&str, String)],
    ) -> Self {
        lockstep_platform::install_crypto_provider();
        let db = TestDb::new().await;
        let nats = TestNats::new().await;
        let env = [
            ("LOCKSTEP_DATABASE__URL", db.url().to_owned()),
            ("LOCKSTEP_GRPC__LISTEN", "127.0.0.1:0".to_owned()),
            ("LOCKSTEP_ADMIN__LISTEN", "127.0.0.1:0".to_owned()),
        ]
        .into_iter()
        .chain(api_env.iter().cloned())
        .map(|(k, v)| (k.to_owned(), v))
        // The connection test aims at loopback, which only an explicit allow-list reaches.
        .chain([lockstep_testkit::loopback_vendor_allow_list()]);
        let mut config: lockstep_api::Config =
            lockstep_platform::config::load_with_env(lockstep_api::config::DEFAULTS, None, env)
                .unwrap();
        // The api's HTTP JSON API too on a free port (its default is 8081).
        config.http.listen = "127.0.0.1:0".parse().unwrap();
        let keyring =
            std::sync::Arc::new(lockstep_crypto::Keyring::from_list(MASTER_KEYS, "test").unwrap());
        let api = lockstep_api::App::build(
            config,
            lockstep_api::Deps {
                store: db.store().clone(),
                bus: Bus::from_client(nats.client().clone(), nats.prefix()).unwrap(),
                keyring,
            },
        )
        .await
        .unwrap();
        let addr = api.local_addr();
        let shutdown = Shutdown::new();
        tokio::spawn(api.run(shutdown.clone()));
        let mut cli = Cli {
            env: vec![
                ("LOCKSTEP_DATABASE__URL".into(), db.url().to_owned()),
                // A certificate names a host, so TLS goes by name.
                (
                    "LOCKSTEP_API_URL".into(),
                    match scheme {
                        "https" => format!("https://localhost:{}", addr.port()),
                        _ => format!("{scheme}://{addr}"),
                    },
                ),
            ],
        };
        cli.env
            .extend(cli_env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        let boot = cli
            .json(&["admin", "bootstrap", "--tenant-name", "acme"])
            .await;
        let token = boot["token"].as_str().unwrap().to_owned();
        cli.env.push(("LOCKSTEP_TOKEN".into(), token));
        Self {
            db,
            _nats: nats,
            shutdown,
            cli,
        }
    }

    /// Writes `content` to a fresh temporary file and returns its path.
    pub fn file(&self, name: &str, content: &[u8]) -> String {
        let path = std::env::temp_dir().join(format!(
            "lockstep-cli-{}-{name}",
            uuid_suffix(self.db.name())
        ));
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    }
}

fn uuid_suffix(db_name: &str) -> String {
    db_name.replace(|c: char| !c.is_ascii_alphanumeric(), "")
}
