//! `itsm-sim`: in-process emulators of the ITSM vendor APIs Lockstep talks to.
//!
//! The ServiceNow emulator (`servicenow`) follows `shared/reference/servicenow-api.md`: Table API,
//! Batch API, OAuth, API keys, ACLs by role, business rules, task_sla, rate-limit rules and signed
//! outbound webhooks. The Jira Cloud (`jira`) and ServiceDesk Plus v3 (`sdp`) emulators are sibling
//! modules sharing the vendor-neutral machinery: fault injection (`faults`), webhook delivery
//! (`webhooks`), TLS (`tls`), the simulated clock (`clock`), seeded randomness (`rng`) and the
//! control API (`control`, served under `/_sim/`).
//!
//! Tests start it in-process on port 0:
//!
//! ```no_run
//! # async fn demo() -> Result<(), lockstep_itsm_sim::SimError> {
//! use lockstep_itsm_sim::{SimConfig, SimServer};
//! let sim = SimServer::start(SimConfig { tls: true, ..SimConfig::default() }).await?;
//! let http = sim.http_client(); // trusts the generated certificate
//! let _ = http.get(format!("{}/api/now/table/incident", sim.base_url())).send().await;
//! sim.control().resolve_incident("INC0010001", "beth.anglin", "Solution provided", "fixed").await?;
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

pub mod clock;
pub mod control;
pub mod faults;
pub mod jira;
pub mod rng;
pub mod sdp;
pub mod server;
pub mod servicenow;
pub mod state;
pub mod tls;
pub mod webhooks;

pub use control::client::{SimClient, SimClientError};
pub use server::{SimConfig, SimError, SimHandle, SimServer};
