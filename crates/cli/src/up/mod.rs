//! `lockstep up`: every service in one process, for development and demos. Each service reads
//! its configuration as its own binary does (built-in defaults, then `LOCKSTEP_*` variables), so
//! `LOCKSTEP_DATABASE__URL`, `LOCKSTEP_NATS__URL` and `LOCKSTEP_MASTER_KEYS` set once configure
//! them all; where each listens comes from `[up]` (loopback by default: api 50051, ticket-writer
//! 50052, poller 50053, ingest-webhook 8080; admin endpoints 9090-9095). Logs go to stdout in the
//! services' format (`[telemetry]`, `RUST_LOG`).

mod config;

use std::num::NonZeroU32;

use clap::Args;
use lockstep_platform::{Shutdown, prepare_process};
use tokio::task::JoinSet;

use self::config::{BoxError, Loaded};
use crate::{Failure, Result};

#[derive(Args, Debug)]
pub struct UpArgs {
    /// PostgreSQL URL for every service (else LOCKSTEP_DATABASE__URL).
    #[arg(long)]
    database_url: Option<String>,
    /// NATS URL for every service (else LOCKSTEP_NATS__URL).
    #[arg(long)]
    nats_url: Option<String>,
    /// Development mode (honours allow_unsigned webhooks); the default is production.
    #[arg(long)]
    dev: bool,
    /// Apply database migrations first.
    #[arg(long)]
    migrate: bool,
    /// Only these services (api, ticket-writer, ingest-webhook, sync-applier, poller).
    #[arg(long = "only")]
    only: Vec<String>,
}

fn env(args: &UpArgs) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = std::env::vars().collect();
    if let Some(url) = &args.database_url {
        env.push(("LOCKSTEP_DATABASE__URL".into(), url.clone()));
    }
    if let Some(url) = &args.nats_url {
        env.push(("LOCKSTEP_NATS__URL".into(), url.clone()));
    }
    if args.dev {
        env.push(("LOCKSTEP_MODE".into(), "development".into()));
        env.push(("LOCKSTEP_TELEMETRY__FORMAT".into(), "pretty".into()));
    }
    env
}

type Tasks = JoinSet<(&'static str, std::result::Result<(), BoxError>)>;

async fn start(
    args: &UpArgs,
    loaded: Loaded,
    shutdown: &Shutdown,
    tasks: &mut Tasks,
) -> std::result::Result<(), BoxError> {
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    if args.migrate {
        let mut database = loaded.api.database.clone();
        database.max_connections = std::num::NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN);
        lockstep_store::Store::connect_with(&database)
            .await?
            .migrate()
            .await?;
    }
    let (mut ticket_writer_addr, mut poller_addr) = (None, None);
    if wanted("ticket-writer") {
        let c = loaded.ticket_writer;
        let app = lockstep_ticket_writer::App::build(
            c.clone(),
            lockstep_ticket_writer::Deps::connect(&c.database, &c.nats).await?,
        )
        .await?;
        crate::outln!(
            "ticket-writer  grpc {}  admin {}",
            app.local_addr(),
            app.admin_addr()
        );
        ticket_writer_addr = Some(app.local_addr());
        let s = shutdown.clone();
        tasks.spawn(async move { ("ticket-writer", app.run(s).await) });
    }
    if wanted("ingest-webhook") {
        let c = loaded.ingest_webhook;
        let app = lockstep_ingest_webhook::App::build(
            c.clone(),
            lockstep_ingest_webhook::Deps::connect(&c).await?,
        )
        .await?;
        crate::outln!(
            "ingest-webhook http {}  admin {}",
            app.local_addr(),
            app.admin_addr()
        );
        let s = shutdown.clone();
        tasks.spawn(async move { ("ingest-webhook", app.run(s).await.map_err(BoxError::from)) });
    }
    if wanted("sync-applier") {
        let c = loaded.sync_applier;
        let app = lockstep_sync_applier::App::build(
            c.clone(),
            lockstep_sync_applier::Deps::connect(&c).await?,
        )
        .await?;
        crate::outln!("sync-applier   admin {}", app.admin_addr());
        let s = shutdown.clone();
        tasks.spawn(async move { ("sync-applier", app.run(s).await.map_err(BoxError::from)) });
    }
    if wanted("poller") {
        let c = loaded.poller;
        let app = lockstep_poller::App::build(c.clone(), lockstep_poller::Deps::connect(&c).await?)
            .await?;
        crate::outln!(
            "poller         grpc {}  admin {}",
            app.grpc_addr(),
            app.admin_addr()
        );
        poller_addr = Some(app.grpc_addr());
        let s = shutdown.clone();
        tasks.spawn(async move { ("poller", app.run(s).await.map_err(BoxError::from)) });
    }
    if wanted("api") {
        let mut c = loaded.api;
        // The HTTP API's ticket and re-sync routes call the ticket-writer and poller started
        // here, wherever they actually bound (port 0 included).
        if let Some(addr) = ticket_writer_addr {
            c.upstream.ticket_writer = config::upstream_url(addr);
        }
        if let Some(addr) = poller_addr {
            c.upstream.poller = config::upstream_url(addr);
        }
        let app = lockstep_api::App::build(
            c.clone(),
            lockstep_api::Deps::connect(&c.database, &c.nats).await?,
        )
        .await?;
        crate::outln!(
            "api            grpc {}  admin {}  http {}",
            app.local_addr(),
            app.admin_addr(),
            app.http_addr()
        );
        let s = shutdown.clone();
        tasks.spawn(async move { ("api", app.run(s).await) });
    }
    Ok(())
}

pub async fn run(args: &UpArgs) -> Result<()> {
    let loaded = config::load(&env(args)).map_err(|e| Failure::usage(e.to_string()))?;
    // The process half of every service's shell: logs as the separate binaries write them (same
    // format, RUST_LOG and OTEL_*), the build-info metric, SIGTERM and SIGINT.
    let process = prepare_process(
        &loaded.up.telemetry,
        "lockstep-up",
        env!("CARGO_PKG_VERSION"),
    )
    .map_err(|e| Failure::usage(e.to_string()))?;
    let shutdown = process.shutdown.clone();
    let mut tasks = JoinSet::new();
    if let Err(e) = start(args, loaded, &shutdown, &mut tasks).await {
        tracing::error!(error = %e, "cannot start the services");
        shutdown.trigger();
        while tasks.join_next().await.is_some() {}
        return Err(Failure {
            code: 6,
            message: format!("cannot start the services: {e}"),
        });
    }
    crate::outln!("lockstep up: all services running; Ctrl-C stops them");
    let mut failed = None;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((name, Err(e))) => {
                tracing::error!(service = name, error = %e, "service stopped with an error");
                eprintln!("{name} stopped: {e}");
                failed.get_or_insert(format!("{name}: {e}"));
                shutdown.trigger();
            }
            Ok((name, Ok(()))) => {
                if !shutdown.is_triggered() {
                    eprintln!("{name} stopped; stopping the others");
                    shutdown.trigger();
                }
            }
            Err(e) => {
                failed.get_or_insert(e.to_string());
                shutdown.trigger();
            }
        }
    }
    match failed {
        Some(e) => Err(Failure::other(e)),
        None => Ok(()),
    }
}
