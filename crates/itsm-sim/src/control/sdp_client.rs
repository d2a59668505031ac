//! ServiceDesk Plus part of the typed control client (`/_sim/sdp/…`).

use serde_json::{Value, json};

use super::{ActResult, Result, SimClient};
use crate::sdp::SdpSettings;
use crate::sdp::control::SdpAct;
use crate::sdp::model::{SdpWebhook, Status, Technician};

impl SimClient {
    pub async fn sdp_settings(&self) -> Result<SdpSettings> {
        self.json(self.http.get(self.url("/_sim/sdp/settings")))
            .await
    }

    /// Changes only the given settings, e.g. `json!({"rate_limit_per_minute": 10})`.
    pub async fn patch_sdp_settings(&self, patch: Value) -> Result<SdpSettings> {
        self.json(self.http.patch(self.url("/_sim/sdp/settings")).json(&patch))
            .await
    }

    /// The next `n` v3 calls answer HTTP 200 with a failed `response_status` carrying `code`.
    pub async fn sdp_errors_in_200(&self, n: u32, code: u32) -> Result<SdpSettings> {
        self.patch_sdp_settings(json!({"errors_in_200_remaining": n, "error_in_200_code": code}))
            .await
    }

    /// A webhook as an SDP admin configures it; the answer carries its id and delivery target id
    /// (the header value is never read back).
    pub async fn add_sdp_webhook(&self, hook: &SdpWebhook) -> Result<SdpWebhook> {
        self.json(self.http.post(self.url("/_sim/sdp/webhooks")).json(hook))
            .await
    }

    pub async fn remove_sdp_webhook(&self, id: u64) -> Result<()> {
        let url = self.url(&format!("/_sim/sdp/webhooks/{id}"));
        self.send(self.http.delete(url)).await.map(drop)
    }

    pub async fn sdp_statuses(&self, portal: &str) -> Result<Vec<Status>> {
        let url = self.url(&format!("/_sim/sdp/portals/{portal}/statuses"));
        self.json(self.http.get(url)).await
    }

    /// A status an admin adds (its id is assigned and returned).
    pub async fn add_sdp_status(&self, portal: &str, status: &Status) -> Result<Status> {
        let url = self.url(&format!("/_sim/sdp/portals/{portal}/statuses"));
        self.json(self.http.post(url).json(status)).await
    }

    pub async fn add_sdp_technician(&self, portal: &str, t: &Technician) -> Result<Technician> {
        let url = self.url(&format!("/_sim/sdp/portals/{portal}/technicians"));
        self.json(self.http.post(url).json(t)).await
    }

    /// Replaces the fields a request template makes mandatory (as an admin does in the UI).
    pub async fn set_sdp_template_mandatory(
        &self,
        portal: &str,
        template: &str,
        fields: &[&str],
    ) -> Result<Value> {
        let url = self.url(&format!("/_sim/sdp/portals/{portal}/templates/{template}"));
        self.json(self.http.put(url).json(&json!({ "mandatory": fields })))
            .await
    }

    /// A v3 call made as a technician (a person working in SDP): webhooks fire as for anyone.
    pub async fn sdp_act(&self, act: &SdpAct) -> Result<ActResult> {
        self.json(self.http.post(self.url("/_sim/sdp/act")).json(act))
            .await
    }

    /// Moves a request to the named status as `email_id` (e.g. "Resolved" in the SDP UI).
    pub async fn sdp_set_status(
        &self,
        portal: &str,
        email_id: &str,
        request_id: &str,
        status: &str,
    ) -> Result<ActResult> {
        self.sdp_act(&SdpAct {
            portal: portal.into(),
            email_id: email_id.into(),
            method: "PUT".into(),
            path: format!("requests/{request_id}"),
            input_data: Some(json!({"request": {"status": {"name": status}}})),
        })
        .await
    }
}
