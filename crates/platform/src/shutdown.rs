//! Graceful shutdown. Kubernetes sends SIGTERM and waits `terminationGracePeriodSeconds`; in that
//! window a service stops accepting work, lets in-flight requests and messages finish (a JetStream
//! message must not be left half-applied), flushes traces and exits. One [`Shutdown`] token is
//! cloned into every task that has to react; `lockstep up` gives each service a child token so it
//! can stop one service without stopping the process.

use std::future::Future;

use tokio_util::sync::CancellationToken;

use crate::Error;

/// A clonable "please stop" signal. Cheap to clone; all clones see the same trigger.
#[derive(Debug, Clone, Default)]
pub struct Shutdown(CancellationToken);

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// A token that fires on SIGTERM or Ctrl-C (SIGINT). Must be called inside a Tokio runtime.
    pub fn on_signals() -> Result<Self, Error> {
        let shutdown = Self::new();
        shutdown.trigger_on_signals()?;
        Ok(shutdown)
    }

    /// Triggers this token on SIGTERM or Ctrl-C. The handlers are registered before this returns,
    /// so a signal arriving right after start-up is not lost (and does not kill the process).
    pub fn trigger_on_signals(&self) -> Result<(), Error> {
        let token = self.0.clone();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate()).map_err(|source| Error::Signal {
                signal: "SIGTERM",
                source,
            })?;
            let mut int = signal(SignalKind::interrupt()).map_err(|source| Error::Signal {
                signal: "SIGINT",
                source,
            })?;
            tokio::spawn(async move {
                let name = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                    () = token.cancelled() => return,
                };
                tracing::info!(signal = name, "shutdown requested");
                token.cancel();
            });
        }
        #[cfg(not(unix))]
        {
            tokio::spawn(async move {
                tokio::select! {
                    result = tokio::signal::ctrl_c() => {
                        if result.is_ok() {
                            tracing::info!(signal = "ctrl-c", "shutdown requested");
                            token.cancel();
                        }
                    }
                    () = token.cancelled() => {}
                }
            });
        }
        Ok(())
    }

    /// Asks every holder of this token (and of its children) to stop.
    pub fn trigger(&self) {
        self.0.cancel();
    }

    pub fn is_triggered(&self) -> bool {
        self.0.is_cancelled()
    }

    /// Completes once shutdown is triggered; use in `tokio::select!` loops.
    pub async fn cancelled(&self) {
        self.0.cancelled().await;
    }

    /// An owned future for APIs that need `'static`, such as axum's `with_graceful_shutdown`.
    pub fn signal(&self) -> impl Future<Output = ()> + Send + 'static {
        self.0.clone().cancelled_owned()
    }

    /// A token that fires when this one fires, but can also be triggered on its own.
    pub fn child(&self) -> Self {
        Self(self.0.child_token())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn clones_and_children_observe_the_trigger() {
        let shutdown = Shutdown::new();
        let clone = shutdown.clone();
        let child = shutdown.child();
        let waiter = tokio::spawn(async move { clone.cancelled().await });
        assert!(!child.is_triggered());
        shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
        assert!(child.is_triggered());
        tokio::time::timeout(Duration::from_secs(5), shutdown.signal())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_child_stops_alone() {
        let parent = Shutdown::new();
        let child = parent.child();
        child.trigger();
        assert!(child.is_triggered());
        assert!(!parent.is_triggered());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn sigterm_triggers_the_token() {
        let shutdown = Shutdown::on_signals().unwrap();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        tokio::time::timeout(Duration::from_secs(5), shutdown.cancelled())
            .await
            .expect("SIGTERM did not trigger shutdown");
    }
}
