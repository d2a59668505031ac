//! A NATS JetStream connection per test, isolated by a random prefix.
//!
//! Tests share one server, so everything a test creates is named with its prefix: subjects
//! `<prefix>.lockstep.…` and streams `<prefix>_LOCKSTEP` (see [`TestNats::subject`] and
//! [`TestNats::stream_name`]). This is the Svix habit: "a queue prefix is necessary to avoid tests
//! consuming from each others' queues". On drop, the test's streams (and KV/object-store buckets,
//! which are streams named `KV_<bucket>` / `OBJ_<bucket>`) are deleted, best effort.

use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use futures::TryStreamExt;

use crate::env;

/// The oldest server the project may run against (2.9 lacks JetStream data-loss fixes).
const MIN_SERVER: (u32, u32) = (2, 10);

pub struct TestNats {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    prefix: String,
    url: String,
}

impl TestNats {
    /// Connects, panicking with the reason when no suitable NATS is configured.
    pub async fn new() -> Self {
        match Self::try_new().await {
            Ok(nats) => nats,
            Err(err) => panic!("cannot connect to NATS for a test: {err:#}"),
        }
    }

    pub async fn try_new() -> anyhow::Result<Self> {
        crate::init_tracing();
        let url = env::nats_url()?;
        let client = connect(&url).await?;
        let version = client.server_info().version;
        if !version_supported(&version) {
            anyhow::bail!(
                "NATS at {url} is version {version}; Lockstep needs {}.{} or newer. \
                 Run `make test`, which starts the pinned version, or point NATS_URL at one",
                MIN_SERVER.0,
                MIN_SERVER.1
            );
        }
        let prefix = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let jetstream = jetstream::new(client.clone());
        Ok(TestNats {
            client,
            jetstream,
            prefix,
            url,
        })
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    /// `t` and 12 random hex digits; valid in subjects, stream and consumer names.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// `subject` under this test's prefix: `lockstep.>` becomes `<prefix>.lockstep.>`.
    pub fn subject(&self, subject: &str) -> String {
        format!("{}.{subject}", self.prefix)
    }

    /// A stream name under this test's prefix: `LOCKSTEP` becomes `<prefix>_LOCKSTEP`.
    pub fn stream_name(&self, base: &str) -> String {
        format!("{}_{base}", self.prefix)
    }
}

impl Drop for TestNats {
    fn drop(&mut self) {
        let url = self.url.clone();
        let prefix = self.prefix.clone();
        // The test's runtime may be shutting down; a short-lived thread with its own runtime and
        // its own connection does the cleanup.
        let cleaner = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Err(err) = delete_streams_with_prefix(&url, &prefix).await {
                    tracing::debug!(error = %format!("{err:#}"), %prefix, "test stream cleanup failed");
                }
            });
        });
        let _ = cleaner.join();
    }
}

async fn connect(url: &str) -> anyhow::Result<async_nats::Client> {
    async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .with_context(|| {
            format!("connecting to NATS at {url}; is it running? (`make services-up` starts one)")
        })
}

async fn delete_streams_with_prefix(url: &str, prefix: &str) -> anyhow::Result<()> {
    let client = connect(url).await?;
    let js = jetstream::new(client.clone());
    let names: Vec<String> = js.stream_names().try_collect().await?;
    for name in names.into_iter().filter(|name| belongs_to(name, prefix)) {
        js.delete_stream(&name)
            .await
            .with_context(|| format!("deleting stream {name}"))?;
    }
    client.flush().await?;
    Ok(())
}

/// Whether a stream was created by the test with this prefix (directly, or as a KV/object bucket).
fn belongs_to(stream: &str, prefix: &str) -> bool {
    let name = stream
        .strip_prefix("KV_")
        .or_else(|| stream.strip_prefix("OBJ_"))
        .unwrap_or(stream);
    name.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

fn version_supported(version: &str) -> bool {
    let mut parts = version
        .trim_start_matches('v')
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= MIN_SERVER,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_servers_are_refused() {
        assert!(!version_supported("2.9.25"));
        assert!(version_supported("2.10.0"));
        assert!(version_supported("2.14.6"));
        assert!(version_supported("v3.0.0-beta"));
        assert!(!version_supported("garbage"));
    }

    #[test]
    fn only_the_tests_own_streams_are_cleaned_up() {
        assert!(belongs_to("tabc123_LOCKSTEP", "tabc123"));
        assert!(belongs_to("KV_tabc123_leases", "tabc123"));
        assert!(belongs_to("TABC123_LOCKSTEP", "tabc123"));
        assert!(!belongs_to("LOCKSTEP", "tabc123"));
        assert!(!belongs_to("tabc999_LOCKSTEP", "tabc123"));
        assert!(!belongs_to("t", "tabc123"));
    }
}
