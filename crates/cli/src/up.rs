//! `lockstep up`: every service in one process, for development and demos. Each service reads
//! its configuration exactly as its own binary does (built-in defaults, then `LOCKSTEP_*`
//! variables), so `LOCKSTEP_DATABASE__URL`, `LOCKSTEP_NATS__URL` and `LOCKSTEP_MASTER_KEYS` set
//! once configure them all. Default ports: api 50051, ticket-writer 50052, poller 50053,
//! ingest-webhook 8080; admin endpoints 9090-9095.

use clap::Args;
use lockstep_platform::{Shutdown, config};
use tokio::task::JoinSet;

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

type BoxError = Box<dyn std::error::Error + Send + Sync>;

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

fn load<T: serde::de::DeserializeOwned>(
    defaults: &str,
    env: &[(String, String)],
) -> std::result::Result<T, BoxError> {
    Ok(config::load_with_env(defaults, None, env.iter().cloned())?)
}

async fn start(
    args: &UpArgs,
    shutdown: &Shutdown,
    tasks: &mut JoinSet<(&'static str, std::result::Result<(), BoxError>)>,
) -> std::result::Result<(), BoxError> {
    let env = env(args);
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    if args.migrate {
        let c: lockstep_api::Config = load(lockstep_api::config::DEFAULTS, &env)?;
        lockstep_store::Store::connect(c.database.url.expose(), 2)
            .await?
            .migrate()
            .await?;
    }
    if wanted("api") {
        let c: lockstep_api::Config = load(lockstep_api::config::DEFAULTS, &env)?;
        let app = lockstep_api::App::build(
            c.clone(),
            lockstep_api::Deps::connect(&c.database, &c.nats).await?,
        )
        .await?;
        println!(
            "api            grpc {}  admin {}",
            app.local_addr(),
            app.admin_addr()
        );
        let s = shutdown.clone();
        tasks.spawn(async move { ("api", app.run(s).await) });
    }
    if wanted("ticket-writer") {
        let c: lockstep_ticket_writer::Config =
            load(lockstep_ticket_writer::config::DEFAULTS, &env)?;
        let app = lockstep_ticket_writer::App::build(
            c.clone(),
            lockstep_ticket_writer::Deps::connect(&c.database, &c.nats).await?,
        )
        .await?;
        println!(
            "ticket-writer  grpc {}  admin {}",
            app.local_addr(),
            app.admin_addr()
        );
        let s = shutdown.clone();
        tasks.spawn(async move { ("ticket-writer", app.run(s).await) });
    }
    if wanted("ingest-webhook") {
        let c: lockstep_ingest_webhook::Config =
            load(lockstep_ingest_webhook::config::DEFAULTS, &env)?;
        let app = lockstep_ingest_webhook::App::build(
            c.clone(),
            lockstep_ingest_webhook::Deps::connect(&c).await?,
        )
        .await?;
        println!(
            "ingest-webhook http {}  admin {}",
            app.local_addr(),
            app.admin_addr()
        );
        let s = shutdown.clone();
        tasks.spawn(async move { ("ingest-webhook", app.run(s).await.map_err(BoxError::from)) });
    }
    if wanted("sync-applier") {
        let c: lockstep_sync_applier::Config = load(lockstep_sync_applier::config::DEFAULTS, &env)?;
        let app = lockstep_sync_applier::App::build(
            c.clone(),
            lockstep_sync_applier::Deps::connect(&c).await?,
        )
        .await?;
        println!("sync-applier   running");
        let s = shutdown.clone();
        tasks.spawn(async move { ("sync-applier", app.run(s).await.map_err(BoxError::from)) });
    }
    if wanted("poller") {
        let c: lockstep_poller::Config = load(lockstep_poller::config::DEFAULTS, &env)?;
        let app = lockstep_poller::App::build(c.clone(), lockstep_poller::Deps::connect(&c).await?)
            .await?;
        println!(
            "poller         grpc {}  admin {}",
            app.grpc_addr(),
            app.admin_addr()
        );
        let s = shutdown.clone();
        tasks.spawn(async move { ("poller", app.run(s).await.map_err(BoxError::from)) });
    }
    Ok(())
}

pub async fn run(args: &UpArgs) -> Result<()> {
    let shutdown = Shutdown::on_signals().map_err(|e| Failure::other(e.to_string()))?;
    let mut tasks = JoinSet::new();
    if let Err(e) = start(args, &shutdown, &mut tasks).await {
        shutdown.trigger();
        while tasks.join_next().await.is_some() {}
        return Err(Failure {
            code: 6,
            message: format!("cannot start the services: {e}"),
        });
    }
    println!("lockstep up: all services running; Ctrl-C stops them");
    let mut failed = None;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((name, Err(e))) => {
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
