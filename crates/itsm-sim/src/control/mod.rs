//! The control API, outside the vendor APIs: `/_sim/…`. Vendor-neutral routes live in `routes`;
//! each vendor emulator adds its own under `/_sim/<vendor>/…`. `client` is the typed Rust client
//! tests and benchmarks use.

pub mod client;
pub mod routes;

pub use crate::faults::{FaultRule, InjectedError};
pub use crate::servicenow::SnSettings;
pub use crate::servicenow::auth::{ApiKey, OAuthClient};
pub use crate::servicenow::control::{ActOp, ActRequest, GroupSeed, UserSeed};
pub use crate::servicenow::ratelimit::RateLimitRule;
pub use crate::state::RequestEntry;
pub use crate::webhooks::{
    Delivery, DeliveryBehaviour, DeliveryOutcome, WebhookTarget, WebhookTargetSpec,
};
