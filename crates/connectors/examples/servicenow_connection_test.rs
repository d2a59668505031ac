//! Runs the ServiceNow connection test and prints its checks; exits 1 when a check failed.
//!
//! Against the in-process emulator (what `make demo` can run):
//!
//! ```text
//! cargo run -p lockstep-connectors --example servicenow_connection_test -- --emulator
//! ```
//!
//! Against an instance, with credentials from the environment (never the command line):
//! `SN_USER` + `SN_PASSWORD` (Basic); `SN_API_KEY`; or `SN_CLIENT_ID` + `SN_CLIENT_SECRET`
//! (client credentials, or the password grant when `SN_USER` + `SN_PASSWORD` are set too).
//! `SN_CA_PEM` names a PEM file of CA certificates to trust instead of the system roots.
//! Loopback, private and link-local addresses are refused, as in the services, unless
//! `SN_ALLOW_PRIVATE_NETWORKS` lists them (comma-separated networks or host names, the entries
//! of `vendor_http.allow_private_networks`). `--emulator` allows loopback, where it runs.
//!
//! ```text
//! SN_USER=lockstep.integration SN_PASSWORD=… cargo run -p lockstep-connectors \
//!     --example servicenow_connection_test -- https://acme.service-now.com/
//! ```

use std::process::ExitCode;

use lockstep_connectors::http::AllowList;
use lockstep_connectors::servicenow::{
    CheckStatus, ConnectionReport, CredentialsHandle, InstanceUrl, ServiceNowClient,
    ServiceNowConfig, ServiceNowCredentials,
};
use lockstep_connectors::{HttpConfig, HttpExecutor};
use lockstep_crypto::SecretString;
use lockstep_domain::IntegrationId;
use lockstep_itsm_sim::{SimConfig, SimServer};
use serde_json::json;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn credentials_from_env() -> Result<ServiceNowCredentials, String> {
    let secret = |name: &str| env(name).map(SecretString::new);
    match (env("SN_API_KEY"), env("SN_CLIENT_ID"), env("SN_USER")) {
        (Some(key), _, _) => Ok(ServiceNowCredentials::ApiKey {
            key: SecretString::new(key),
        }),
        (None, Some(client_id), Some(username)) => Ok(ServiceNowCredentials::OAuthPassword {
            client_id,
            client_secret: secret("SN_CLIENT_SECRET").ok_or("SN_CLIENT_SECRET is not set")?,
            username,
            password: secret("SN_PASSWORD").ok_or("SN_PASSWORD is not set")?,
        }),
        (None, Some(client_id), None) => Ok(ServiceNowCredentials::OAuthClientCredentials {
            client_id,
            client_secret: secret("SN_CLIENT_SECRET").ok_or("SN_CLIENT_SECRET is not set")?,
        }),
        (None, None, Some(username)) => Ok(ServiceNowCredentials::Basic {
            username,
            password: secret("SN_PASSWORD").ok_or("SN_PASSWORD is not set")?,
        }),
        (None, None, None) => Err(
            "set SN_USER and SN_PASSWORD, SN_API_KEY, or SN_CLIENT_ID and SN_CLIENT_SECRET".into(),
        ),
    }
}

fn print(report: &ConnectionReport) {
    println!("ServiceNow connection test for {}", report.instance);
    if let Some(user) = &report.user_name {
        println!("  account: {user}");
    }
    for check in &report.checks {
        let mark = match check.status {
            CheckStatus::Pass => "PASS",
            CheckStatus::Warn => "WARN",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Skipped => "SKIP",
        };
        println!("  [{mark}] {}: {}", check.title(), check.detail);
        if let Some(problem) = check.problem {
            println!("         problem: {problem:?}");
        }
        if let Some(remedy) = &check.remedy {
            println!("         what to do: {remedy}");
        }
    }
}

async fn run(
    url: &str,
    credentials: ServiceNowCredentials,
    ca_pem: Option<Vec<u8>>,
    allow: AllowList,
) -> Result<ConnectionReport, String> {
    let http = HttpConfig {
        trusted_roots_pem: ca_pem.into_iter().collect(),
        allow_private_networks: allow,
        ..HttpConfig::default()
    };
    let exec = HttpExecutor::new(http).map_err(|e| e.to_string())?;
    let instance = InstanceUrl::parse(url).map_err(|e| e.to_string())?;
    let handle = CredentialsHandle::new(credentials).map_err(|e| e.to_string())?;
    let client = ServiceNowClient::new(
        exec,
        ServiceNowConfig::new(IntegrationId::new(), instance),
        handle,
    );
    Ok(client.test_connection().await)
}

#[tokio::main]
async fn main() -> ExitCode {
    let arg = std::env::args().nth(1).unwrap_or_default();
    let result = if arg == "--emulator" {
        match SimServer::start(SimConfig {
            tls: true,
            ..SimConfig::default()
        })
        .await
        {
            Ok(sim) => {
                // Tickets people opened, so the read and write checks have records to work with.
                let seeded = sim
                    .control()
                    .create_as(
                        "beth.anglin",
                        "incident",
                        json!({"short_description": "Printer jams", "impact": "2", "urgency": "2"}),
                    )
                    .await;
                let change = sim
                    .control()
                    .create_as(
                        "change.manager",
                        "change_request",
                        json!({"short_description": "Patch the web tier"}),
                    )
                    .await;
                if let Err(e) = seeded.and(change) {
                    eprintln!("could not seed the emulator: {e}");
                }
                let credentials = ServiceNowCredentials::Basic {
                    username: "lockstep.integration".into(),
                    password: SecretString::new("lockstep.integration"),
                };
                let ca = sim.ca_cert_pem().map(|p| p.as_bytes().to_vec());
                // The emulator listens on loopback, which the allow-list must name explicitly.
                let report = run(sim.base_url(), credentials, ca, AllowList::loopback()).await;
                sim.shutdown().await;
                report
            }
            Err(e) => Err(format!("cannot start the emulator: {e}")),
        }
    } else if arg.is_empty() || arg.starts_with('-') {
        Err("usage: servicenow_connection_test <instance-url> | --emulator".into())
    } else {
        let ca = match env("SN_CA_PEM").map(std::fs::read).transpose() {
            Ok(ca) => ca,
            Err(e) => {
                eprintln!("cannot read SN_CA_PEM: {e}");
                return ExitCode::from(2);
            }
        };
        let allow = env("SN_ALLOW_PRIVATE_NETWORKS")
            .map(|v| AllowList::parse(v.split(',').filter(|e| !e.trim().is_empty())))
            .transpose()
            .map_err(|e| format!("SN_ALLOW_PRIVATE_NETWORKS: {e}"));
        match (credentials_from_env(), allow) {
            (Ok(credentials), Ok(allow)) => {
                run(&arg, credentials, ca, allow.unwrap_or_default()).await
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    };
    match result {
        Ok(report) => {
            print(&report);
            if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
