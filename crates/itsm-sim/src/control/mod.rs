//! The control API, outside the vendor APIs: `/_sim/…`. Vendor-neutral routes live in `routes`;
//! each vendor emulator adds its own under `/_sim/<vendor>/…`. `client` is the typed Rust client
//! tests and benchmarks use.

pub mod client;
pub mod routes;

pub use crate::faults::{FaultRule, InjectedError};
pub use crate::jira::JiraSettings;
pub use crate::jira::control::JiraAct;
pub use crate::jira::model::{
    Category as JiraCategory, Issue as JiraIssue, Perm as JiraPerm, Project as JiraProject,
    Transition as JiraTransition, User as JiraUser, Workflow as JiraWorkflow,
};
pub use crate::jira::ratelimit::{JiraRateLimit, LimitKind as JiraLimitKind};
pub use crate::jira::seed as jira_seed;
pub use crate::sdp::SdpSettings;
pub use crate::sdp::control::SdpAct;
pub use crate::sdp::model::{SdpWebhook, Status as SdpStatus, Technician as SdpTechnician};
pub use crate::sdp::seed as sdp_seed;
pub use crate::servicenow::SnSettings;
pub use crate::servicenow::auth::{ApiKey, OAuthClient};
pub use crate::servicenow::control::{ActOp, ActRequest, GroupSeed, UserSeed};
pub use crate::servicenow::ratelimit::RateLimitRule;
pub use crate::state::RequestEntry;
pub use crate::webhooks::{
    Delivery, DeliveryBehaviour, DeliveryOutcome, RetryPolicy, Signing, WebhookTarget,
    WebhookTargetSpec,
};
