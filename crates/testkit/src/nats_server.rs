//! A private nats-server child process (the pinned binary `scripts/services.sh` installs into
//! `.tools/`), loopback only, with its own store directory and port: for tests that stop, freeze or
//! restart the server, and for benchmarks that compare fsync settings on servers they own.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
    /// Removed with the server (certificates it was started with).
    extra_dirs: Vec<PathBuf>,
}

/// The pinned nats-server binary. The version is read from `scripts/services.sh`, the one place it
/// is set, so tests always run the server `make test` installed.
pub fn binary() -> PathBuf {
    let root = crate::env::workspace_root();
    let script = std::fs::read_to_string(root.join("scripts/services.sh"))
        .expect("scripts/services.sh pins the NATS version");
    let version = script
        .lines()
        .find_map(|line| line.strip_prefix("NATS_VERSION="))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .expect("scripts/services.sh has a NATS_VERSION= line");
    root.join(format!(".tools/nats-{version}/bin/nats-server"))
}

impl NatsServer {
    /// Starts a server; `sync_always` sets `sync_interval: always` (fsync before every ack).
    pub async fn start(sync_always: bool) -> Self {
        Self::start_with(sync_always, "").await
    }

    /// Starts a server in operator mode (decentralized JWT auth) that admits only the user of
    /// the returned [`crate::nats_auth::Credentials`]; a client without them is refused.
    pub async fn start_requiring_credentials() -> (Self, crate::nats_auth::Credentials) {
        let auth = crate::nats_auth::Credentials::generate();
        let server = Self::start_with(false, &auth.server_config()).await;
        (server, auth)
    }

    /// Starts a server that speaks only TLS, with a certificate for 127.0.0.1 and `localhost`
    /// that no system root trusts; returns the server and the path of its certificate (PEM), the
    /// one a client must trust. The files live in the server's directory.
    pub async fn start_with_tls() -> (Self, PathBuf) {
        let key = rcgen::KeyPair::generate().expect("generate a key");
        let cert =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .and_then(|params| params.self_signed(&key))
                .expect("self-sign a certificate");
        let files = std::env::temp_dir().join(format!(
            "lockstep-nats-tls-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&files).unwrap();
        let (cert_path, key_path) = (files.join("server.pem"), files.join("server.key"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        let tls = format!(
            "tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n}}\n",
            cert_path.display(),
            key_path.display()
        );
        let mut server = Self::start_with(false, &tls).await;
        server.extra_dirs.push(files);
        (server, cert_path)
    }

    async fn start_with(sync_always: bool, extra_config: &str) -> Self {
        let (listener, addr) = crate::free_std_listener();
        drop(listener);
        let dir =
            std::env::temp_dir().join(format!("lockstep-nats-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let sync = if sync_always {
            "sync_interval: always"
        } else {
            ""
        };
        std::fs::write(
            dir.join("nats.conf"),
            format!(
                "listen: 127.0.0.1:{}\njetstream {{\n  store_dir: \"{}\"\n  {sync}\n}}\n{extra_config}\n",
                addr.port(),
                dir.join("js").display()
            ),
        )
        .unwrap();
        let mut server = NatsServer {
            child: None,
            port: addr.port(),
            dir,
            extra_dirs: Vec::new(),
        };
        server.spawn().await;
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) {
        let child = Command::new(binary())
            .arg("-c")
            .arg(self.dir.join("nats.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server (run `make services-up` once to install it into .tools/)");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nats-server did not start on port {}", self.port);
    }

    fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            let status = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
        }
    }

    /// SIGKILL, then a new process on the same port and store directory.
    pub async fn kill_and_restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing is answered.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    pub fn thaw(&self) {
        self.signal("-CONT");
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.thaw();
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
        for dir in &self.extra_dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
