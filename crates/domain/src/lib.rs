//! Pure types and rules of Lockstep: identifiers, severities, finding statuses, vendors, and the
//! rules that turn them into ticket fields and finding transitions. No IO lives here.
//!
//! The main entry points:
//!
//! - [`MappingRules`]: an integration's admin-editable rules (severity → priority fields,
//!   inbound and outbound status rules), with [`MappingRules::defaults`] per vendor.
//! - [`TicketDraft::build`]: what a ticket for a finding would contain (preview and creation).
//! - [`TicketRequest`], [`TicketMode`], [`FindingSelection`]: creation requests checked before
//!   any vendor call.
//! - [`TicketObservation`] and [`apply`]: what a vendor ticket says, and what that does to the
//!   finding ([`Transition`]).

pub mod activity;
pub mod draft;
pub mod error;
pub mod finding;
pub mod ids;
pub mod label;
pub mod observation;
pub mod push;
pub mod rules;
pub mod servicenow;
pub mod severity;
pub mod template;
pub mod text;
pub mod ticket;
pub mod ticket_request;
pub mod transition;
pub mod version;
pub mod vocab;

pub use activity::ActivityKind;
pub use draft::{
    DEFAULT_SUMMARY_TEMPLATE, DraftPriority, FieldSource, FieldValues, PreviewRow, Sourced,
    TicketDraft,
};
pub use error::DomainError;
pub use finding::{Cve, Cwe, Finding, ScannerKey};
pub use ids::{
    ActivityId, ApiTokenId, FindingId, IntegrationId, MappingRuleId, ParseIdError, PresetId,
    TenantId, TicketLinkId,
};
pub use label::Label;
pub use observation::{ObservedFields, TicketObservation};
pub use rules::inbound::{
    InboundEffect, InboundRules, ResolutionRule, RuleMatch, StateMatch, StateRule,
};
pub use rules::outbound::{OutboundPush, OutboundRule, OutboundRules};
pub use rules::{KindRules, MappedPriority, MappingRules};
pub use servicenow::{Impact, Priority, ServiceNowTable, Urgency};
pub use severity::{BySeverity, LevelNames, ServiceNowFields};
pub use template::Template;
pub use text::Title;
pub use ticket::{
    CorrelationId, ExternalId, JiraProjectKey, TicketKey, TicketKind, TicketRef, TicketTarget,
};
pub use ticket_request::{BULK_LIMIT, FindingSelection, TicketMode, TicketRequest};
pub use transition::{
    Arrival, DEFAULT_MAX_CLOCK_SKEW, LinkState, LocalStatus, Outcome, Transition, TransitionPolicy,
    VendorSnapshot, apply,
};
pub use version::VendorVersion;
pub use vocab::{FindingStatus, ParseVocabError, Severity, SyncChannel, Vendor};
