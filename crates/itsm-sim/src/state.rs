//! Shared state of one emulator process: every vendor emulator plus the common machinery.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::clock::SimClock;
use crate::faults::Faults;
use crate::jira::Jira;
use crate::rng::SimRng;
use crate::sdp::Sdp;
use crate::servicenow::ServiceNow;
use crate::webhooks::Webhooks;

pub struct SimState {
    pub base_url: String,
    pub clock: Arc<SimClock>,
    pub rng: Arc<SimRng>,
    pub faults: Faults,
    pub webhooks: Arc<Webhooks>,
    pub servicenow: Arc<ServiceNow>,
    pub jira: Arc<Jira>,
    pub sdp: Arc<Sdp>,
    pub ca_pem: Option<String>,
    pub requests: RequestLog,
}

impl SimState {
    /// Everything back to how it was at start (same seed, same data, no faults, no targets).
    pub fn reset(&self) {
        self.servicenow.reset();
        self.jira.reset();
        self.sdp.reset();
        self.faults.set(Vec::new());
        self.webhooks.reset();
        self.clock.reset();
        self.rng.reseed(None);
        self.requests.clear();
    }
}

/// What reached the emulator, for tests that assert on client behaviour (retries, back-off).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestEntry {
    pub at_ms: i64,
    pub method: String,
    pub path: String,
    pub query: String,
    /// Absent when the connection was reset by a fault.
    pub status: Option<u16>,
    pub fault: Option<String>,
    /// The W3C `traceparent` header the client sent, if any (Lockstep's executor sends its
    /// client span's).
    #[serde(default)]
    pub traceparent: Option<String>,
}

const MAX_LOGGED: usize = 10_000;

#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<VecDeque<RequestEntry>>,
}

impl RequestLog {
    pub fn push(&self, e: RequestEntry) {
        let mut entries = self.entries.lock();
        if entries.len() == MAX_LOGGED {
            entries.pop_front();
        }
        entries.push_back(e);
    }

    pub fn list(&self) -> Vec<RequestEntry> {
        self.entries.lock().iter().cloned().collect()
    }

    pub fn clear(&self) {
        self.entries.lock().clear();
    }
}
