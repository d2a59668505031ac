//! Typed client for the control API, used by this crate's tests, the connector tests, benchmarks
//! and the demo. Every method maps to one `/_sim/…` call.

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::{
    ActOp, ActRequest, ApiKey, Delivery, DeliveryBehaviour, DeliveryOutcome, FaultRule, GroupSeed,
    OAuthClient, RateLimitRule, RequestEntry, SnSettings, UserSeed, WebhookTarget,
    WebhookTargetSpec,
};
use crate::tls::install_crypto_provider;

#[path = "jira_client.rs"]
mod jira;
pub use jira::ActResult;
#[path = "sdp_client.rs"]
mod sdp;

#[derive(Debug, thiserror::Error)]
pub enum SimClientError {
    #[error("control request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// A non-2xx answer; `body` is the response text (for `act`, the ServiceNow error envelope).
    #[error("control API answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("timed out waiting for {0}")]
    Timeout(String),
}

pub type Result<T> = std::result::Result<T, SimClientError>;

/// A raw record: every column as a string.
pub type RawRecord = Map<String, Value>;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Seeded {
    #[serde(alias = "user_name")]
    pub name: String,
    pub sys_id: String,
}

#[derive(Clone, Debug)]
pub struct SimClient {
    base: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct ResultOf<T> {
    result: T,
}

impl SimClient {
    pub fn new(base_url: &str, ca_pem: Option<&str>) -> Result<Self> {
        install_crypto_provider();
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
        if let Some(pem) = ca_pem {
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes())?);
        }
        Ok(Self {
            base: base_url.trim_end_matches('/').to_string(),
            http: builder.build()?,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let resp = req.send().await?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            let status = resp.status().as_u16();
            Err(SimClientError::Status {
                status,
                body: resp.text().await.unwrap_or_default(),
            })
        }
    }

    async fn json<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T> {
        Ok(self.send(req).await?.json().await?)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    // ---- common ------------------------------------------------------------------------------

    pub async fn reset(&self) -> Result<()> {
        self.send(self.http.post(self.url("/_sim/reset")))
            .await
            .map(drop)
    }

    pub async fn ca_pem(&self) -> Result<String> {
        Ok(self
            .send(self.http.get(self.url("/_sim/tls/ca.pem")))
            .await?
            .text()
            .await?)
    }

    pub async fn set_faults(&self, rules: &[FaultRule]) -> Result<Vec<FaultRule>> {
        self.json(self.http.put(self.url("/_sim/faults")).json(rules))
            .await
    }

    pub async fn clear_faults(&self) -> Result<()> {
        self.send(self.http.delete(self.url("/_sim/faults")))
            .await
            .map(drop)
    }

    pub async fn add_webhook_target(&self, spec: &WebhookTargetSpec) -> Result<WebhookTarget> {
        self.json(
            self.http
                .post(self.url("/_sim/webhooks/targets"))
                .json(spec),
        )
        .await
    }

    pub async fn webhook_targets(&self) -> Result<Vec<WebhookTarget>> {
        self.json(self.http.get(self.url("/_sim/webhooks/targets")))
            .await
    }

    pub async fn remove_webhook_target(&self, id: &str) -> Result<()> {
        self.send(
            self.http
                .delete(self.url(&format!("/_sim/webhooks/targets/{id}"))),
        )
        .await
        .map(drop)
    }

    pub async fn set_delivery_behaviour(&self, b: &DeliveryBehaviour) -> Result<DeliveryBehaviour> {
        self.json(self.http.put(self.url("/_sim/webhooks/behaviour")).json(b))
            .await
    }

    pub async fn deliveries(&self) -> Result<Vec<Delivery>> {
        self.json(self.http.get(self.url("/_sim/webhooks/deliveries")))
            .await
    }

    pub async fn clear_deliveries(&self) -> Result<()> {
        self.send(self.http.delete(self.url("/_sim/webhooks/deliveries")))
            .await
            .map(drop)
    }

    /// Sends a recorded delivery again (same `webhook-id`); returns the new delivery's id.
    pub async fn redeliver(&self, delivery_id: u64) -> Result<u64> {
        let v: Value = self
            .json(self.http.post(self.url(&format!(
                "/_sim/webhooks/deliveries/{delivery_id}/redeliver"
            ))))
            .await?;
        Ok(v["delivery_id"].as_u64().unwrap_or_default())
    }

    /// Waits until at least `n` deliveries exist and none is still pending.
    pub async fn wait_for_deliveries(&self, n: usize, timeout: Duration) -> Result<Vec<Delivery>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let all = self.deliveries().await?;
            if all.len() >= n && all.iter().all(|d| d.outcome != DeliveryOutcome::Pending) {
                return Ok(all);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(SimClientError::Timeout(format!(
                    "{n} webhook deliveries (have {})",
                    all.len()
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Moves the emulator's clock forward (record timestamps, token expiry, SLA timings).
    pub async fn advance_clock(&self, seconds: i64) -> Result<()> {
        self.send(
            self.http
                .post(self.url("/_sim/clock/advance"))
                .json(&json!({"seconds": seconds})),
        )
        .await
        .map(drop)
    }

    pub async fn requests(&self) -> Result<Vec<RequestEntry>> {
        self.json(self.http.get(self.url("/_sim/requests"))).await
    }

    pub async fn clear_requests(&self) -> Result<()> {
        self.send(self.http.delete(self.url("/_sim/requests")))
            .await
            .map(drop)
    }

    // ---- ServiceNow --------------------------------------------------------------------------

    /// Creates or replaces users (with their roles); returns their sys_ids.
    pub async fn seed_users(&self, users: &[UserSeed]) -> Result<Vec<Seeded>> {
        self.json(
            self.http
                .post(self.url("/_sim/servicenow/users"))
                .json(users),
        )
        .await
    }

    pub async fn seed_groups(&self, groups: &[GroupSeed]) -> Result<Vec<Seeded>> {
        self.json(
            self.http
                .post(self.url("/_sim/servicenow/groups"))
                .json(groups),
        )
        .await
    }

    pub async fn add_oauth_clients(&self, clients: &[OAuthClient]) -> Result<()> {
        self.send(
            self.http
                .post(self.url("/_sim/servicenow/oauth/clients"))
                .json(clients),
        )
        .await
        .map(drop)
    }

    pub async fn add_api_keys(&self, keys: &[ApiKey]) -> Result<()> {
        self.send(
            self.http
                .post(self.url("/_sim/servicenow/api-keys"))
                .json(keys),
        )
        .await
        .map(drop)
    }

    pub async fn settings(&self) -> Result<SnSettings> {
        self.json(self.http.get(self.url("/_sim/servicenow/settings")))
            .await
    }

    /// Changes only the given settings, e.g. `json!({"basic_auth_gate": true})`.
    pub async fn patch_settings(&self, patch: Value) -> Result<SnSettings> {
        self.json(
            self.http
                .patch(self.url("/_sim/servicenow/settings"))
                .json(&patch),
        )
        .await
    }

    /// Instance-wide OAuth token lifespans (1800 s and 8,640,000 s by default).
    pub async fn set_token_lifespans(
        &self,
        access_secs: u64,
        refresh_secs: u64,
    ) -> Result<SnSettings> {
        self.patch_settings(json!({"access_token_lifespan_secs": access_secs, "refresh_token_lifespan_secs": refresh_secs}))
            .await
    }

    pub async fn set_rate_limits(&self, rules: &[RateLimitRule]) -> Result<Vec<RateLimitRule>> {
        self.json(
            self.http
                .put(self.url("/_sim/servicenow/rate-limits"))
                .json(rules),
        )
        .await
    }

    /// Acts as a person in the UI; returns the record as stored. Business rules and data policies
    /// apply (a refused write is `SimClientError::Status { status: 403, .. }`).
    pub async fn act(&self, req: &ActRequest) -> Result<RawRecord> {
        let r: ResultOf<RawRecord> = self
            .json(self.http.post(self.url("/_sim/servicenow/act")).json(req))
            .await?;
        Ok(r.result)
    }

    pub async fn create_as(&self, user: &str, table: &str, fields: Value) -> Result<RawRecord> {
        self.act(&ActRequest {
            user: user.into(),
            table: table.into(),
            op: ActOp::Insert,
            record: None,
            fields: as_map(fields),
        })
        .await
    }

    /// `record` is a number (`INC0010001`) or a sys_id.
    pub async fn update_as(
        &self,
        user: &str,
        table: &str,
        record: &str,
        fields: Value,
    ) -> Result<RawRecord> {
        self.act(&ActRequest {
            user: user.into(),
            table: table.into(),
            op: ActOp::Update,
            record: Some(record.into()),
            fields: as_map(fields),
        })
        .await
    }

    /// In Progress, assigned to `user`.
    pub async fn start_incident(&self, number: &str, user: &str) -> Result<RawRecord> {
        self.update_as(
            user,
            "incident",
            number,
            json!({"state": "2", "assigned_to": "javascript:gs.getUserID()"}),
        )
        .await
    }

    pub async fn hold_incident(
        &self,
        number: &str,
        user: &str,
        hold_reason: &str,
    ) -> Result<RawRecord> {
        self.update_as(
            user,
            "incident",
            number,
            json!({"state": "3", "hold_reason": hold_reason}),
        )
        .await
    }

    pub async fn resolve_incident(
        &self,
        number: &str,
        user: &str,
        close_code: &str,
        close_notes: &str,
    ) -> Result<RawRecord> {
        self.update_as(
            user,
            "incident",
            number,
            json!({"state": "6", "close_code": close_code, "close_notes": close_notes}),
        )
        .await
    }

    pub async fn close_incident(
        &self,
        number: &str,
        user: &str,
        close_code: &str,
        close_notes: &str,
    ) -> Result<RawRecord> {
        self.update_as(
            user,
            "incident",
            number,
            json!({"state": "7", "close_code": close_code, "close_notes": close_notes}),
        )
        .await
    }

    pub async fn cancel_incident(&self, number: &str, user: &str) -> Result<RawRecord> {
        self.update_as(user, "incident", number, json!({"state": "8"}))
            .await
    }

    pub async fn reopen_incident(&self, number: &str, user: &str) -> Result<RawRecord> {
        self.update_as(user, "incident", number, json!({"state": "2"}))
            .await
    }

    /// Moves a change_request to a state (`-5` New … `3` Closed, `4` Canceled).
    pub async fn move_change(&self, number: &str, user: &str, state: &str) -> Result<RawRecord> {
        self.update_as(user, "change_request", number, json!({"state": state}))
            .await
    }

    pub async fn close_change(
        &self,
        number: &str,
        user: &str,
        close_code: &str,
        close_notes: &str,
    ) -> Result<RawRecord> {
        self.update_as(
            user,
            "change_request",
            number,
            json!({"state": "3", "close_code": close_code, "close_notes": close_notes}),
        )
        .await
    }

    /// A record by number or sys_id, every column raw.
    pub async fn record(&self, table: &str, key: &str) -> Result<RawRecord> {
        let r: ResultOf<RawRecord> = self
            .json(
                self.http
                    .get(self.url(&format!("/_sim/servicenow/records/{table}/{key}"))),
            )
            .await?;
        Ok(r.result)
    }

    /// Records matching an encoded query (evaluated as admin).
    pub async fn records(&self, table: &str, encoded_query: &str) -> Result<Vec<RawRecord>> {
        let r: ResultOf<Vec<RawRecord>> = self
            .json(
                self.http
                    .get(self.url(&format!("/_sim/servicenow/records/{table}")))
                    .query(&[("query", encoded_query)]),
            )
            .await?;
        Ok(r.result)
    }

    /// Runs the SLA job now; returns how many task_sla rows it refreshed.
    pub async fn recalculate_slas(&self) -> Result<u64> {
        let v: Value = self
            .json(self.http.post(self.url("/_sim/servicenow/sla/recalculate")))
            .await?;
        Ok(v["updated"].as_u64().unwrap_or_default())
    }
}

fn as_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
