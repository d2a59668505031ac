//! Pure types and rules of Lockstep: identifiers, severities, finding statuses, vendors, and the
//! rules that turn them into ticket fields and finding transitions. No IO lives here.

pub mod ids;
pub mod vocab;

pub use ids::{
    ActivityId, ApiTokenId, FindingId, IntegrationId, MappingRuleId, PresetId, TenantId,
    TicketLinkId,
};
pub use vocab::{FindingStatus, ParseVocabError, Severity, SyncChannel, Vendor};
