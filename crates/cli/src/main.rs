//! `lockstep`: the command-line client of Lockstep.
//!
//! Talks gRPC to the api (`--server`, `LOCKSTEP_API_URL`) and the ticket-writer (`--writer`,
//! `LOCKSTEP_WRITER_URL`) with the API token from `--token` or `LOCKSTEP_TOKEN`. `lockstep up` runs
//! every service in this one process; `lockstep admin …` bootstraps a fresh install through the
//! database (there is no token yet).

mod admin;
mod client;
mod findings;
mod import_stream;
mod integrations;
mod misc;
mod render;
mod reset_version;
mod resync_ticket;
mod tickets;
mod tokens;
mod tracing;
mod up;

use std::io::Write;
use std::process::ExitCode;

use ::tracing::Instrument as _;
use clap::{Parser, Subcommand};
use tonic::Code;

use crate::render::Output;

const EXIT_CODES: &str = "\
Exit codes:
  0  success (also when the reader of the output stops early, as `| head` does)
  1  any other failure
  2  usage error or invalid argument (fix the command)
  3  not found (NOT_FOUND)
  4  not authenticated or not allowed (UNAUTHENTICATED, PERMISSION_DENIED)
  5  refused by the current state (FAILED_PRECONDITION, ALREADY_EXISTS, ABORTED)
  6  unavailable, try again later (UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED)
  7  partly done: a bulk request where some findings failed";

#[derive(Parser, Debug)]
#[command(name = "lockstep", version, about = "Keep security findings and ITSM tickets in step", after_help = EXIT_CODES)]
pub struct Cli {
    /// The api's gRPC address.
    #[arg(
        long,
        global = true,
        env = "LOCKSTEP_API_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    server: String,
    /// The ticket-writer's gRPC address.
    #[arg(
        long,
        global = true,
        env = "LOCKSTEP_WRITER_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    writer: String,
    /// The poller's gRPC address (re-sync).
    #[arg(
        long,
        global = true,
        env = "LOCKSTEP_POLLER_URL",
        default_value = "http://127.0.0.1:50053"
    )]
    poller: String,
    /// API token (`lockstep admin create-token` makes one).
    #[arg(long, global = true, env = "LOCKSTEP_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// PEM file of the CA that signed the servers' certificates, for `https://` addresses (the
    /// servers' `[grpc.tls]`).
    #[arg(long, global = true, env = "LOCKSTEP_CA_FILE")]
    ca_file: Option<std::path::PathBuf>,
    /// PEM certificate to present when the servers require client certificates (mutual TLS).
    #[arg(
        long,
        global = true,
        env = "LOCKSTEP_CLIENT_CERT",
        requires = "client_key"
    )]
    client_cert: Option<std::path::PathBuf>,
    /// PEM private key of `--client-cert`.
    #[arg(
        long,
        global = true,
        env = "LOCKSTEP_CLIENT_KEY",
        requires = "client_cert"
    )]
    client_key: Option<std::path::PathBuf>,
    #[arg(short, long, global = true, value_enum, default_value = "table")]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every service in this process (development and demos).
    Up(up::UpArgs),
    /// Bootstrap through the database: migrations, tenants, API tokens.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// ITSM integrations (writes need an admin token).
    #[command(subcommand)]
    Integrations(integrations::IntegrationsCommand),
    /// Mapping rules of an integration.
    #[command(subcommand)]
    Mappings(misc::MappingsCommand),
    /// Ticket field presets.
    #[command(subcommand)]
    Presets(misc::PresetsCommand),
    /// Findings: import, list, show, status.
    #[command(subcommand)]
    Findings(findings::FindingsCommand),
    /// Tickets: preview, create, bulk, check, list.
    #[command(subcommand)]
    Tickets(tickets::TicketsCommand),
    /// Re-sync tickets from the vendor now.
    #[command(subcommand)]
    Sync(misc::SyncCommand),
    /// API tokens of the tenant: list, revoke (admin token).
    #[command(subcommand)]
    Tokens(tokens::TokensCommand),
}

/// A failure with the exit code of its class.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
    pub fn other(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
}

impl From<tonic::Status> for Failure {
    fn from(s: tonic::Status) -> Self {
        let code = match s.code() {
            Code::InvalidArgument | Code::OutOfRange => 2,
            Code::NotFound => 3,
            Code::Unauthenticated | Code::PermissionDenied => 4,
            Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted => 5,
            Code::Unavailable | Code::ResourceExhausted | Code::DeadlineExceeded => 6,
            _ => 1,
        };
        Self {
            code,
            message: s.message().to_owned(),
        }
    }
}

pub type Result<T> = std::result::Result<T, Failure>;

async fn run(cli: &Cli, command: &Command) -> Result<()> {
    match command {
        Command::Up(args) => up::run(args).await,
        Command::Admin(cmd) => admin::run(cmd, cli.output).await,
        Command::Integrations(cmd) => integrations::run(cli, cmd).await,
        Command::Mappings(cmd) => misc::mappings(cli, cmd).await,
        Command::Presets(cmd) => misc::presets(cli, cmd).await,
        Command::Findings(cmd) => findings::run(cli, cmd).await,
        Command::Tickets(cmd) => tickets::run(cli, cmd).await,
        Command::Sync(cmd) => misc::sync(cli, cmd).await,
        Command::Tokens(cmd) => tokens::run(cli, cmd).await,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    lockstep_platform::install_crypto_provider();
    let outcome = match &cli.command {
        // `up` sets up the services' own logging and tracing.
        Command::Up(args) => up::run(args).await,
        command => {
            let (span, _telemetry) = tracing::command_span(command);
            run(&cli, command).instrument(span).await
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // Escaped: the message may repeat text from the server. Written without panicking,
            // whatever became of stderr.
            let message = render::escape(&failure.message);
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::from(failure.code)
        }
    }
}
