//! The ManageEngine ServiceDesk Plus connector (v3 API, on premises and Cloud): everything
//! Lockstep says to and hears from an SDP portal. Facts: `shared/reference/jira-sdp-api.md`
//! Part B; what it marks UNCONFIRMED and is relied on here is said where it is used.
//!
//! - [`url`]: the portal address (`https://<host>/` or `https://<domain>/app/<portal>/`).
//! - [`auth`]: the technician key (`authtoken`) or a Zoho OAuth token (`Zoho-oauthtoken`).
//! - [`client`]: [`SdpClient`], one v3 call (`input_data`, the v3 `Accept`), and [`errors`]:
//!   SDP's error envelope, also inside an HTTP 200, mapped to errors with remedies.
//! - [`record`]: the one parser of a request into a `TicketObservation` (feed, writes, webhook).
//! - [`meta`]: lookups, UDFs, mandatory fields; field metadata and the mapping check.
//! - [`writes`]: create (checked before anything is created), correlation search, links, push.
//! - [`feed`]: the change feed; [`webhook`]: the token scheme and our payload's parser.
//! - [`connection_test`]; [`connector`]: [`ServiceDeskPlusSpec`] and the `Connector` impl.

pub mod auth;
pub mod client;
pub mod connection_test;
pub mod connector;
pub mod errors;
pub mod feed;
pub mod meta;
pub mod record;
pub mod url;
pub mod webhook;
pub mod writes;

pub use client::{ACCEPT_V3, SdpClient, SdpConfig};
pub use connector::ServiceDeskPlusSpec;
pub use url::PortalUrl;
pub use webhook::{SdpTokenAuth, parse_webhook};
