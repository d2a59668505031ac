//! Integration tests of the connectors against the in-process ServiceNow emulator (`itsm-sim`,
//! HTTPS on port 0, one emulator per test). One binary, one module per area.

mod support;

mod auth;
mod bulk;
mod choices;
mod connection;
mod destination;
mod feed;
mod http;
mod jira;
mod jira_oauth;
mod jira_push;
mod jira_support;
mod jira_webhook_setup;
mod read_ticket;
mod sdp;
mod sdp_levels;
mod sdp_sync;
mod sla;
mod webhook;
mod writes;
