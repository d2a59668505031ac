//! Integration tests of the emulator, over real HTTP against in-process servers on port 0.

mod auth;
mod batch;
mod control;
mod display;
mod faults;
mod helpers;
mod jira;
mod jira_control;
mod jira_hooks;
mod queries;
mod ratelimit;
mod rules;
mod sdp;
mod table_api;
mod transport;
mod webhooks;
