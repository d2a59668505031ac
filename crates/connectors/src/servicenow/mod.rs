//! The ServiceNow connector: everything Lockstep says to and hears from a ServiceNow instance.
//!
//! - [`url`]: instance URL normalisation.
//! - [`auth`]: Basic, OAuth 2.0 and API key credentials, rotation, token cache.
//! - [`client`]: [`ServiceNowClient`], the authenticated Table API call and error mapping.
//! - [`record`]: [`SnRecord`] and the one parser to [`lockstep_domain::TicketObservation`].
//! - [`writes`], [`bulk`]: tickets created, found, moved, noted; bulk creation via the Batch API.
//! - [`feed`]: the change feed the poller runs.
//! - [`webhook`]: the inbound webhook payload parser (verification is [`crate::webhook`]).
//! - [`connector`]: [`ServiceNowSpec`] and the [`crate::Connector`] implementation.
//! - [`mapping`]: mapping rules checked against the instance's choice lists.
//! - [`sla`], [`choices`]: task_sla due times and breaches; valid choice values.
//! - [`connection_test`]: the structured connection and permission test.

pub mod auth;
pub mod bulk;
pub mod choices;
pub mod client;
pub mod connection_test;
pub mod connector;
pub mod feed;
mod list;
pub mod mapping;
mod oauth;
pub mod record;
pub mod sla;
pub mod url;
pub mod webhook;
pub mod writes;

pub use auth::{AuthKind, CredentialsHandle, ServiceNowCredentials};
pub use bulk::BulkOutcome;
pub use choices::{Choice, ChoiceSource, InstanceChoices};
pub use client::{ServiceNowClient, ServiceNowConfig};
pub use connection_test::{Check, CheckId, CheckStatus, ConnectionReport, Problem};
pub use connector::ServiceNowSpec;
pub use feed::FeedBatch;
pub use record::{SnField, SnRecord, observation_from_record};
pub use sla::{SlaRecord, SlaStage, TicketSla};
pub use url::InstanceUrl;
pub use webhook::{WebhookEvent, parse_webhook};
pub use writes::{CreatedTicket, NewTicket, StateChange};
