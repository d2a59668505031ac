//! `itsm-sim`: runs the emulators as a process. Prints exactly one line to stdout once listening,
//! `itsm-sim listening on <base url>`, so scripts can find the port.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use lockstep_itsm_sim::{SimConfig, SimServer};

#[derive(Parser, Debug)]
#[command(
    name = "itsm-sim",
    about = "ServiceNow (and later Jira/SDP) emulator for tests and demos"
)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Serve HTTPS with a certificate generated at start.
    #[arg(long)]
    tls: bool,
    /// Seed for injected faults, webhook misbehaviour, sys_ids and tokens.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Extra host name for the certificate (repeatable).
    #[arg(long = "host")]
    hosts: Vec<String>,
    /// Write the CA certificate (PEM) clients must trust to this file.
    #[arg(long)]
    ca_out: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let sim = SimServer::start(SimConfig {
        listen: args.listen,
        tls: args.tls,
        seed: args.seed,
        extra_hosts: args.hosts,
    })
    .await?;
    if let (Some(path), Some(pem)) = (&args.ca_out, sim.ca_cert_pem()) {
        std::fs::write(path, pem)?;
    }
    println!("itsm-sim listening on {}", sim.base_url());
    std::io::stdout().flush()?;

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    sim.shutdown().await;
    Ok(())
}
